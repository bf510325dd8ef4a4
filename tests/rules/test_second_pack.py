"""A second rule pack, loaded by configuration: the engine has no reference-law assumptions."""

import datetime as dt

import pytest

from muster.audit.services import Actor
from muster.registry.models import Person
from muster.rules import engine, services
from muster.rules.models import Decision
from tests.factories import ingest, population

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.fixture
def examplia(settings):
    settings.MUSTER_RULEPACK = "examplia"
    return engine.current_pack()


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("2007-06-02", ("not_liable", "under_age", "2026-06-02")),  # 18: under Examplia's 19
        ("2004-03-27", ("liable", None, None)),  # 22: liable there (and here)
        ("2001-05-31", ("not_liable", "over_age", None)),  # 25: over Examplia's limit, liable in ru
    ],
)
def test_examplia_decides_by_its_own_law(examplia, feed, birth, expected):
    rec = population(birth_date=birth)
    ingest(feed([rec]), NOW)
    person = Person.objects.get(national_id=rec["national_id"])
    one = services.explain(person, dt.date(2026, 6, 1), pack=examplia)
    assert (one["status"], one["ground"], one["until"]) == expected
    assert {e["ground"] for e in one["explanation"]} == {"under_age", "over_age", "study"}
    services.evaluate(now=NOW, as_of=dt.date(2026, 6, 1), actor=Actor.system("t"), pack=examplia)
    d = Decision.objects.get(person=person)
    assert (d.status, d.ground, d.pack_version) == (expected[0], expected[1], "examplia-2020.1")
    ru = services.explain(person, dt.date(2026, 6, 1), pack=engine.load("ru"))
    assert ru["ground"] != one["ground"] or birth == "2004-03-27"
