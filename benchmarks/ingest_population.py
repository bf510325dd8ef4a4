"""Population ingest: PostgreSQL as a ratio against a raw COPY of the same rows; SQLite rows/s.

    python benchmarks/ingest_population.py [--persons N] [--no-sqlite] [--database NAME]

The reference is `COPY ... FROM STDIN (FORMAT csv)` of the same records, already
flattened to CSV, into an unindexed table, timed in the same run on the same server.

The floor is what no ingest of these records can avoid: the same persons, facts and
source records, already in their final form (ids, normalised names, office, payload
hash), COPYed straight into muster's own registry_person, registry_fact and
registry_sourcerecord of a fresh database, with every index and (deferred) foreign key,
in transactions of as many lines as the ingest's chunks. Ingest vs floor is muster's own logic; floor vs raw COPY is the
registry's indexes and constraints.
"""

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

sys.path.insert(0, str(common.HERE.parent))
from muster.registry.attributes import ATTRIBUTES

COLUMNS = ("record_id", "changed_at", *ATTRIBUTES)


def to_csv(jsonl: Path) -> Path:
    out = jsonl.with_suffix(".reference.csv")
    if not out.exists():
        with jsonl.open("rb") as src, out.open("w", newline="", encoding="utf-8") as dst:
            w = csv.writer(dst)
            for line in src:
                rec = orjson.loads(line)
                w.writerow([rec.get(c, "") for c in COLUMNS])
    return out


def raw_copy(url: str, csv_path: Path) -> float:
    cols = ", ".join(f"{c} text" for c in COLUMNS)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_reference")
        conn.execute(f"CREATE TABLE bench_reference ({cols})")
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_reference FROM STDIN (FORMAT csv)") as copy,
            csv_path.open("rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_reference")
        conn.commit()
    return seconds


FLOOR_PERSON = (
    "id",
    *ATTRIBUTES,
    "surname_norm",
    "given_norm",
    "patronymic_norm",
    "office_id",
    "registration_status",
    "population_fact_id",
    "population_changed_at",
    "contact_fact_id",
    "contact_changed_at",
    "created_at",
    "updated_at",
)
FLOOR_FACT = (
    "id",
    "person_id",
    "source",
    "record_id",
    "batch_id",
    "line_no",
    "received_at",
    "changed_at",
    "payload",
    "payload_hash",
)
FLOOR_SOURCE_RECORD = ("source", "record_id", "person_id", "fact_id", "changed_at", "payload_hash")
FLOOR_BATCH = "0" * 64


def floor_files(jsonl: Path, offices: dict[tuple[str, str], str]) -> tuple[Path, Path, Path]:
    """The three tables' rows in their final form, as CSV, prepared before the timing."""
    paths = tuple(jsonl.with_suffix(f".floor-{t}.csv") for t in ("person", "fact", "sourcerecord"))
    if all(p.exists() for p in paths):
        return paths
    now = dt.datetime.now(dt.UTC).isoformat()
    with contextlib.ExitStack() as files:
        src = files.enter_context(jsonl.open("rb"))
        outs = [files.enter_context(p.open("w", newline="", encoding="utf-8")) for p in paths]
        person, fact, source_record = (csv.writer(o) for o in outs)
        for i, line in enumerate(src, 1):
            rec = orjson.loads(line)
            payload = orjson.dumps({k: rec[k] for k in ATTRIBUTES if rec.get(k)}, option=orjson.OPT_SORT_KEYS)
            digest = hashlib.blake2b(payload, digest_size=16).hexdigest()
            changed = rec["changed_at"]

            def norm(name):
                return (name or "").lower().replace(" ", "").replace("-", "")

            names = (norm(rec["surname"]), norm(rec["given_name"]), norm(rec.get("patronymic")))
            office = offices.get((rec["region"], rec["district"]), "")
            person.writerow(
                [i, *(rec.get(k, "") for k in ATTRIBUTES), *names, office, "reserve", i, changed, i, changed, now, now]
            )
            fact.writerow(
                [i, i, "population", rec["record_id"], FLOOR_BATCH, i, now, changed, payload.decode(), digest]
            )
            source_record.writerow(["population", rec["record_id"], i, i, changed, digest])
    return paths


FLOOR_CHUNK = 50_000  # lines per transaction, as muster's ingest (feeds.ingest.CHUNK_LINES)


def floor_copy(url: str, paths: tuple[Path, Path, Path]) -> tuple[float, dict[str, float]]:
    """COPY the final rows into muster's registry tables (a fresh, initialised database),
    in transactions of FLOOR_CHUNK lines of each table as the ingest commits them; the total
    and its parts: each table's COPY (with its indexes) and the commits (the deferred
    foreign-key checks)."""
    names = "FORCE_NOT_NULL (surname_norm, given_norm, patronymic_norm)"  # "" is a value there, not NULL
    tables = (("registry_person", FLOOR_PERSON, f", {names}"), ("registry_fact", FLOOR_FACT, ""))
    tables += (("registry_sourcerecord", FLOOR_SOURCE_RECORD, ""),)
    parts: dict[str, float] = dict.fromkeys([t for t, _, _ in tables] + ["commit (foreign keys)"], 0.0)
    with psycopg.connect(url) as conn, contextlib.ExitStack() as files:
        conn.execute(
            "INSERT INTO feeds_batch (id, source, filename, size, format, state, started_at, imported_by, cursor, "
            "received, applied, unchanged, review, quarantined, reasons) VALUES (%s, 'population', 'floor', 0, "
            "'jsonl', 'complete', now(), 'bench', 0, 0, 0, 0, 0, 0, '{}')",
            [FLOOR_BATCH],
        )
        conn.commit()
        handles = [files.enter_context(p.open("rb")) for p in paths]
        t0 = time.perf_counter()
        more = True
        while more:
            more = False
            with conn.cursor() as cur:
                for (table, cols, options), fh in zip(tables, handles, strict=True):
                    lines = list(itertools.islice(fh, FLOOR_CHUNK))
                    if not lines:
                        continue
                    more = True
                    t = time.perf_counter()
                    # Empty CSV fields are NULLs (unquoted empties are NULL in CSV COPY).
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN (FORMAT csv{options})") as copy:
                        copy.write(b"".join(lines))
                    parts[table] += time.perf_counter() - t
            t = time.perf_counter()
            conn.commit()  # the deferred foreign keys are checked here
            parts["commit (foreign keys)"] += time.perf_counter() - t
        return time.perf_counter() - t0, parts


def offices_of(url: str) -> dict[tuple[str, str], str]:
    with psycopg.connect(url) as conn:
        return {(r, d): o for r, d, o in conn.execute("SELECT region, district, office_id FROM registry_officearea")}


def agency_sources(feeds: Path, url: str, env: dict) -> list[tuple[str, str, str]]:
    """Each agency file after the population: muster ingest (with identity linkage) vs raw COPY."""
    rows = []
    for source in ("interior", "health", "education", "elections", "digital", "civil", "social"):
        path = feeds / f"{source}.jsonl"
        lines = sum(1 for _ in path.open("rb"))
        t0 = time.perf_counter()
        result = orjson.loads(common.muster("ingest", "--source", source, str(path), "--json", env=env))
        t_ingest = time.perf_counter() - t0
        t_copy = raw_copy_lines(url, path)
        print(
            f"{source}: {lines:,} lines, ingest {t_ingest:.1f} s, raw COPY {t_copy:.2f} s, "
            f"{t_copy / t_ingest:.1%}; {result}"
        )
        rows.append(
            (
                f"{source} ingest, PostgreSQL, {lines:,} lines ({result['applied']:,} applied, "
                f"{result['review']:,} review, {result['quarantined']:,} quarantined)",
                f"{t_ingest:.1f} s ({lines / t_ingest:,.0f} lines/s), {t_copy / t_ingest:.1%} of raw COPY",
                "same run (--all-sources)",
            )
        )
    return rows


def raw_copy_lines(url: str, path: Path) -> float:
    """COPY of the file's lines as one text column into an unindexed table."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_lines")
        conn.execute("CREATE TABLE bench_lines (line text)")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_lines FROM STDIN") as copy, path.open("rb") as fh:
            for line in fh:
                copy.write_row((line.rstrip(b"\n").decode(),))
        conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_lines")
        conn.commit()
    return seconds


def timed_ingest(env: dict, path: Path) -> tuple[float, dict]:
    common.muster("init", "--json", env=env)
    t0 = time.perf_counter()
    out = common.muster("ingest", "--source", "population", str(path), "--json", env=env)
    return time.perf_counter() - t0, orjson.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=int(os.environ.get("MUSTER_BENCH_PERSONS", 1_000_000)))
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor (COPY into the registry's own tables)")
    ap.add_argument("--database", default="muster_bench_ingest", help="PostgreSQL database to (re)create")
    ap.add_argument("--all-sources", action="store_true", help="then every agency source, each against its COPY")
    args = ap.parse_args()
    feeds = common.population_files(args.persons)
    pop = feeds / "population.jsonl"
    rows = sum(1 for _ in pop.open("rb"))
    ref_csv = to_csv(pop)

    url = common.fresh_pg(args.database)
    home = tempfile.mkdtemp(prefix="muster-bench-")
    env = {"DATABASE_URL": url, "MUSTER_HOME": home}
    t_ingest, result = timed_ingest(env, pop)
    t_copy = raw_copy(url, ref_csv)
    ratio = t_copy / t_ingest
    print(
        f"PostgreSQL: {rows:,} rows; raw COPY {t_copy:.2f} s ({rows / t_copy:,.0f} rows/s); "
        f"muster ingest {t_ingest:.2f} s ({rows / t_ingest:,.0f} rows/s); ingest at {ratio:.0%} of the COPY rate"
    )
    assert result["applied"] == rows, result
    figures = [
        (
            f"population ingest, PostgreSQL, {rows:,} rows",
            f"{t_ingest:.1f} s ({rows / t_ingest:,.0f} rows/s)",
            f"make bench (ingest_population.py --persons {args.persons})",
        ),
        ("raw COPY of the same rows, unindexed table", f"{t_copy:.1f} s ({rows / t_copy:,.0f} rows/s)", "same run"),
        ("ingest rate / raw COPY rate", f"{ratio:.0%}", "same run"),
    ]
    if not args.no_floor:
        floor_url = common.fresh_pg(f"{args.database}_floor")
        floor_home = tempfile.mkdtemp(prefix="muster-bench-floor-")
        common.muster("init", "--json", env={"DATABASE_URL": floor_url, "MUSTER_HOME": floor_home})
        t_floor, parts = floor_copy(floor_url, floor_files(pop, offices_of(floor_url)))
        detail = ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())
        print(
            f"floor (COPY into registry_person, registry_fact, registry_sourcerecord with their indexes and "
            f"foreign keys): {t_floor:.2f} s ({rows / t_floor:,.0f} rows/s), {t_copy / t_floor:.0%} of the raw "
            f"COPY rate; ingest at {t_floor / t_ingest:.0%} of the floor rate ({detail})"
        )
        figures += [
            (
                "floor: the same rows in final form, COPY into registry_person, registry_fact, "
                f"registry_sourcerecord (all indexes, deferred foreign keys, {FLOOR_CHUNK:,} lines a transaction)",
                f"{t_floor:.1f} s ({rows / t_floor:,.0f} rows/s), {t_copy / t_floor:.0%} of the raw COPY rate "
                f"({detail})",
                "same run",
            ),
            ("ingest rate / floor rate", f"{t_floor / t_ingest:.0%}", "same run"),
        ]
        with psycopg.connect(common.PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}_floor" WITH (FORCE)')
        subprocess.run(["rm", "-rf", floor_home], check=False)
    if args.all_sources:
        figures += agency_sources(feeds, url, env)
    if not args.no_sqlite:
        home2 = tempfile.mkdtemp(prefix="muster-bench-sqlite-")
        t_sqlite, res2 = timed_ingest({"DATABASE_URL": "", "MUSTER_HOME": home2}, pop)
        assert res2["applied"] == rows, res2
        print(f"SQLite: muster ingest {t_sqlite:.2f} s ({rows / t_sqlite:,.0f} rows/s)")
        figures.append(
            (
                f"population ingest, SQLite, {rows:,} rows",
                f"{t_sqlite:.1f} s ({rows / t_sqlite:,.0f} rows/s)",
                "same run",
            )
        )
        subprocess.run(["rm", "-rf", home2], check=False)
    common.record("Population ingest (issue 2)", figures)
    subprocess.run(["rm", "-rf", home], check=False)


if __name__ == "__main__":
    main()
