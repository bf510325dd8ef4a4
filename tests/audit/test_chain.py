"""The audit chain: verification names the first bad entry; the database refuses rewrites."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from muster.appendonly import statements
from muster.audit import services
from muster.audit.models import AuditEntry, Checkpoint
from muster.audit.services import Actor, record, verify

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)


def _write(n=6):
    actor = Actor("clerk1", "clerk", "77-01")
    return [
        record(
            actor,
            "person.read",
            at=T0 + dt.timedelta(minutes=i),
            object_type="person",
            object_id=f"p{i}",
            person_id=i,
            detail={"i": i},
        )
        for i in range(n)
    ]


class Tamper:
    """Lift the append-only triggers for one test, as an attacker with DDL rights would."""

    def __enter__(self):
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
            else:
                cur.execute("DROP TRIGGER audit_auditentry_no_update")
                cur.execute("DROP TRIGGER audit_auditentry_no_delete")
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")
            else:
                for sql in statements("audit_auditentry", "sqlite"):
                    cur.execute(sql)


def test_intact_chain_verifies():
    _write()
    services.checkpoint(T0)
    result = verify()
    assert (result.ok, result.entries, result.checkpoints) == (True, 6, 1)


@pytest.mark.parametrize("op", ["update", "delete"])
def test_database_refuses_rewriting_audit_rows(op):
    entries = _write(2)
    rows = AuditEntry.objects.filter(id=entries[0].id)
    change = (lambda: rows.update(actor="someone else")) if op == "update" else rows.delete
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change()
    assert AuditEntry.objects.get(id=entries[0].id).actor == "clerk1"


def test_postgresql_refuses_truncate():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    _write(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("TRUNCATE audit_auditentry")


def test_changed_entry_is_named():
    _write()
    with Tamper():
        AuditEntry.objects.filter(id=3).update(detail={"i": 99})
    result = verify()
    assert (result.ok, result.first_bad) == (False, 3)
    assert "changed" in result.problem


def test_removed_entry_is_named():
    _write()
    with Tamper():
        AuditEntry.objects.filter(id=4).delete()
    result = verify()
    assert (result.ok, result.first_bad) == (False, 4)
    assert "missing" in result.problem


def test_removed_tail_is_detected():
    _write()
    with Tamper():
        AuditEntry.objects.filter(id=6).delete()
    result = verify()
    assert not result.ok
    assert "end" in result.problem


def test_inserted_entry_is_named():
    entries = _write()
    with Tamper():
        # Make room for a forged entry at 3 by shifting the later ones up (ids descending).
        for e in reversed(entries[2:]):
            AuditEntry.objects.filter(id=e.id).update(id=e.id + 1)
        forged = AuditEntry(id=3, at=T0, actor="intruder", action="person.read", prev_hash=entries[1].hash, detail={})
        forged.hash = services.entry_hash(forged)
        forged.save(force_insert=True)
    result = verify()
    assert (result.ok, result.first_bad) == (False, 4)


def test_swapped_entries_are_named():
    _write()
    a, b = AuditEntry.objects.get(id=2), AuditEntry.objects.get(id=3)
    with Tamper():
        for src, dst in ((a, b), (b, a)):
            AuditEntry.objects.filter(id=dst.id).update(
                at=src.at,
                actor=src.actor,
                object_id=src.object_id,
                person_id=src.person_id,
                detail=src.detail,
                prev_hash=src.prev_hash,
                hash=src.hash,
            )
    result = verify()
    assert (result.ok, result.first_bad) == (False, 2)


def test_forged_checkpoint_signature_is_detected():
    _write()
    cp = services.checkpoint(T0)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER")
        else:
            cur.execute("DROP TRIGGER audit_checkpoint_no_update")
    Checkpoint.objects.filter(id=cp.id).update(signature="00" * 64)
    result = verify()
    assert (result.ok, result.first_bad) == (False, cp.entry_id)
    assert "signature" in result.problem


def test_audit_verify_cli_exit_code(capsys):
    from muster.cli import main

    _write(3)
    assert main(["audit", "verify", "--json"]) == 0
    with Tamper():
        AuditEntry.objects.filter(id=2).update(actor="x")
    assert main(["audit", "verify", "--json"]) == 1
    out = capsys.readouterr()
    assert '"first_bad_entry":2' in out.out
    assert "entry 2" in out.err


def test_auditor_page_shows_the_chain_without_personal_data(client):
    from muster.accounts.services import add_user

    _write(3)
    record(
        Actor("c", "clerk", "77-01"), "person.read", at=T0, object_type="person", object_id="11223344595", person_id=42
    )
    add_user("aud", "auditor", "correct horse battery", actor=Actor.system("t"), now=T0)
    add_user("clk", "clerk", "correct horse battery", actor=Actor.system("t"), now=T0, office="77-01")
    client.login(username="aud", password="correct horse battery")
    page = client.get("/audit/").content.decode()
    assert "person.read" in page
    assert "11223344595" not in page
    client.login(username="clk", password="correct horse battery")
    assert client.get("/audit/").status_code == 404
