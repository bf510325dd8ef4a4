"""Identity linkage quality, end to end: generate with noise, ingest every source, compare the
receipts with `truth.jsonl`.

    python benchmarks/linkage_quality.py [--persons N] [--postgres]

Precision and recall are of automatic links (outcome applied/unchanged): a link is right
when the receipt's person is the truth's person. Records sent to review count against
recall, not precision; the review share is reported separately.
"""

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

SOURCES = ("interior", "health", "education", "elections", "digital", "civil", "social")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=int(os.environ.get("MUSTER_BENCH_LINK_PERSONS", 100_000)))
    ap.add_argument("--postgres", action="store_true", help="on PostgreSQL instead of SQLite")
    args = ap.parse_args()
    feeds = common.population_files(args.persons)
    home = Path(tempfile.mkdtemp(prefix="muster-linkq-"))
    env = {"MUSTER_HOME": str(home), "DATABASE_URL": common.fresh_pg("muster_bench_link") if args.postgres else ""}
    common.muster("init", "--json", env=env)
    common.muster("ingest", "--source", "population", str(feeds / "population.jsonl"), "--json", env=env)
    truth = {}
    with (feeds / "truth.jsonl").open("rb") as fh:
        for line in fh:
            t = orjson.loads(line)
            truth[(t["source"], t["record_id"])] = t["national_id"]
    counts: Counter = Counter()
    per_source = {}
    seconds = 0.0
    for source in SOURCES:
        receipt = home / f"{source}.receipt.jsonl"
        t0 = time.perf_counter()
        common.muster(
            "ingest", "--source", source, str(feeds / f"{source}.jsonl"), "--receipt", str(receipt), "--json", env=env
        )
        seconds += time.perf_counter() - t0
        c: Counter = Counter()
        with receipt.open("rb") as fh:
            for line in fh:
                r = orjson.loads(line)
                c["records"] += 1
                if r["outcome"] in ("applied", "unchanged"):
                    c["right" if r["person"] == truth[(source, r["record_id"])] else "wrong"] += 1
                else:
                    c[r["outcome"]] += 1
        per_source[source] = dict(c)
        counts.update(c)
    linked = counts["right"] + counts["wrong"]
    precision = counts["right"] / linked if linked else 0.0
    recall = counts["right"] / counts["records"]
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    review_share = counts["review"] / counts["records"]
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{db}, {args.persons:,} persons, {counts['records']:,} agency records in {seconds:.1f} s: "
        f"precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}, review {review_share:.2%}, "
        f"no match {counts['quarantined'] / counts['records']:.2%}"
    )
    for source, c in per_source.items():
        print(f"  {source:10} {c}")
    cmd = f"python benchmarks/linkage_quality.py --persons {args.persons}" + (" --postgres" if args.postgres else "")
    common.record(
        "Identity linkage quality (issue 3)",
        [
            (
                f"automatic links, {args.persons:,} persons, {counts['records']:,} noisy records, {db}",
                f"precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}",
                cmd,
            ),
            (
                "share sent to review / no match",
                f"{review_share:.2%} / {counts['quarantined'] / counts['records']:.2%}",
                "same run",
            ),
            (
                "all seven agency feeds ingested (with linkage)",
                f"{seconds:.1f} s ({counts['records'] / seconds:,.0f} records/s)",
                "same run",
            ),
        ],
    )


if __name__ == "__main__":
    main()
