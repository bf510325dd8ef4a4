"""The ingest's fast paths: read-ahead, compiled field checks, check digits, pre-assigned ids."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from muster.feeds import validation as v
from muster.feeds.ingest import read_ahead
from muster.feeds.models import Batch
from muster.registry import identifiers
from muster.registry.models import Fact, Person, SourceRecord
from tests.factories import ingest, population


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "muster-ingest-read-ahead"]


def test_read_ahead_keeps_order_and_finishes():
    assert list(read_ahead(iter(range(100)), depth=2)) == list(range(100))
    assert not _read_ahead_threads()


def test_read_ahead_raises_the_producers_error_in_the_consumer():
    def items():
        yield 1
        raise ValueError("bad file")

    got = []

    def consume():
        for item in read_ahead(items()):
            got.append(item)

    with pytest.raises(ValueError, match="bad file"):
        consume()
    assert got == [1]
    assert not _read_ahead_threads()


def test_read_ahead_stops_the_producer_when_the_consumer_stops():
    produced = []

    def items():
        for i in range(1_000_000):
            produced.append(i)
            yield i

    def consume():
        for item in read_ahead(items()):
            if item == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        consume()
    assert not _read_ahead_threads()
    assert len(produced) <= 5  # a chunk ahead, never the whole file


def test_read_ahead_holds_at_most_depth_plus_one_items():
    produced = []

    def items():
        for i in range(10):
            produced.append(i)
            yield i

    ahead = read_ahead(items(), depth=1)
    assert next(ahead) == 0
    time.sleep(0.3)  # the producer had time to run ahead as far as it may
    assert produced == [0, 1]  # the one the consumer holds and one ready
    assert list(ahead) == list(range(1, 10))


def test_compiled_fields_agree_with_check_fields():
    today = dt.date(2026, 6, 1)
    fields = (
        v.Field("a", v.text(5)),
        v.Field("b", v.date(today), required=False),
        v.Field("c", v.enum("x", "y")),
    )
    check = v.compile_fields(fields)
    records = [
        {"a": "abc", "b": "2001-02-03", "c": "x", "undeclared": 1},
        {"a": " ", "b": "2001-02-30", "c": "z"},
        {"a": 5, "b": "", "c": None},
        {"b": "2031-01-01", "c": ["x"]},
        {"a": "abcdef", "b": 20010203, "c": "y"},
    ]
    for rec in records:
        assert check(rec) == v.check_fields(rec, fields)
    assert check(records[0]) == ({"a": "abc", "b": dt.date(2001, 2, 3), "c": "x"}, [])


def test_date_checker_remembers_only_valid_dates():
    check = v.date(dt.date(2026, 6, 1))
    for _ in range(2):  # the second round answers from the checker's memory
        assert check("2004-03-27") == dt.date(2004, 3, 27)
        for value, suffix in (("2027-01-01", "future"), ("1899-12-31", "too_old"), ("2004-02-30", "format")):
            with pytest.raises(v.Invalid) as exc:
                check(value)
            assert exc.value.suffix == suffix
    with pytest.raises(v.Invalid):
        check(["2004-03-27"])


def _slow_weighted(digits: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


@pytest.mark.parametrize("body", ["000000000", "142088118", "999999999", "112233445", "987654321"])
def test_check_digits_equal_the_digit_by_digit_sum(body):
    total = _slow_weighted(body, range(9, 0, -1))
    total = total % 101 if total > 101 else total
    assert identifiers.snils_check(body) == ("00" if total in (100, 101) else f"{total:02d}")
    assert identifiers.inn10_check(body) == str(_slow_weighted(body, (2, 4, 10, 3, 5, 9, 4, 6, 8)) % 11 % 10)


def test_non_ascii_decimal_digits_are_summed_as_before():
    # Unicode decimal digits pass the \d pattern and int(); their arithmetic must not change.
    ascii_id = "14208811839"
    arabic = ascii_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert identifiers.snils_valid(ascii_id)
    assert identifiers.snils_check(arabic[:9]) == "39"
    assert not identifiers.snils_valid(arabic)  # its check digits are not the ASCII "39"
    with pytest.raises(ValueError, match="invalid literal"):
        identifiers.snils_check("12345678x")
    with pytest.raises(ValueError, match="expected 9 digits"):
        identifiers.snils_check("1234")


@pytest.mark.django_db
def test_preassigned_ids_tie_facts_source_records_and_persons(feed, now):
    first = [population() for _ in range(6)]
    ingest(feed(first), now, chunk_lines=4)
    changed = [dict(r, address="moved", changed_at="2026-03-01T00:00:00+03:00") for r in first[:3]]
    result = ingest(feed([*changed, *first[3:], population(), population()]), now, chunk_lines=3)
    assert (result["applied"], result["unchanged"]) == (5, 3)
    for sr in SourceRecord.objects.all():
        fact = Fact.objects.get(id=sr.fact_id)
        assert (fact.record_id, fact.person_id, fact.payload_hash) == (sr.record_id, sr.person_id, sr.payload_hash)
    for person in Person.objects.all():
        fact = Fact.objects.get(id=person.population_fact_id)
        assert fact.person_id == person.id
        assert fact.payload["address"] == person.address
        assert person.contact_fact_id == person.population_fact_id
    assert Person.objects.filter(address="moved").count() == 3
    assert Fact.objects.count() == 11
    assert Batch.objects.filter(state="complete").count() == 2


@pytest.mark.django_db
def test_stage_statistics_setting_is_restored(feed, now, vendor):
    if vendor != "postgresql":
        pytest.skip("the stage is analysed on PostgreSQL only")
    with connection.cursor() as cur:
        cur.execute("SHOW default_statistics_target")
        before = cur.fetchone()[0]
    ingest(feed([population() for _ in range(3)]), now)
    with connection.cursor() as cur:
        cur.execute("SHOW default_statistics_target")
        assert cur.fetchone()[0] == before


@pytest.mark.django_db
def test_a_large_batch_refreshes_the_planner_statistics(tmp_path, now):
    from django.db import connection

    from tests.factories import FeedWriter, ingest, population

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are refreshed on PostgreSQL only")
    with connection.cursor() as cur:  # statistics of an empty registry (other tests leave theirs)
        cur.execute("ANALYZE registry_sourcerecord")
        cur.execute("ANALYZE registry_person")
    ingest(FeedWriter(tmp_path)([population(n) for n in range(1, 41)]), now)
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_person'")
        assert cur.fetchone()[0] == 40
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'rules_features_ru'")
        assert cur.fetchone()[0] == 40


@pytest.mark.django_db
def test_empty_files_of_two_sources_are_two_batches(tmp_path, now):
    from tests.factories import ingest

    (tmp_path / "elections.jsonl").write_bytes(b"")
    (tmp_path / "digital.jsonl").write_bytes(b"")
    first = ingest(tmp_path / "elections.jsonl", now, "elections")
    second = ingest(tmp_path / "digital.jsonl", now, "digital")
    assert first["batch"] != second["batch"]
    assert (first["received"], second["received"]) == (0, 0)
    again = ingest(tmp_path / "digital.jsonl", now, "digital")
    assert again["batch"] == second["batch"]
