"""`muster init`, `muster demo` and `muster serve`: set-up and running, idempotent."""

import datetime as dt
import json
import os
import secrets
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from muster import keys


def init() -> dict:
    """Create or migrate the database and the keys; safe to run any number of times."""
    call_command("migrate", interactive=False, verbosity=0)
    keys.ensure_ed25519("audit")
    keys.exchange_public_key_file()
    from muster.exchange.models import Peer

    Peer.objects.filter(name="border", url="").update(url=settings.MUSTER_PEER_BORDER_URL)
    from muster.documents.pki import ensure_demo_ca

    ensure_demo_ca()
    from muster.registry.models import Office

    return {
        "database": connection.vendor,
        "home": str(settings.MUSTER_HOME),
        "offices": Office.objects.count(),
        "keys": sorted(p.name for p in keys.key_dir().glob("*.pem")),
    }


# The population register first: it is the only source that creates persons.
SOURCE_ORDER = ("population", "interior", "health", "education", "elections", "digital", "civil", "social")

DEMO_USERS = (
    ("clerk", "clerk"),
    ("head", "office_head"),
    ("regional", "regional"),
    ("auditor", "auditor"),
    ("admin", "admin"),
    ("citizen", "citizen"),
)


def _demo_citizen(as_of: dt.date):
    from muster.registry.models import Person, RegistrationStatus

    return (
        Person.objects.filter(registration_status=RegistrationStatus.CALL_UP_AGE, phone__isnull=False)
        .order_by("national_id")
        .first()
    )


def demo_accounts(as_of: dt.date) -> list[dict]:
    """The demo users, made once per MUSTER_HOME; their passwords live in a 0600 file there."""
    from muster.accounts import services
    from muster.accounts.models import User
    from muster.audit.services import Actor

    path = Path(settings.MUSTER_HOME) / "demo-accounts.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    citizen = _demo_citizen(as_of)
    if citizen is None:
        raise RuntimeError("the demo population has no person of call-up age")
    out = []
    for username, role in DEMO_USERS:
        entry = stored.get(username)
        if entry is None or not User.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(9)
            office = citizen.office_id if role in ("clerk", "office_head", "regional") else None
            nid = citizen.national_id if role == "citizen" else None
            User.objects.filter(username=username).delete()
            services.add_user(
                username, role, password, actor=Actor.system("demo"), now=timezone.now(), office=office, national_id=nid
            )
            entry = {"username": username, "password": password, "role": role, "office": office, "national_id": nid}
            stored[username] = entry
        out.append(entry)
    path.write_text(json.dumps(stored, indent=1))
    path.chmod(0o600)
    return out


def demo(persons: int, port: int, quiet: bool = False) -> dict:
    from muster.audit.services import Actor, checkpoint
    from muster.feeds import services as feeds
    from muster.feeds.synthetic import generate

    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    info = init()
    feeds_dir = Path(settings.MUSTER_HOME) / f"demo-feeds-{persons}"
    if not (feeds_dir / "population.jsonl").exists():
        say(f"Generating a synthetic population of {persons:,} persons in {feeds_dir} ...")
        generate(persons, feeds_dir, seed=1)
    now = timezone.now()
    results = {}
    for source in SOURCE_ORDER:
        result = feeds.ingest(
            source, feeds_dir / f"{source}.jsonl", actor=Actor.system("demo"), now=now, progress=not quiet
        )
        results[source] = result
        say(
            f"{source:10} {result['received']:>8,} lines: {result['applied']:,} applied, "
            f"{result['unchanged']:,} unchanged, {result['review']:,} to review, "
            f"{result['quarantined']:,} quarantined"
        )
    accounts = demo_accounts(timezone.localdate(now))
    checkpoint(timezone.now())
    base = f"http://127.0.0.1:{port}"
    urls = {
        "portal": f"{base}/",
        "office": f"{base}/office/",
        "api": f"{base}/api/docs",
        "openapi": f"{base}/api/openapi.json",
        "verify": f"{base}/verify/",
        "exchange": f"{base}/office/exchange/",
        "border_check": f"{settings.MUSTER_PEER_BORDER_URL}/check",
    }
    if not quiet:
        print(f"\nmuster demo ({info['database']}, home {info['home']})")
        for name, url in urls.items():
            print(f"  {name:8} {url}")
        print("\nDemo accounts (password file: demo-accounts.json in MUSTER_HOME):")
        for a in accounts:
            extra = a["office"] or a["national_id"] or ""
            print(f"  {a['username']:9} {a['password']:14} {a['role']:12} {extra}")
        print("\nStop with Ctrl-C.", flush=True)
    return {"urls": urls, "accounts": accounts, "feeds": results, **info}


def start_companions(port: int, quiet: bool = False) -> list:
    """The border peer, the exchange worker and the clock beside the web app (demo)."""
    import atexit
    import subprocess
    from urllib.parse import urlsplit

    exe = str(Path(sys.executable).parent / "muster")
    border_port = urlsplit(settings.MUSTER_PEER_BORDER_URL).port or 8101
    out = None if not quiet else subprocess.DEVNULL
    env = {**os.environ, "MUSTER_ACCESS_LOG": ""}  # the peer's polling would flood the terminal
    procs = [
        subprocess.Popen([exe, "peer", "border", "--port", str(border_port)], stdout=out, stderr=out, env=env),
        subprocess.Popen(
            [exe, "exchange", "run", "--trust-on-first-use", "--interval", "0.3", "--snapshot-every", "600"],
            stdout=out,
            stderr=out,
            env=env,
        ),
        subprocess.Popen([exe, "tick", "--every", "60"], stdout=out, stderr=out, env=env),
    ]

    owner = os.getpid()

    def stop():
        if os.getpid() != owner:  # a forked web worker exiting must not stop them
            return
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()

    atexit.register(stop)
    return procs


def serve(port: int, workers: int = 2) -> None:
    """Run gunicorn in this process (a production WSGI server; not runserver)."""
    from gunicorn.app.base import BaseApplication

    from muster.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"127.0.0.1:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", os.environ.get("MUSTER_ACCESS_LOG", "-") or None)
            self.cfg.set("timeout", 60)
            # One control socket path per user would be shared by every gunicorn on the machine.
            self.cfg.set("control_socket_disable", True)

        def load(self):
            return application

    connection.close()
    Server().run()
