"""The `muster` command line (SPEC section 3): a stable contract for operators and tests.

Every command takes --json and prints one JSON object; it exits 0 on success and 1
with a one-line reason on error.
"""

import argparse
import datetime as dt
import getpass
import os
import sys
from pathlib import Path

import orjson


class CommandError(Exception):
    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code = code
        self.extra = extra


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    import django

    django.setup()


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _operator():
    from muster.audit.services import Actor

    return Actor(f"cli:{getpass.getuser()}", "operator")


def _datetime(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        from django.utils import timezone

        moment = timezone.make_aware(moment)
    return moment


# -- commands ---------------------------------------------------------------


def cmd_init(args) -> dict:
    from muster import setup

    return setup.init()


def cmd_generate(args) -> dict:
    from muster.feeds.synthetic import generate

    if args.persons < 1:
        raise CommandError("persons.invalid", "--persons must be at least 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return generate(args.persons, out, seed=args.seed, progress=not args.json and sys.stderr.isatty())


def cmd_ingest(args) -> dict:
    from muster.feeds import services

    try:
        result = services.ingest(
            args.source,
            Path(args.file),
            actor=_operator(),
            now=_now(),
            receipt=Path(args.receipt) if args.receipt else None,
            progress=not args.json,
        )
    except services.IngestError as exc:
        raise CommandError("ingest.refused", str(exc)) from None
    return result


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def cmd_evaluate(args) -> dict:
    from django.utils import timezone

    from muster.registry.models import Person
    from muster.rules import services

    now = _now()
    today = timezone.localdate(now)
    as_of = args.as_of or today
    if args.person:
        person = Person.objects.filter(national_id=args.person).first()
        if person is None:
            raise CommandError("person.not_found", f"no person with national_id {args.person}")
        return services.explain(person, as_of)
    overrides = None
    if args.what_if:
        try:
            overrides = services.load_overrides(Path(args.what_if), as_of)
        except ValueError as exc:
            raise CommandError("what_if.invalid", str(exc)) from None
    # Decisions are stored for the legal present only; other dates and what-ifs write nothing.
    write = overrides is None and as_of == today
    return services.evaluate(
        now=now,
        as_of=as_of,
        actor=_operator(),
        write=write,
        overrides=overrides,
        rebuild_features=args.rebuild_features,
    )


def _summons_result(s) -> dict:
    from muster.summons.views import summons_json

    return summons_json(s)


def _refusal(exc) -> CommandError:
    return CommandError(exc.code, str(exc), **({"ground": exc.ground} if exc.ground else {}))


def cmd_summons(args) -> dict:
    from muster.summons import services

    now = _now()
    actor = _operator()
    try:
        match args.summons_command:
            case "issue":
                s = services.issue(
                    actor, args.person, args.purpose, args.appear_at, now=args.at or now, place=args.place
                )
            case "appear":
                s = services.appear(actor, args.number, at=args.at or now, now=max(now, args.at or now))
            case "cancel":
                s = services.cancel(actor, args.number, args.reason, now=args.at or now)
            case "deliver":
                s = services.deliver(actor, args.number, args.channel, at=args.at or now, now=max(now, args.at or now))
            case "reason":
                s = services.excuse(actor, args.number, args.reason, now=args.at or now)
    except services.Refused as exc:
        raise _refusal(exc) from None
    return _summons_result(s)


def cmd_tick(args) -> dict:
    import time

    from muster.summons.clock import tick

    if not args.every:
        return tick(args.now or _now(), _operator())
    while True:  # the served system's periodic clock
        tick(_now(), _operator())
        time.sleep(args.every)


def cmd_exchange_run(args) -> dict:
    import time

    from muster.exchange import services

    last_snapshot = 0.0
    while True:
        if args.trust_on_first_use:
            services.trust_on_first_use(actor=_operator(), now=_now())
        due = args.snapshot_every > 0 and time.monotonic() - last_snapshot >= args.snapshot_every
        out = services.run_once(peer_name=args.peer, snapshot_due=due and not args.once)
        if due:
            last_snapshot = time.monotonic()
        if args.once:
            return out
        time.sleep(args.interval)


def cmd_exchange_trust(args) -> dict:
    from muster.exchange import services

    try:
        pem = Path(args.key).read_text()
        peer = services.trust(args.peer, pem, actor=_operator(), now=_now())
    except (OSError, ValueError) as exc:
        raise CommandError("key.invalid", f"{args.key}: {exc}") from None
    return {"peer": peer.name, "trusted": True}


def cmd_exchange_status(args) -> dict:
    from muster.exchange.views import peer_status

    return {"peers": peer_status(_now())}


def cmd_peer_border(args) -> dict:
    from django.conf import settings

    from muster import keys
    from muster.exchange.border.app import run

    home = Path(args.home) if args.home else Path(settings.MUSTER_HOME) / "border"
    run(args.port, home, keys.exchange_public_key_file())
    return {}


def cmd_person(args) -> dict:
    from muster.registry import services

    person = services.read_person_operator(args.national_id, actor=_operator(), now=_now(), purpose=args.purpose)
    if person is None:
        raise CommandError("person.not_found", f"no person with national_id {args.national_id}")
    return services.person_record(person)


def cmd_audit_verify(args) -> dict:
    from muster.audit import services

    result = services.verify()
    if not result.ok:
        raise CommandError("audit.broken", result.problem, **result.as_dict())
    return result.as_dict()


def cmd_audit_checkpoint(args) -> dict:
    from muster.audit import services

    cp = services.checkpoint(_now())
    return {"checkpoint": cp.entry_id if cp else None}


def cmd_user_add(args) -> dict:
    from muster.accounts import services

    password = os.environ.get("MUSTER_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError("password.missing", "set MUSTER_PASSWORD or run on a terminal to be asked")
        password = getpass.getpass(f"Password for {args.username}: ")
    try:
        user = services.add_user(
            args.username,
            args.role,
            password,
            actor=_operator(),
            now=_now(),
            office=args.office,
            national_id=args.national_id,
        )
    except services.Refused as exc:
        raise CommandError(exc.code, str(exc)) from None
    return {"username": user.username, "role": user.role, "office": user.office_id, "national_id": user.national_id}


def cmd_user_token(args) -> dict:
    from muster.accounts import services
    from muster.accounts.models import User

    user = User.objects.filter(username=args.username).first()
    if user is None:
        raise CommandError("user.not_found", f"no user {args.username!r}")
    return {"username": user.username, "token": services.new_token(user, actor=_operator(), now=_now())}


def cmd_serve(args) -> dict:
    from muster import setup

    setup.serve(args.port, workers=args.workers)
    return {}


def cmd_demo(args) -> dict:
    from muster import setup

    # The summons QR codes point at the address the demo serves.
    os.environ.setdefault("MUSTER_PUBLIC_URL", f"http://127.0.0.1:{args.port}")
    info = setup.demo(persons=args.persons, port=args.port, quiet=args.json)
    if args.json:
        sys.stdout.write(orjson.dumps(info).decode() + "\n")
    sys.stdout.flush()
    setup.start_companions(args.port, quiet=args.json)
    # A fresh process for the web server: forking gunicorn workers from this one, which has
    # loaded DuckDB, Splink and Arrow for the ingest, crashes them (SIGSEGV on garbage collection).
    exe = str(Path(sys.executable).parent / "muster")
    os.execv(exe, [exe, "serve", "--port", str(args.port), "--workers", "2"])  # noqa: S606 - our own script
    return info


# -- parser -----------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """Usage errors exit 1 with one line, like every other error (SPEC section 3)."""

    def error(self, message):
        self.exit(1, f"muster: {message} (see: {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object as the result")
    top = Parser(prog="muster", description="Military registration and electronic call-up.")
    sub = top.add_subparsers(dest="command", required=True)

    def add(name, func, help_, **kw):
        p = sub.add_parser(name, parents=[common], help=help_, description=help_, **kw)
        p.set_defaults(func=func)
        return p

    add("init", cmd_init, "create or migrate the database, keys and the demo certificate authority")
    p = add("demo", cmd_demo, "set up, load a synthetic population and serve the whole system")
    p.add_argument("--persons", type=int, default=20_000)
    p.add_argument("--port", type=int, default=8000)
    p = add("serve", cmd_serve, "serve the web app with a production-grade server (gunicorn)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p = add("generate", cmd_generate, "write deterministic synthetic feed files for every source")
    p.add_argument("--persons", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p = add("ingest", cmd_ingest, "import one feed file")
    p.add_argument("--source", required=True)
    p.add_argument("file")
    p.add_argument("--receipt", help="write the per-record receipt (JSON Lines) here")
    p = add("evaluate", cmd_evaluate, "decide rights (deferrals, exemptions) for everyone or one person")
    p.add_argument("--as-of", dest="as_of", type=_date)
    p.add_argument("--person")
    p.add_argument("--what-if", dest="what_if", help="YAML of changed parameters; reports who would change")
    p.add_argument(
        "--rebuild-features",
        dest="rebuild_features",
        action="store_true",
        help="derive every person's features from the facts again before deciding",
    )
    p = add("person", cmd_person, "the golden record with provenance")
    p.add_argument("national_id")
    p.add_argument("--purpose", default="operator query")

    summons = sub.add_parser("summons", help="the electronic summons registry").add_subparsers(
        dest="summons_command", required=True
    )
    p = summons.add_parser("issue", parents=[common], help="issue one summons")
    p.add_argument("--person", required=True)
    p.add_argument("--purpose", required=True, choices=["registration", "medical", "clarification", "call_up"])
    p.add_argument("--appear-at", dest="appear_at", required=True, type=_datetime)
    p.add_argument("--at", type=_datetime, help="placement time (default now)")
    p.add_argument("--place")
    for name, help_ in (
        ("appear", "record that the person appeared"),
        ("cancel", "cancel a summons"),
        ("deliver", "record delivery in person or by post"),
        ("reason", "record an accepted valid reason for not appearing"),
    ):
        p = summons.add_parser(name, parents=[common], help=help_)
        p.add_argument("number")
        p.add_argument("--at", type=_datetime)
        if name == "cancel":
            p.add_argument("--reason", required=True)
        if name == "deliver":
            p.add_argument("--channel", required=True, choices=["in_person", "post"])
        if name == "reason":
            p.add_argument(
                "--reason", required=True, choices=["illness", "relative_death", "relative_illness", "force_majeure"]
            )
    for sp in summons.choices.values():
        sp.set_defaults(func=cmd_summons)
    p = add("tick", cmd_tick, "run the legal clock up to now")
    p.add_argument("--now", type=_datetime)
    p.add_argument("--every", type=float, help="keep running, one tick every so many seconds")

    exchange = sub.add_parser("exchange", help="interagency exchange").add_subparsers(
        dest="exchange_command", required=True
    )
    p = exchange.add_parser("run", parents=[common], help="deliver and receive exchange messages")
    p.add_argument("--peer")
    p.add_argument("--once", action="store_true")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between rounds")
    p.add_argument(
        "--snapshot-every",
        dest="snapshot_every",
        type=float,
        default=3600,
        help="seconds between reconciliation snapshots (0: never)",
    )
    p.add_argument(
        "--trust-on-first-use",
        dest="trust_on_first_use",
        action="store_true",
        help="demo only: trust a peer's public key fetched from its /public-key",
    )
    p.set_defaults(func=cmd_exchange_run)
    p = exchange.add_parser("trust", parents=[common], help="trust a peer's Ed25519 public key (PEM file)")
    p.add_argument("peer")
    p.add_argument("--key", required=True)
    p.set_defaults(func=cmd_exchange_trust)
    p = exchange.add_parser("status", parents=[common], help="backlog, lag, confirmations, differences per peer")
    p.set_defaults(func=cmd_exchange_status)
    peer = sub.add_parser("peer", help="reference peers").add_subparsers(dest="peer_command", required=True)
    p = peer.add_parser("border", parents=[common], help="run the reference border-service peer")
    p.add_argument("--port", type=int, default=8101)
    p.add_argument("--home", help="the peer's own home (default MUSTER_HOME/border)")
    p.set_defaults(func=cmd_peer_border)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", parents=[common], help="verify the audit chain and checkpoints")
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser("checkpoint", parents=[common], help="sign the current head of the audit chain")
    p.set_defaults(func=cmd_audit_checkpoint)

    user = sub.add_parser("user", help="users and tokens").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add", parents=[common], help="create a user; password from MUSTER_PASSWORD or a prompt")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--office")
    p.add_argument("--national-id", dest="national_id")
    p.set_defaults(func=cmd_user_add)
    p = user.add_parser("token", parents=[common], help="print a new API bearer token for a user")
    p.add_argument("username")
    p.set_defaults(func=cmd_user_token)
    return top


def _human(result: dict) -> str:
    return "\n".join(f"{k}: {orjson.dumps(v).decode() if isinstance(v, dict | list) else v}" for k, v in result.items())


def main(argv: list[str] | None = None) -> int:
    # Arguments with local times are made aware in the settings' time zone while parsing.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    args = parser().parse_args(argv)
    try:
        _setup()
        result = args.func(args)
    except CommandError as exc:
        if args.json:
            sys.stdout.write(orjson.dumps({"error": exc.code, "message": str(exc), **exc.extra}).decode() + "\n")
        sys.stderr.write(f"muster: {exc}\n")
        return 1
    except KeyboardInterrupt:
        # A second Ctrl-C (the demo's process group gets each one) must not break the exit
        # handlers that are about to run: it printed a traceback from atexit.
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stderr.write("muster: interrupted\n")
        return 130
    except Exception as exc:
        if os.environ.get("MUSTER_DEBUG") == "1":
            raise
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if args.json:
            sys.stdout.write(orjson.dumps({"error": "internal", "message": reason}).decode() + "\n")
        sys.stderr.write(f"muster: {reason} (MUSTER_DEBUG=1 shows the traceback)\n")
        return 1
    if args.json:
        sys.stdout.write(orjson.dumps(result, default=str).decode() + "\n")
    elif result:
        sys.stdout.write(_human(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
