"""The population feed: every reason code, conservation, idempotence, late changes, resume."""

import csv
import datetime as dt
import io

import orjson
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.audit.services import verify
from muster.feeds.models import Batch, QuarantinedLine
from muster.registry.models import Fact, Person, SourceRecord
from tests import factories
from tests.factories import ingest, population

pytestmark = pytest.mark.django_db

BAD_FIELDS = [
    ({"record_id": None}, "record_id.missing"),
    ({"record_id": "x" * 65}, "record_id.too_long"),
    ({"changed_at": None}, "changed_at.missing"),
    ({"changed_at": "yesterday"}, "changed_at.format"),
    ({"changed_at": "2026-01-10T09:00:00"}, "changed_at.offset_missing"),
    ({"changed_at": "2031-01-10T09:00:00+03:00"}, "changed_at.future"),
    ({"national_id": None}, "national_id.missing"),
    ({"national_id": "1234567890"}, "national_id.format"),
    ({"national_id": 20000000112}, "national_id.type"),
    ({"national_id": "20000001200"}, "national_id.checksum"),
    ({"tax_id": "12345"}, "tax_id.format"),
    ({"tax_id": "500100732258"}, "tax_id.checksum"),
    ({"surname": None}, "surname.missing"),
    ({"surname": "   "}, "surname.missing"),
    ({"surname": "Я" * 101}, "surname.too_long"),
    ({"given_name": None}, "given_name.missing"),
    ({"sex": "X"}, "sex.enum"),
    ({"sex": None}, "sex.missing"),
    ({"birth_date": "27.03.2004"}, "birth_date.format"),
    ({"birth_date": "2004-02-30"}, "birth_date.format"),
    ({"birth_date": "2027-01-01"}, "birth_date.future"),
    ({"birth_date": "1899-12-31"}, "birth_date.too_old"),
    ({"citizenship": "rus"}, "citizenship.format"),
    ({"region": "00"}, "region.enum"),
    ({"district": "1"}, "district.format"),
    ({"district": "999"}, "district.unknown"),
    ({"address": None}, "address.missing"),
    ({"postcode": "12345"}, "postcode.format"),
    ({"phone": "89161234567"}, "phone.format"),
    ({"email": "not-an-email"}, "email.format"),
    ({"death_date": "2027-01-01"}, "death_date.future"),
    ({"death_date": "2001-01-01"}, "death_date.before_birth"),
]


@pytest.mark.parametrize(("overrides", "reason"), BAD_FIELDS, ids=[r for _, r in BAD_FIELDS])
def test_each_field_reason_code(feed, now, overrides, reason):
    good = population()
    path = feed([good, population(**overrides)])
    result = ingest(path, now, receipt=feed.folder / "receipt.jsonl")
    assert (result["received"], result["applied"], result["quarantined"]) == (2, 1, 1)
    assert reason in result["reasons"]
    receipt = [orjson.loads(x) for x in (feed.folder / "receipt.jsonl").read_bytes().splitlines()]
    assert receipt[0] == {
        "line": 1,
        "record_id": good["record_id"],
        "outcome": "applied",
        "person": good["national_id"],
        "reasons": [],
    }
    assert receipt[1]["outcome"] == "quarantined"
    assert receipt[1]["person"] is None
    assert reason in receipt[1]["reasons"]
    q = QuarantinedLine.objects.get(line_no=2)
    assert reason in q.reasons
    assert (
        orjson.loads(q.raw)
        == orjson.loads(
            orjson.dumps(
                population(**overrides) | {"record_id": q.record_id} if q.record_id else population(**overrides)
            )
        )
        or q.raw
    )


LINE_ERRORS = [
    (b'{"record_id": "A", ', "line.json"),
    (b"\xff\xfe not utf-8", "line.encoding"),
    (b"   ", "line.empty"),
    (b"[1, 2, 3]", "line.not_object"),
]


@pytest.mark.parametrize(("raw", "reason"), LINE_ERRORS, ids=[r for _, r in LINE_ERRORS])
def test_line_level_reason_codes(feed, now, raw, reason):
    path = feed([population(), raw])
    result = ingest(path, now)
    assert result["reasons"] == {reason: 1}
    q = QuarantinedLine.objects.get(line_no=2)
    assert q.reasons == [reason]
    assert q.raw  # the original text is kept


def test_duplicates_in_batch(feed, now):
    a = population()
    b = population(national_id=a["national_id"])  # same person under another record id
    c = dict(population(), record_id=a["record_id"])
    result = ingest(feed([a, b, c]), now)
    assert result["applied"] == 1
    assert result["reasons"] == {"national_id.duplicate_in_batch": 1, "record_id.duplicate_in_batch": 1}


def test_record_id_may_not_move_to_another_person(feed, now):
    a = population()
    ingest(feed([a]), now)
    moved = dict(population(), record_id=a["record_id"], changed_at="2026-02-01T00:00:00+03:00")
    result = ingest(feed([moved]), now)
    assert result["reasons"] == {"national_id.conflict": 1}
    assert QuarantinedLine.objects.get(record_id=a["record_id"]).after_validation


def test_csv_with_bom_and_crlf(feed, now):
    recs = [population(), population(phone=None)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(recs[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(recs)
    raw = b"\xef\xbb\xbf" + out.getvalue().encode()
    result = ingest(feed(None, name="pop.csv", raw=raw), now, receipt=feed.folder / "r.jsonl")
    assert (result["received"], result["applied"]) == (2, 2)
    assert Person.objects.get(national_id=recs[1]["national_id"]).phone is None
    lines = [orjson.loads(x)["line"] for x in (feed.folder / "r.jsonl").read_bytes().splitlines()]
    assert lines == [2, 3]  # physical lines: the header is line 1


def test_csv_wrong_column_count(feed, now):
    rec = population(address="no commas here")
    raw = (",".join(rec) + "\n" + ",".join(rec.values()) + "\nonly,three,cols\n").encode()
    result = ingest(feed(None, name="pop.csv", raw=raw), now)
    assert result["reasons"] == {"line.columns": 1}


def test_reimport_changes_nothing(feed, now):
    path = feed([population() for _ in range(5)] + [b"broken"])
    first = ingest(path, now)
    counts = (Person.objects.count(), Fact.objects.count(), QuarantinedLine.objects.count())
    again = ingest(path, now + dt.timedelta(hours=1), receipt=feed.folder / "again.jsonl")
    assert again["batch"] == first["batch"]
    assert (again["applied"], again["unchanged"], again["quarantined"]) == (0, 5, 1)
    assert (Person.objects.count(), Fact.objects.count(), QuarantinedLine.objects.count()) == counts
    outcomes = [orjson.loads(x)["outcome"] for x in (feed.folder / "again.jsonl").read_bytes().splitlines()]
    assert outcomes == ["unchanged"] * 5 + ["quarantined"]


def test_same_records_in_another_file_are_unchanged(feed, now):
    recs = [population() for _ in range(3)]
    ingest(feed(recs), now)
    result = ingest(feed([*recs, population()]), now, receipt=feed.folder / "r.jsonl")
    assert (result["applied"], result["unchanged"]) == (1, 3)
    receipt = [orjson.loads(x) for x in (feed.folder / "r.jsonl").read_bytes().splitlines()]
    assert [r["person"] for r in receipt[:3]] == [r["national_id"] for r in recs]


def test_newer_change_wins_and_late_older_change_is_history_only(feed, now):
    old = population(address="old address", changed_at="2026-01-01T00:00:00+03:00")
    new = dict(old, address="new address", changed_at="2026-03-01T00:00:00+03:00")
    late = dict(old, address="stale address", changed_at="2026-02-01T00:00:00+03:00")
    ingest(feed([old]), now)
    ingest(feed([new]), now)
    result = ingest(feed([late]), now)
    assert result["applied"] == 1  # kept, as history
    person = Person.objects.get(national_id=old["national_id"])
    assert person.address == "new address"
    assert Fact.objects.filter(person=person).count() == 3
    sr = SourceRecord.objects.get(source="population", record_id=old["record_id"])
    assert Fact.objects.get(id=sr.fact_id).payload["address"] == "new address"
    from muster.registry.services import provenance

    history = [v["value"] for v in provenance(person)["address"]]
    assert history == ["new address", "stale address", "old address"]


def test_person_assigned_to_office_of_address(feed, now):
    rec = population(region="78", district="002")
    ingest(feed([rec]), now)
    person = Person.objects.get(national_id=rec["national_id"])
    assert person.office.region == "78"
    assert person.office.areas.filter(district="002").exists()
    moved = dict(rec, region="50", district="001", changed_at="2026-04-01T00:00:00+03:00")
    ingest(feed([moved]), now)
    person.refresh_from_db()
    assert person.office.region == "50"


def _state():
    return (
        sorted(Person.objects.values_list("national_id", "surname", "address", "registration_status", "office_id")),
        sorted(Fact.objects.values_list("record_id", "line_no", "payload_hash")),
        sorted(QuarantinedLine.objects.values_list("line_no", "reasons")),
        sorted(SourceRecord.objects.values_list("record_id", "payload_hash")),
        list(Batch.objects.values_list("received", "applied", "unchanged", "review", "quarantined", "cursor", "state")),
    )


def _mixed_lines(n: int) -> list:
    lines = []
    for i in range(n):
        if i % 7 == 3:
            lines.append(population(sex="?"))
        elif i % 11 == 5:
            lines.append(b"{oops")
        elif i % 13 == 0 and lines and isinstance(lines[0], dict):
            lines.append(dict(population(), record_id=lines[0]["record_id"]))
        else:
            lines.append(population(1000 + i))
    return lines


def test_killed_import_resumes_to_the_same_state(feed, now):
    path = feed(_mixed_lines(40))
    # The uninterrupted import first, then undone, so both runs start from the same registry.
    sid = transaction.savepoint()
    uninterrupted = ingest(path, now, chunk_lines=7)
    expected = _state()
    transaction.savepoint_rollback(sid)
    assert Person.objects.count() == 0

    with pytest.raises(KeyboardInterrupt):
        ingest(path, now, chunk_lines=7, stop_after_chunks=3)
    batch = Batch.objects.get()
    assert (batch.state, batch.cursor, batch.received) == ("running", 21, 21)
    resumed = ingest(path, now, chunk_lines=7, receipt=feed.folder / "resumed.jsonl")
    assert resumed == uninterrupted
    assert _state() == expected
    receipt = (feed.folder / "resumed.jsonl").read_bytes().splitlines()
    assert [orjson.loads(x)["line"] for x in receipt] == list(range(1, 41))
    assert verify().ok


def test_failure_inside_a_chunk_leaves_nothing_half_done(feed, now, monkeypatch):
    from muster.feeds.sources.population import Population

    path = feed([population() for _ in range(10)])
    calls = {"n": 0}
    real = Population.merge

    def flaky(self, ctx):
        calls["n"] += 1
        real(self, ctx)
        if calls["n"] == 2:
            raise RuntimeError("database went away")

    monkeypatch.setattr(Population, "merge", flaky)
    with pytest.raises(RuntimeError):
        ingest(path, now, chunk_lines=4)
    assert Person.objects.count() == 4  # the first chunk only; the second rolled back whole
    assert Batch.objects.get().cursor == 4
    monkeypatch.setattr(Population, "merge", real)
    result = ingest(path, now, chunk_lines=4)
    assert (result["received"], result["applied"]) == (10, 10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(
        st.sampled_from(["good", "bad_field", "bad_json", "bad_utf8", "empty", "dup"]), min_size=1, max_size=30
    ),
    chunk=st.integers(1, 9),
)
def test_conservation(tmp_path_factory, kinds, chunk):
    """received = applied + unchanged + review + quarantined, for any mix of lines and chunking."""
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    lines, first = [], None
    for k in kinds:
        if k == "good":
            rec = population()
            first = first or rec
            lines.append(rec)
        elif k == "bad_field":
            lines.append(population(birth_date="1.1.2000"))
        elif k == "bad_json":
            lines.append(b"{")
        elif k == "bad_utf8":
            lines.append(b'{"a": "\xc3"}')
        elif k == "empty":
            lines.append(b"")
        else:
            lines.append(first or population())
    path = factories.FeedWriter(tmp_path_factory.mktemp("c"))(lines)
    result = ingest(path, now, chunk_lines=chunk)
    assert result["received"] == len(kinds)
    assert result["received"] == sum(result[o] for o in ("applied", "unchanged", "review", "quarantined"))
    assert sum(result["reasons"].values()) >= result["quarantined"]
