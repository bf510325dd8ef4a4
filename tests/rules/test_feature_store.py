"""The feature store: kept equal to the features derived from the facts, whichever path
wrote them; rebuilt when the pack's feature definition changes; the counts an evaluation
reports equal the decisions it stores."""

import datetime as dt

import pytest
from django.db import connection

from muster.audit.services import Actor
from muster.feeds import services as feeds
from muster.feeds.synthetic import generate
from muster.registry.models import Fact, Person, SourceRecord
from muster.rules import engine, services, store
from muster.rules.models import Decision, FeatureStore
from tests.factories import FeedWriter, agency, ingest, population

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 1)
ACTOR = Actor.system("test")


def stored_rows() -> dict[int, dict]:
    pack = engine.current_pack()
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {store.table(pack)}")
        cols = [c[0] for c in cur.description]
        return {row[0]: services._typed(pack, dict(zip(cols, row, strict=True))) for row in cur.fetchall()}


def test_store_equals_live_features_after_every_feed(tmp_path):
    generate(1200, tmp_path, seed=11)
    for source in ("population", "interior", "health", "education", "elections", "digital", "civil", "social"):
        assert (tmp_path / f"{source}.jsonl").stat().st_size, source
        feeds.ingest(source, tmp_path / f"{source}.jsonl", actor=ACTOR, now=NOW)
    rows = stored_rows()
    assert len(rows) == Person.objects.count() == 1200
    differ = [pid for pid in rows if rows[pid] != services.features_of(pid)]
    assert differ == []
    # The agency feeds reached the store, not only the population.
    assert any(r["fitness_category"] for r in rows.values())
    assert any(r["children"] for r in rows.values())


def test_a_fact_from_any_path_reaches_the_next_evaluation(tmp_path):
    feed = FeedWriter(tmp_path)
    rec = population(1, birth_date="2004-03-27")
    ingest(feed([rec]), NOW)
    person = Person.objects.get()
    assert Decision.objects.get(person=person).status == "liable"
    # A health category D written straight into the registry (no ingest, no evaluation):
    # the next evaluation of everyone must see it through the store's watermark.
    line = agency("health", rec, {"fitness_category": "D", "examined_on": "2026-11-01"})
    fact = Fact.objects.create(
        person=person,
        source="health",
        record_id=line["record_id"],
        received_at=NOW,
        changed_at=NOW,
        payload={"fitness_category": "D", "examined_on": "2026-11-01"},
        payload_hash="x" * 32,
    )
    SourceRecord.objects.create(
        source="health", record_id=line["record_id"], person=person, fact_id=fact.id, changed_at=NOW, payload_hash="x"
    )
    preview = services.evaluate(now=NOW, as_of=TODAY, actor=ACTOR, write=False)
    assert preview["changed"] == 1
    assert FeatureStore.objects.get(pack="ru").watermark < fact.id  # a preview writes nothing
    result = services.evaluate(now=NOW, as_of=TODAY, actor=ACTOR)
    assert result["changed"] == 1
    decision = Decision.objects.get(person=person)
    assert (decision.status, decision.ground) == ("exempt", "fitness_d")
    assert FeatureStore.objects.get(pack="ru").watermark == fact.id
    assert stored_rows()[person.pk]["fitness_category"] == "D"


def test_changed_definition_rebuilds_the_store(tmp_path):
    feed = FeedWriter(tmp_path)
    ingest(feed([population(1), population(2, sex="F")]), NOW)
    state = FeatureStore.objects.get(pack="ru")
    state.digest = "an older definition"
    state.save()
    with connection.cursor() as cur:  # a stale row the rebuild must not keep
        cur.execute(f"UPDATE {store.table(engine.current_pack())} SET sex = 'X'")
    services.evaluate(now=NOW, as_of=TODAY, actor=ACTOR)
    state.refresh_from_db()
    assert state.digest == store.digest(engine.current_pack(), services.Dialect(connection.vendor))
    assert state.persons == 2
    assert sorted(r["sex"] for r in stored_rows().values()) == ["F", "M"]


def test_rebuild_on_request_gives_the_same_decisions(tmp_path):
    generate(300, tmp_path, seed=5)
    for source in ("population", "health", "education", "civil"):
        feeds.ingest(source, tmp_path / f"{source}.jsonl", actor=ACTOR, now=NOW)
    before = dict(Decision.objects.values_list("person_id", "status"))
    rows = stored_rows()
    result = services.evaluate(now=NOW, as_of=TODAY, actor=ACTOR, rebuild_features=True)
    assert result["changed"] == 0
    assert stored_rows() == rows
    assert dict(Decision.objects.values_list("person_id", "status")) == before


@pytest.mark.parametrize("as_of", [TODAY, TODAY + dt.timedelta(days=800)])
def test_reported_counts_equal_the_stored_decisions(tmp_path, as_of):
    generate(500, tmp_path, seed=3)
    for source in ("population", "education", "elections"):
        feeds.ingest(source, tmp_path / f"{source}.jsonl", actor=ACTOR, now=NOW)
    preview = services.evaluate(now=NOW, as_of=as_of, actor=ACTOR, write=False)
    written = services.evaluate(now=NOW, as_of=as_of, actor=ACTOR)
    counts: dict[str, int] = {}
    for status, ground in Decision.objects.values_list("status", "ground"):
        k = f"{status}:{ground}" if ground else status
        counts[k] = counts.get(k, 0) + 1
    assert written["counts"] == counts == preview["counts"]
    assert written["changed"] == preview["changed"]
    assert sum(counts.values()) == written["evaluated"] == 500
    if as_of != TODAY:
        assert written["changed"] > 0  # 800 days on, birthdays and ends of study move people


def test_a_decision_keeps_its_inputs_in_the_history(tmp_path):
    feed = FeedWriter(tmp_path)
    rec = population(1, birth_date="2004-03-27")
    ingest(feed([rec]), NOW)
    ingest(feed([agency("health", rec, {"fitness_category": "D", "examined_on": "2026-11-01"})]), NOW, "health")
    decision = Decision.objects.get()
    assert (decision.status, decision.ground) == ("exempt", "fitness_d")
    kept = decision.inputs_row()
    assert (kept.status, kept.ground, kept.old_status) == ("exempt", "fitness_d", "liable")
    health = Fact.objects.get(source="health")
    assert kept.inputs["fitness_category"] == "D"
    assert kept.inputs["health_fact"] == health.id
    assert str(kept.inputs["birth_date"])[:10] == "2004-03-27"
