"""Guards, four eyes, and the clock's independence from how time is cut into ticks."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.accounts.services import add_user
from muster.audit.services import Actor
from muster.measures.models import Measure
from muster.registry.models import Person
from muster.summons import clock, services
from muster.summons.models import Summons
from tests.factories import agency, ingest, population
from tests.summons.conftest import at

pytestmark = pytest.mark.django_db
PW = "correct horse battery"


def _person(feed, facts=None, **kw):
    rec = population(**kw)
    ingest(feed([rec]), at("2026-06-01"))
    for source, row in (facts or {}).items():
        r = ingest(feed([agency(source, rec, row)]), at("2026-06-01"), source=source)
        assert r["applied"] == 1, r
    return Person.objects.get(national_id=rec["national_id"])


@pytest.mark.parametrize(
    ("kw", "facts", "code", "ground"),
    [
        ({"sex": "F"}, None, "not_liable", "female"),
        ({"birth_date": "2010-01-01"}, None, "not_liable", "under_age"),
        ({"birth_date": "1990-01-01"}, None, "not_liable", "over_age"),
        ({"citizenship": "BY"}, None, "not_liable", "not_citizen"),
        ({"death_date": "2026-05-01"}, None, "not_liable", "deceased"),
        ({}, {"health": {"fitness_category": "D", "examined_on": "2026-01-01"}}, "exempt", "fitness_d"),
        (
            {},
            {
                "interior": {
                    "passport_number": "4512123456",
                    "passport_issued_on": "2018-04-01",
                    "region": "77",
                    "district": "001",
                    "address": "a",
                    "conviction": "none",
                    "criminal_case": "investigation",
                }
            },
            "not_called_up",
            "criminal_case",
        ),
        (
            {},
            {
                "education": {
                    "institution_id": "U1",
                    "institution_accredited": True,
                    "level": "bachelor",
                    "study_form": "full_time",
                    "status": "enrolled",
                    "start_date": "2022-09-01",
                    "planned_end_date": "2027-06-30",
                }
            },
            "deferred",
            "study",
        ),
        (
            {},
            {"health": {"fitness_category": "G", "examined_on": "2026-03-01", "valid_until": "2026-12-01"}},
            "deferred",
            "fitness_g",
        ),
    ],
)
def test_call_up_refused_naming_the_ground(feed, kw, facts, code, ground):
    person = _person(feed, facts, **kw)
    with pytest.raises(services.Refused) as exc:
        services.issue(Actor.system("t"), person.national_id, "call_up", at("2026-06-20"), now=at("2026-06-01"))
    assert (exc.value.code, exc.value.ground) == (code, ground)
    assert not Summons.objects.exists()


def test_other_purposes_are_allowed_for_a_deferred_person(feed):
    person = _person(
        feed, {"health": {"fitness_category": "G", "examined_on": "2026-03-01", "valid_until": "2026-12-01"}}
    )
    s = services.issue(Actor.system("t"), person.national_id, "medical", at("2026-06-20"), now=at("2026-06-01"))
    assert s.state == "issued"


def test_no_two_open_summonses_of_one_purpose_and_the_window(liable, actor):
    services.issue(actor, liable.national_id, "call_up", at("2026-06-20"), now=at("2026-06-01"))
    with pytest.raises(services.Refused) as exc:
        services.issue(actor, liable.national_id, "call_up", at("2026-06-21"), now=at("2026-06-01"))
    assert exc.value.code == "summons.open"
    with pytest.raises(services.Refused) as exc:
        services.issue(actor, liable.national_id, "medical", at("2026-07-02"), now=at("2026-06-01"))
    assert exc.value.code == "appear_at.too_late"
    with pytest.raises(services.Refused) as exc:
        services.issue(actor, liable.national_id, "medical", at("2026-05-30"), now=at("2026-06-01"))
    assert exc.value.code == "appear_at.past"


def test_campaign_four_eyes(feed, now):
    for i in range(6):
        ingest(feed([population(birth_date=f"200{i}-02-02")]), at("2026-06-01"))
    ingest(feed([population(sex="F")]), at("2026-06-01"))
    sys = Actor.system("t")
    clerk = add_user("clerk", "clerk", PW, actor=sys, now=now, office="77-01")
    head = add_user("head", "office_head", PW, actor=sys, now=now, office="77-01")
    other_head = add_user("head2", "office_head", PW, actor=sys, now=now, office="78-01")
    c = services.prepare_campaign(
        head,
        purpose="call_up",
        criteria={"age_min": 18, "age_max": 29},
        appear_at=at("2026-06-25"),
        place="Office 1",
        now=at("2026-06-01"),
    )
    assert c.preview["selected"] == 7  # born 2000..2005 and the woman: all 18..29 on 2026-06-25
    assert c.preview["excluded"] == {"not_liable:female": 1}
    with pytest.raises(services.Refused, match="prepared"):
        services.approve_campaign(head, c.id, now=at("2026-06-01"))
    with pytest.raises(services.Refused):
        services.approve_campaign(other_head, c.id, now=at("2026-06-01"))
    with pytest.raises(services.Refused, match="not approved"):
        services.issue_campaign(clerk, c.id, now=at("2026-06-01"))
    c2 = services.prepare_campaign(
        clerk,
        purpose="call_up",
        criteria={"age_min": 18, "age_max": 29},
        appear_at=at("2026-06-25"),
        place="Office 1",
        now=at("2026-06-01"),
    )
    services.approve_campaign(head, c2.id, now=at("2026-06-01"))
    done = services.issue_campaign(clerk, c2.id, now=at("2026-06-02"))
    assert done.issued == c2.preview["eligible"] == 6
    assert Measure.objects.filter(kind="exit", state="active").count() == 6
    assert len(set(Summons.objects.values_list("number", flat=True))) == 6


def _state():
    return (
        sorted(Summons.objects.values_list("number", "state", "delivered_at", "delivery_channel", "failed_at")),
        sorted(Measure.objects.values_list("summons__number", "kind", "state", "start")),
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=1, max_value=60 * 24), min_size=0, max_size=6))
def test_any_partition_of_time_into_ticks_gives_the_same_state(liable, actor, cuts):
    from django.db import transaction

    sid = transaction.savepoint()
    try:
        for purpose, appear in (("call_up", "2026-06-20"), ("medical", "2026-06-25")):
            services.issue(actor, liable.national_id, purpose, at(appear), now=at("2026-06-01"))
        start, end = at("2026-06-01"), at("2026-07-30")
        times = sorted({start + dt.timedelta(hours=h) for h in cuts if start + dt.timedelta(hours=h) < end})
        for t in [*times, end, end]:
            clock.tick(t, rights=False)
        got = _state()
    finally:
        transaction.savepoint_rollback(sid)
    sid = transaction.savepoint()
    try:
        for purpose, appear in (("call_up", "2026-06-20"), ("medical", "2026-06-25")):
            services.issue(actor, liable.national_id, purpose, at(appear), now=at("2026-06-01"))
        clock.tick(at("2026-07-30"), rights=False)
        once = _state()
    finally:
        transaction.savepoint_rollback(sid)
    # Summons numbers differ between the two runs (new serials): compare without them.
    strip = lambda s: ([r[1:] for r in s[0]], [r[1:] for r in s[1]])  # noqa: E731
    assert strip(got) == strip(once)
    assert len(once[1]) == 2 + 5 * 2  # two exit restrictions, five further measures each
