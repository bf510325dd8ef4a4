"""`make bench`: run every benchmark program; each prints its figures and appends them to BENCHMARKS.md."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = [
    "ingest_population.py",
    "linkage_quality.py",
    "summons_bench.py",
    "exchange_bench.py",
    "rights_evaluation.py",
]

if __name__ == "__main__":
    failed = [p for p in PROGRAMS if subprocess.call([sys.executable, str(HERE / p), *sys.argv[1:]])]
    sys.exit(1 if failed else 0)
