"""Summons at scale: a campaign of 100k summonses (with their exit restrictions, outbox
messages, events and notifications) on PostgreSQL and SQLite, and one legal-clock tick over
1M open summonses.

    python benchmarks/summons_bench.py [--campaign 100000] [--tick-summonses 1000000] [--no-sqlite]
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def population(n: int, path: Path) -> None:
    """n men of call-up age, all in district 001 of Moscow (one office)."""
    sys.path.insert(0, str(common.HERE.parent))
    from muster.registry.identifiers import snils_check

    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            body = f"{300_000_000 + i:09d}"
            fh.write(
                json.dumps(
                    {
                        "record_id": f"B-{i}",
                        "changed_at": "2026-01-01T00:00:00+03:00",
                        "national_id": body + snils_check(body),
                        "surname": "Петров",
                        "given_name": "Иван",
                        "patronymic": "Сергеевич",
                        "sex": "M",
                        "birth_date": f"{2000 + i % 6}-0{1 + i % 9}-1{i % 10}",
                        "citizenship": "RU",
                        "region": "77",
                        "district": "001",
                        "address": "г. Москва, ул. Тверская, д. 1",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


def inner(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    import django

    django.setup()
    from django.utils import timezone

    from muster.accounts.services import add_user
    from muster.audit.services import Actor
    from muster.feeds import services as feeds
    from muster.summons import clock, services
    from muster.summons.models import Summons

    msk = timezone.get_fixed_timezone(180)
    now = dt.datetime(2026, 12, 1, 9, tzinfo=msk)
    persons = max(args.campaign, args.tick_summonses // 4 if args.tick else 0)
    feed = Path(tempfile.mkdtemp()) / "population.jsonl"
    population(persons, feed)
    t0 = time.perf_counter()
    feeds.ingest("population", feed, actor=Actor.system("bench"), now=now)
    setup_s = time.perf_counter() - t0
    sys_actor = Actor.system("bench")
    clerk = add_user("clerk", "clerk", "bench password 1", actor=sys_actor, now=now, office="77-01")
    head = add_user("head", "office_head", "bench password 1", actor=sys_actor, now=now, office="77-01")
    result = {"persons": persons, "ingest_s": round(setup_s, 1)}
    purposes = ["call_up", "medical", "registration", "clarification"]
    appear = dt.datetime(2026, 12, 20, 10, tzinfo=msk)
    timings = []
    for i, purpose in enumerate(purposes if args.tick else purposes[:1]):
        c = services.prepare_campaign(
            clerk, purpose=purpose, criteria={"age_min": 18, "age_max": 29}, appear_at=appear, place="Office 1", now=now
        )
        services.approve_campaign(head, c.id, now=now)
        t0 = time.perf_counter()
        done = services.issue_campaign(clerk, c.id, now=now)
        timings.append((purpose, done.issued, time.perf_counter() - t0))
        if i == 0:
            result["campaign_issued"] = done.issued
            result["campaign_s"] = round(timings[0][2], 2)
    if args.tick:
        result["open_summonses"] = Summons.objects.filter(state="issued").count()
        t0 = time.perf_counter()
        out = clock.tick(dt.datetime(2027, 1, 15, 9, tzinfo=msk), rights=False)
        result["tick_s"] = round(time.perf_counter() - t0, 2)
        result["tick"] = out
    print(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--campaign", type=int, default=100_000)
    ap.add_argument("--tick-summonses", dest="tick_summonses", type=int, default=1_000_000)
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--inner", action="store_true")
    ap.add_argument("--tick", action="store_true")
    args = ap.parse_args()
    if args.inner:
        inner(args)
        return
    rows = []
    runs = [("PostgreSQL", {"DATABASE_URL": common.fresh_pg("muster_bench_summons")}, False)]
    if not args.no_sqlite:
        runs.append(("SQLite", {"DATABASE_URL": ""}, False))
    runs.append(("PostgreSQL", {"DATABASE_URL": common.fresh_pg("muster_bench_tick")}, True))
    for db, env, tick in runs:
        home = tempfile.mkdtemp(prefix="muster-bench-summons-")
        env = {**os.environ, **env, "MUSTER_HOME": home}
        subprocess.run(
            [sys.executable, "-m", "muster.cli", "init", "--json"],
            env=env,
            check=True,
            capture_output=True,
            cwd=common.HERE.parent,
        )
        cmd = [
            sys.executable,
            __file__,
            "--inner",
            "--campaign",
            str(args.campaign),
            "--tick-summonses",
            str(args.tick_summonses),
        ] + (["--tick"] if tick else [])
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=common.HERE.parent)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(db, r)
        if tick:
            rows.append(
                (
                    f"legal clock, one tick over {r['open_summonses']:,} open summonses, {db}",
                    f"{r['tick_s']} s ({r['tick']['deemed_delivered']:,} deemed delivered, "
                    f"{r['tick']['failed_to_appear']:,} failed to appear, "
                    f"{r['tick']['measures_started']:,} measures started)",
                    f"python benchmarks/summons_bench.py --tick-summonses {args.tick_summonses}",
                )
            )
        else:
            rows.append(
                (
                    f"campaign issue, {r['campaign_issued']:,} summonses with exit restrictions and outbox, {db}",
                    f"{r['campaign_s']} s ({r['campaign_issued'] / r['campaign_s']:,.0f} summonses/s)",
                    f"python benchmarks/summons_bench.py --campaign {args.campaign}",
                )
            )
    common.record("Summons and legal clock (issue 5)", rows)


if __name__ == "__main__":
    main()
