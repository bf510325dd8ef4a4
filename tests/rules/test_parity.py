"""One definition, two executions: on a generated population, the SQL decisions of the whole
population equal the Python decisions person by person."""

import datetime as dt

import pytest

from muster.audit.services import Actor
from muster.feeds import services as feeds
from muster.feeds.synthetic import generate
from muster.registry.models import Person
from muster.rules import services
from muster.rules.models import Decision

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def feed_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("population")
    generate(1500, out, seed=7)
    return out


@pytest.mark.parametrize("as_of", [dt.date(2026, 12, 1), dt.date(2023, 12, 31), dt.date(2024, 1, 1)])
def test_sql_and_python_agree(feed_dir, as_of):
    for source in ("population", "interior", "health", "education", "elections", "digital", "civil", "social"):
        feeds.ingest(source, feed_dir / f"{source}.jsonl", actor=Actor.system("test"), now=NOW)
    services.evaluate(now=NOW, as_of=as_of, actor=Actor.system("test"))
    stored = {d.person_id: (d.status, d.ground, d.until) for d in Decision.objects.all()}
    assert len(stored) == Person.objects.count() == 1500
    mismatches = []
    for person in Person.objects.all():
        one = services.explain(person, as_of)
        got = (one["status"], one["ground"], dt.date.fromisoformat(one["until"]) if one["until"] else None)
        if got != stored[person.pk]:
            mismatches.append((person.national_id, got, stored[person.pk]))
    assert mismatches == []
    statuses = {s for s, _, _ in stored.values()}
    assert {"liable", "not_liable", "deferred"} <= statuses
