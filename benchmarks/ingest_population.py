"""Population ingest: PostgreSQL as a ratio against a raw COPY of the same rows; SQLite rows/s.

    python benchmarks/ingest_population.py [--persons N]

The reference is `COPY ... FROM STDIN (FORMAT csv)` of the same records, already
flattened to CSV, into an unindexed table, timed in the same run on the same server.
"""

import argparse
import csv
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
    ap.add_argument("--all-sources", action="store_true", help="then every agency source, each against its COPY")
    args = ap.parse_args()
    feeds = common.population_files(args.persons)
    pop = feeds / "population.jsonl"
    rows = sum(1 for _ in pop.open("rb"))
    ref_csv = to_csv(pop)

    url = common.fresh_pg("muster_bench_ingest")
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
