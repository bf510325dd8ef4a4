"""Shared pieces of the benchmark programs: machine description, fresh databases, the table."""

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
TABLE = HERE / "BENCHMARKS.md"
PG_ADMIN = os.environ.get("MUSTER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "muster_bench"


def machine() -> str:
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def pg_url(db: str = BENCH_DB) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + db


def fresh_pg(db: str = BENCH_DB) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    return pg_url(db)


def muster(*args: str, env: dict) -> str:
    exe = Path(sys.executable).parent / "muster"
    return subprocess.run(
        [str(exe), *args], env={**os.environ, **env}, check=True, capture_output=True, text=True
    ).stdout


def population_files(persons: int, seed: int = 1) -> Path:
    """Generated feeds, cached between runs (generation is deterministic)."""
    folder = OUT / f"feeds-{persons}-{seed}"
    if not (folder / "population.jsonl").exists():
        muster("generate", "--persons", str(persons), "--out", str(folder), "--seed", str(seed), "--json", env={})
    return folder


def record(section: str, rows: list[tuple[str, str, str]]) -> None:
    """Append `rows` (figure, value, command) under `section` in BENCHMARKS.md."""
    stamp = dt.date.today().isoformat()
    text = TABLE.read_text() if TABLE.exists() else "# Benchmarks\n\nEach run appends its figures; newest last.\n"
    header = f"\n## {section}\n\n| date | machine | figure | value | command |\n|---|---|---|---|---|\n"
    if f"## {section}\n" not in text:
        text += header
    lines = text.splitlines(keepends=True)
    # Insert after the last row of this section.
    start = next(i for i, ln in enumerate(lines) if ln.strip() == f"## {section}")
    end = start + 1
    while end < len(lines) and not lines[end].startswith("## "):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    new = [f"| {stamp} | {machine()} | {fig} | {val} | `{cmd}` |\n" for fig, val, cmd in rows]
    lines[end:end] = new
    TABLE.write_text("".join(lines))
