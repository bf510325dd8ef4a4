"""Run the test suite on SQLite and on PostgreSQL.

With CI=true an unreachable PostgreSQL is a failure, never a skip. The PostgreSQL
server is found at MUSTER_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test).
"""

import argparse
import os
import subprocess
import sys

import psycopg

PG_URL = os.environ.get("MUSTER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_reachable() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def pytest(label: str, env: dict, extra: list[str]) -> int:
    print(f"\n=== tests on {label} ===", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *extra], env={**os.environ, **env})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args, extra = ap.parse_known_args()
    failed = []
    if args.only in (None, "sqlite"):
        env = {"DATABASE_URL": ""}
        if pytest("SQLite", env, extra):
            failed.append("SQLite")
    if args.only in (None, "postgresql"):
        problem = postgres_reachable()
        if problem:
            msg = f"PostgreSQL at {PG_URL} is not reachable: {problem}"
            if CI:
                print(f"FAIL: {msg}", file=sys.stderr)
                return 1
            print(f"SKIPPED the PostgreSQL run (not CI): {msg}", file=sys.stderr)
        elif pytest("PostgreSQL", {"DATABASE_URL": PG_URL, "MUSTER_TEST_BROWSER": "0"}, extra):
            failed.append("PostgreSQL")
    if failed:
        print(f"\nFAILED on: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("\nAll test runs passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
