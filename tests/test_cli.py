"""The command-line contract of SPEC section 3: result shapes, exit codes, one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from muster.cli import main
from tests.factories import population

MUSTER = str(Path(sys.executable).parent / "muster")


def run(*args, home: Path, **env):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "MUSTER_TESTING")
    }
    return subprocess.run(
        [MUSTER, *args], env={**clean, "MUSTER_HOME": str(home), **env}, capture_output=True, text=True, timeout=120
    )


def test_console_script_end_to_end(tmp_path):
    """The installed `muster` script on its embedded default (SQLite in MUSTER_HOME)."""
    home = tmp_path / "home"
    first = run("init", "--json", home=home)
    assert first.returncode == 0, first.stderr
    assert orjson.loads(first.stdout)["offices"] > 80
    assert run("init", "--json", home=home).returncode == 0  # idempotent

    rec = population()
    feed = tmp_path / "population.jsonl"
    feed.write_bytes(orjson.dumps(rec) + b"\n{broken\n")
    out = run(
        "ingest", "--source", "population", str(feed), "--receipt", str(tmp_path / "r.jsonl"), "--json", home=home
    )
    assert out.returncode == 0, out.stderr
    result = orjson.loads(out.stdout)
    assert set(result) == {"batch", "source", "received", "applied", "unchanged", "review", "quarantined", "reasons"}
    assert (result["received"], result["applied"], result["quarantined"]) == (2, 1, 1)
    assert result["reasons"] == {"line.json": 1}
    receipt = [orjson.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["outcome"] for r in receipt] == ["applied", "quarantined"]

    person = orjson.loads(run("person", rec["national_id"], "--json", home=home).stdout)
    for key in (
        "national_id",
        "surname",
        "given_name",
        "patronymic",
        "birth_date",
        "sex",
        "office",
        "registration_status",
        "provenance",
        "decision",
        "summonses",
        "measures",
    ):
        assert key in person
    assert person["provenance"]["address"][0]["record_id"] == rec["record_id"]

    added = run(
        "user",
        "add",
        "clerk1",
        "--role",
        "clerk",
        "--office",
        person["office"],
        "--json",
        home=home,
        MUSTER_PASSWORD="a long enough password",
    )
    assert added.returncode == 0, added.stderr
    token = orjson.loads(run("user", "token", "clerk1", "--json", home=home).stdout)["token"]
    assert len(token) > 30
    verified = run("audit", "verify", "--json", home=home)
    assert verified.returncode == 0
    assert orjson.loads(verified.stdout)["ok"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["ingest", "--source", "nowhere", "x.jsonl"], "ingest.refused"),
        (["ingest", "--source", "population", "/nonexistent.jsonl"], "ingest.refused"),
        (["person", "00000000000"], "person.not_found"),
        (["user", "token", "ghost"], "user.not_found"),
        (["user", "add", "x", "--role", "clerk"], "office.missing"),
    ],
)
def test_errors_exit_non_zero_with_a_reason(capsys, monkeypatch, argv, code):
    monkeypatch.setenv("MUSTER_PASSWORD", "a long enough password")
    assert main([*argv, "--json"]) == 1
    captured = capsys.readouterr()
    assert orjson.loads(captured.out)["error"] == code
    assert captured.err.startswith("muster: ")
    assert captured.err.count("\n") == 1


@pytest.mark.django_db
def test_ingest_result_counts_every_outcome(tmp_path, capsys):
    good = population()
    path = tmp_path / "p.jsonl"
    path.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps(population(sex="Z")) + b"\n")
    assert main(["ingest", "--source", "population", str(path), "--json"]) == 0
    result = orjson.loads(capsys.readouterr().out)
    assert result["received"] == result["applied"] + result["unchanged"] + result["review"] + result["quarantined"]
    assert result["reasons"] == {"sex.enum": 1}


def test_ctrl_c_ends_a_long_running_command_cleanly(tmp_path):
    """Ctrl-C (twice, as a process group gets it from the demo) ends `tick --every` with 130
    and one line, no traceback from the exit handlers."""
    import signal
    import time

    home = tmp_path / "home"
    assert run("init", "--json", home=home).returncode == 0
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "MUSTER_TESTING")
    }
    proc = subprocess.Popen(
        [MUSTER, "tick", "--every", "3600"],
        env={**clean, "MUSTER_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    import sqlite3

    def ticked() -> bool:  # the first tick is audited: the command is in its sleep now
        with sqlite3.connect(home / "muster.sqlite3") as db:
            return bool(db.execute("SELECT count(*) FROM audit_auditentry WHERE action = 'clock.tick'").fetchone()[0])

    deadline = time.monotonic() + 60
    while not ticked() and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "muster: interrupted" in err
    assert "Traceback" not in err


def test_a_local_date_time_argument_parses_before_set_up(tmp_path):
    """`--appear-at` without a zone is read in the settings' zone, even as the first thing
    the command does (it raised ImproperlyConfigured with a traceback)."""
    home = tmp_path / "home"
    assert run("init", "--json", home=home).returncode == 0
    out = run(
        "summons",
        "issue",
        "--person",
        "00000000000",
        "--purpose",
        "call_up",
        "--appear-at",
        "2026-12-15T10:00",
        "--json",
        home=home,
    )
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert orjson.loads(out.stdout)["error"] == "person.not_found"
