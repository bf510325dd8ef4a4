"""Exchange with the reference border peer as a real process: placement-to-confirmation
latency (p50, p99), throughput of restriction changes, and a full snapshot with digest
comparison.

    python benchmarks/exchange_bench.py [--latency 200] [--changes 20000]

A campaign places one exit restriction per person (`--changes` persons) and half of them are
lifted again; every change is one signed message delivered in order; the snapshot then holds
the remaining restrictions.
"""

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from summons_bench import population


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def inner(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from muster import keys
    from muster.accounts.services import add_user
    from muster.audit.services import Actor
    from muster.exchange import services as exchange
    from muster.exchange.models import OutboxMessage, Peer
    from muster.feeds import services as feeds
    from muster.measures.models import Measure
    from muster.registry.models import Person
    from muster.summons import services as summons

    home = Path(os.environ["MUSTER_HOME"])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    code = (
        "from pathlib import Path; from muster.exchange.border.app import run; "
        f"run({port}, Path({str(home / 'border')!r}), Path({str(keys.exchange_public_key_file())!r}))"
    )
    peer = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "MUSTER_ACCESS_LOG": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                exchange._http("GET", f"{url}/health")
                break
            except exchange.PeerUnreachable:
                time.sleep(0.1)
        Peer.objects.filter(name="border").update(url=url)
        exchange.trust_on_first_use(actor=Actor.system("bench"), now=timezone.now())
        n = max(args.latency, args.changes)
        feed = Path(tempfile.mkdtemp()) / "population.jsonl"
        population(n, feed)
        now = timezone.now()
        feeds.ingest("population", feed, actor=Actor.system("bench"), now=now)
        result = {}
        # Latency: one summons at a time, worker rounds until the peer's confirmation is back.
        persons = list(Person.objects.order_by("id").values_list("national_id", flat=True)[: args.latency])
        lags = []
        for nid in persons:
            t = timezone.now()
            summons.issue(Actor.system("bench"), nid, "medical", t + dt.timedelta(days=10), now=t)
            t0 = time.perf_counter()
            while True:
                exchange.run_once()
                if not Measure.objects.filter(person__national_id=nid, confirmed_at__isnull=True).exists():
                    break
            lags.append(time.perf_counter() - t0)
        lags.sort()
        result["latency_p50_ms"] = round(statistics.median(lags) * 1000, 1)
        result["latency_p99_ms"] = round(lags[int(len(lags) * 0.99) - 1] * 1000, 1)
        # Throughput: a campaign places n/2 restrictions, cancellation lifts them: n changes.
        sys_actor = Actor.system("bench")
        clerk = add_user("clerk", "clerk", "bench password 1", actor=sys_actor, now=now, office="77-01")
        head = add_user("head", "office_head", "bench password 1", actor=sys_actor, now=now, office="77-01")
        c = summons.prepare_campaign(
            clerk, purpose="call_up", criteria={}, appear_at=now + dt.timedelta(days=20), place="Office 1", now=now
        )
        summons.approve_campaign(head, c.id, now=now)
        summons.issue_campaign(clerk, c.id, now=now)
        with connection.cursor() as cur:
            from muster.measures import services as measures

            measures.lift(
                cur,
                summons_where=f"s.campaign_id = {c.id} AND MOD(s.id, 2) = 0",
                reason="cancelled",
                params={},
                now=now,
                today=timezone.localdate(now),
            )
        backlog = OutboxMessage.objects.filter(peer_id="border", state="pending").count()
        t0 = time.perf_counter()
        while OutboxMessage.objects.filter(peer_id="border", state="pending").exists():
            exchange.deliver(Peer.objects.get(name="border"), timezone.now(), limit=2000)
        secs = time.perf_counter() - t0
        result["changes"] = backlog
        result["changes_s"] = round(secs, 1)
        # Snapshot: the full list with its digest, compared by the peer.
        active = Measure.objects.filter(state="active", kind="exit").count()
        t0 = time.perf_counter()
        exchange.snapshot(Peer.objects.get(name="border"), timezone.now())
        exchange.deliver(Peer.objects.get(name="border"), timezone.now())
        result["snapshot_restrictions"] = active
        result["snapshot_s"] = round(time.perf_counter() - t0, 1)
        from muster.exchange.models import Reconciliation

        result["snapshot_digest_match"] = Reconciliation.objects.order_by("-id").first().digest_match
        print(json.dumps(result))
    finally:
        os.killpg(peer.pid, 9)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=200)
    ap.add_argument("--changes", type=int, default=20_000)
    ap.add_argument("--inner", action="store_true")
    args = ap.parse_args()
    if args.inner:
        inner(args)
        return
    home = tempfile.mkdtemp(prefix="muster-bench-exchange-")
    env = {
        **os.environ,
        "DATABASE_URL": common.fresh_pg("muster_bench_exchange"),
        "MUSTER_HOME": home,
        "MUSTER_PEER_SYNCHRONOUS": "NORMAL",
    }
    subprocess.run(
        [sys.executable, "-m", "muster.cli", "init", "--json"],
        env=env,
        check=True,
        capture_output=True,
        cwd=common.HERE.parent,
    )
    cmd = [sys.executable, __file__, "--inner", "--latency", str(args.latency), "--changes", str(args.changes)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=common.HERE.parent)
    if out.returncode:
        sys.exit(f"exchange benchmark failed:\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(r)
    cmd_s = f"python benchmarks/exchange_bench.py --latency {args.latency} --changes {args.changes}"
    common.record(
        "Interagency exchange (issue 6)",
        [
            (
                f"placement to border confirmation, {args.latency} summonses one by one "
                "(PostgreSQL, peer as a process)",
                f"p50 {r['latency_p50_ms']} ms, p99 {r['latency_p99_ms']} ms",
                cmd_s,
            ),
            (
                "restriction changes delivered in order, one signed message each",
                f"{r['changes']:,} in {r['changes_s']} s ({r['changes'] / r['changes_s']:,.0f}/s; "
                "peer SQLite synchronous=NORMAL)",
                "same run",
            ),
            (
                "full snapshot with digest comparison",
                f"{r['snapshot_restrictions']:,} restrictions in {r['snapshot_s']} s "
                f"(digest match: {r['snapshot_digest_match']})",
                "same run",
            ),
        ],
    )


if __name__ == "__main__":
    main()
