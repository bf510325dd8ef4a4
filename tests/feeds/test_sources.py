"""The seven agency sources: reason codes, identity linkage outcomes, review, precedence, campaigns."""

import datetime as dt

import pytest

from muster.accounts.services import add_user
from muster.audit.services import Actor
from muster.feeds import clarification, review
from muster.feeds.models import ReviewItem
from muster.registry import precedence
from muster.registry.models import Fact, Person, SourceRecord
from tests.factories import ingest, population

pytestmark = pytest.mark.django_db
SYS = Actor.system("test")
PW = "correct horse battery"

IDENT = {"surname": "Смирнов", "given_name": "Алексей", "patronymic": "Петрович", "birth_date": "2004-03-27"}


def rec(source: str, n: int, person: dict | None = None, **fields) -> dict:
    base = {
        "interior": {
            "passport_number": "4512123456",
            "passport_issued_on": "2018-04-01",
            "region": "77",
            "district": "001",
            "address": "г. Москва, ул. Лесная, д. 2",
            "conviction": "none",
            "criminal_case": "none",
        },
        "health": {"fitness_category": "A", "examined_on": "2026-02-01"},
        "education": {
            "institution_id": "U-1",
            "institution_accredited": True,
            "level": "bachelor",
            "study_form": "full_time",
            "status": "enrolled",
            "start_date": "2022-09-01",
            "planned_end_date": "2026-06-30",
        },
        "elections": {"role": "deputy", "level": "municipal", "term_start": "2024-09-10", "term_end": "2029-09-10"},
        "digital": {
            "employer_tax_id": "7707083893",
            "employer_accredited": True,
            "employed_since": "2025-01-10",
            "listed_specialty_degree": True,
        },
        "civil": {"event": "child_birth", "event_date": "2025-05-05", "child_birth_date": "2025-05-05"},
        "social": {
            "care_type": "disabled_relative",
            "relation": "mother",
            "start_date": "2025-01-01",
            "other_carers": False,
        },
    }[source]
    ident = {k: person[k] for k in ("national_id", *IDENT)} if person else {}
    out = {"record_id": f"{source}-{n}", "changed_at": "2026-02-02T10:00:00+03:00", **ident, **base, **fields}
    return {k: v for k, v in out.items() if v is not None}


@pytest.fixture
def registry(feed, now):
    people = [
        population(**IDENT),
        population(surname="Кузнецов", given_name="Иван", patronymic="Сергеевич", birth_date="2001-11-05"),
        population(surname="Кузнецова", given_name="Анна", patronymic="Сергеевна", sex="F", birth_date="2001-11-05"),
    ]
    # Some more persons so that the linkage model has a registry to learn from.
    people += [
        population(surname=s, given_name=g, birth_date=f"{1990 + i % 15}-0{1 + i % 9}-1{i % 10}")
        for i, (s, g) in enumerate(
            [
                ("Попов", "Дмитрий"),
                ("Волков", "Андрей"),
                ("Соколов", "Максим"),
                ("Морозов", "Никита"),
                ("Лебедев", "Артём"),
                ("Козлов", "Егор"),
            ]
            * 5
        )
    ]
    ingest(feed(people), now)
    return people


SOURCE_ERRORS = [
    ("interior", {"passport_number": "45 12"}, "passport_number.format"),
    ("interior", {"passport_issued_on": "2001-01-01"}, "passport_issued_on.before_birth"),
    ("interior", {"conviction": "maybe"}, "conviction.enum"),
    ("interior", {"conviction_until": "2027-01-01"}, "conviction_until.unexpected"),
    ("interior", {"criminal_case": None}, "criminal_case.missing"),
    ("interior", {"district": "998"}, "district.unknown"),
    ("health", {"fitness_category": "E"}, "fitness_category.enum"),
    ("health", {"valid_until": "2026-08-01"}, "valid_until.unexpected"),
    ("health", {"fitness_category": "G", "valid_until": "2027-03-01"}, "valid_until.too_long"),
    ("health", {"fitness_category": "G", "valid_until": "2026-01-01"}, "valid_until.before_examined"),
    ("health", {"examined_on": "2030-01-01"}, "examined_on.future"),
    ("education", {"planned_end_date": "2021-01-01"}, "planned_end_date.before_start"),
    ("education", {"study_form": "evening"}, "study_form.enum"),
    ("education", {"institution_accredited": "perhaps"}, "institution_accredited.type"),
    ("elections", {"term_end": None}, "term_end.missing"),
    ("elections", {"role": "candidate", "term_start": None, "term_end": None}, "election_date.missing"),
    ("elections", {"term_end": "2020-01-01"}, "term_end.before_start"),
    ("digital", {"employer_tax_id": "7707083890"}, "employer_tax_id.checksum"),
    ("digital", {"employer_tax_id": "770708389"}, "employer_tax_id.format"),
    ("civil", {"child_birth_date": None}, "child_birth_date.missing"),
    ("civil", {"event": "adoption"}, "event.enum"),
    ("civil", {"event_date": "1999-01-01"}, "event_date.before_birth"),
    ("social", {"end_date": "2024-01-01"}, "end_date.before_start"),
    ("social", {"care_type": "pets"}, "care_type.enum"),
    ("social", {"other_carers": None}, "other_carers.missing"),
]


@pytest.mark.parametrize(("source", "fields", "reason"), SOURCE_ERRORS, ids=[r[2] for r in SOURCE_ERRORS])
def test_source_reason_codes(registry, feed, now, source, fields, reason):
    good = rec(source, 1, registry[0])
    bad = rec(source, 2, registry[0], **fields)
    result = ingest(feed([good, bad]), now, source=source)
    assert (result["applied"], result["quarantined"]) == (1, 1), result
    assert reason in result["reasons"]


@pytest.mark.parametrize("source", ["interior", "health", "education", "elections", "digital", "civil", "social"])
def test_identity_fields_are_checked_for_every_source(registry, feed, now, source):
    bad = rec(source, 1, registry[0], national_id="12345678900", birth_date="2030-01-01")
    result = ingest(feed([bad]), now, source=source)
    assert {"national_id.checksum", "birth_date.future"} <= set(result["reasons"])


def test_health_never_stores_diagnoses(registry, feed, now):
    r = rec("health", 1, registry[0], diagnosis="J45.0 asthma")
    ingest(feed([r]), now, source="health")
    fact = Fact.objects.get(source="health")
    assert "diagnosis" not in fact.payload
    assert "J45" not in str(fact.payload)


def test_exact_link_by_national_id(registry, feed, now):
    result = ingest(feed([rec("health", 1, registry[0])]), now, source="health", receipt=feed.folder / "r.jsonl")
    assert result["applied"] == 1
    assert Fact.objects.get(source="health").person.national_id == registry[0]["national_id"]


def test_probabilistic_link_without_national_id(registry, feed, now):
    r = rec("health", 1, registry[1], national_id=None)
    typo = rec("health", 2, registry[1] | {"surname": "Кузнецев"}, national_id=None, record_id="health-2")
    result = ingest(feed([r, typo]), now, source="health")
    assert result["applied"] == 2, result
    linked = set(SourceRecord.objects.filter(source="health").values_list("person__national_id", flat=True))
    assert linked == {registry[1]["national_id"]}


def test_national_id_that_disagrees_goes_to_matching(registry, feed, now):
    # Ivan's record carrying Anna's national_id: never linked to Anna on the number alone.
    r = rec("health", 1, registry[1] | {"national_id": registry[2]["national_id"]})
    result = ingest(feed([r]), now, source="health")
    linked = SourceRecord.objects.filter(source="health").values_list("person__national_id", flat=True)
    assert registry[2]["national_id"] not in linked
    assert result["applied"] + result["review"] == 1
    if result["review"]:
        held = ReviewItem.objects.get()
        assert registry[1]["national_id"] in {c["national_id"] for c in held.candidates}


def test_stranger_is_no_match(registry, feed, now):
    stranger = {
        "national_id": None,
        "surname": "Цыбульский",
        "given_name": "Феофан",
        "patronymic": "Ипатович",
        "birth_date": "1966-07-19",
    }
    result = ingest(feed([rec("health", 1, stranger)]), now, source="health", receipt=feed.folder / "r.jsonl")
    assert result["reasons"] == {"identity.no_match": 1}
    assert '"person":null' in (feed.folder / "r.jsonl").read_text()


@pytest.fixture
def review_item(registry, feed, now, monkeypatch):
    """An uncertain match: force the thresholds so that the record lands in review."""
    from muster.feeds import identity

    r = rec("health", 1, registry[1] | {"given_name": "Иоанн"}, national_id=None)
    ingest(feed([population()]), now)  # make sure a model exists
    model = identity.active_model() or identity.train([], now)
    monkeypatch.setattr(model, "upper", 1.01)
    monkeypatch.setattr(model, "lower", 0.0)
    monkeypatch.setattr(identity, "active_model", lambda: model)
    result = ingest(feed([r]), now, source="health", receipt=feed.folder / "r.jsonl")
    assert result["review"] == 1, result
    return ReviewItem.objects.get()


def test_review_accept_applies_exactly_once(review_item, registry, now):
    clerk = add_user("c1", "clerk", PW, actor=SYS, now=now, office=review_item.office_id)
    best = review_item.candidates[0]["person_id"]
    review.decide(clerk, review_item.id, person_id=best, now=now)
    with pytest.raises(review.ReviewRefused, match="already"):
        review.decide(clerk, review_item.id, person_id=best, now=now)
    assert Fact.objects.filter(source="health").count() == 1
    assert SourceRecord.objects.get(source="health").person_id == best


def test_review_accept_decides_the_rights_again(registry, feed, now, monkeypatch):
    from muster.feeds import identity
    from muster.rules.models import Decision

    ingest(feed([population()]), now)  # make sure a model exists
    model = identity.active_model() or identity.train([], now)
    monkeypatch.setattr(model, "upper", 1.01)
    monkeypatch.setattr(model, "lower", 0.0)
    monkeypatch.setattr(identity, "active_model", lambda: model)
    unfit = rec("health", 1, registry[1] | {"given_name": "Иоанн"}, national_id=None, fitness_category="D")
    assert ingest(feed([unfit]), now, source="health")["review"] == 1
    item = ReviewItem.objects.get()
    best = item.candidates[0]["person_id"]
    before = Decision.objects.get(person_id=best)
    assert before.status != "exempt"
    clerk = add_user("c1", "clerk", PW, actor=SYS, now=now, office=item.office_id)
    review.decide(clerk, item.id, person_id=best, now=now)
    after = Decision.objects.get(person_id=best)
    assert (after.status, after.ground) == ("exempt", "fitness_d")


def test_review_is_scoped_to_the_candidates_office(review_item, now):
    other = add_user("c2", "clerk", PW, actor=SYS, now=now, office="10-01")
    from django.http import Http404

    with pytest.raises(Http404):
        review.decide(other, review_item.id, person_id=None, now=now)


def test_review_reject_keeps_the_record(review_item, now):
    clerk = add_user("c1", "clerk", PW, actor=SYS, now=now, office=review_item.office_id)
    review.decide(clerk, review_item.id, person_id=None, now=now)
    review_item.refresh_from_db()
    assert review_item.state == "rejected"
    assert review_item.payload["given_name"] == "Иоанн"
    assert not Fact.objects.filter(source="health").exists()


def test_review_page_shows_field_weights(review_item, now, client):
    add_user("c1", "clerk", PW, actor=SYS, now=now, office=review_item.office_id)
    client.login(username="c1", password=PW)
    assert "Иоанн" in client.get("/office/reviews/").content.decode()
    page = client.get(f"/office/reviews/{review_item.id}/")
    assert page.status_code == 200
    assert b"given_name" in page.content
    response = client.post(f"/office/reviews/{review_item.id}/", {"decision": review_item.candidates[0]["person_id"]})
    assert response.status_code == 302
    assert ReviewItem.objects.get().state == "accepted"


def test_precedence_and_conflicts(registry, feed, now):
    person = Person.objects.get(national_id=registry[0]["national_id"])
    ingest(feed([rec("interior", 1, registry[0], address="г. Москва, ул. Старая, д. 9")]), now, source="interior")
    person.refresh_from_db()
    assert person.address == registry[0]["address"]  # the population register is the authority
    found = precedence.conflicts(person)
    assert set(found) == {"address"}
    assert {v["source"] for v in found["address"]} == {"population", "interior"}


def test_campaign_reaches_exactly_the_selected_persons(registry, feed, now):
    # Person 0: conflicting address; person 1: no phone; person 2: female, also no phone (not subject).
    ingest(feed([rec("interior", 1, registry[0], address="elsewhere")]), now, source="interior")
    ingest(
        feed(
            [
                dict(registry[1], phone=None, changed_at="2026-03-01T00:00:00+03:00"),
                dict(registry[2], phone=None, changed_at="2026-03-01T00:00:00+03:00"),
            ]
        ),
        now,
    )
    head = add_user("head", "office_head", PW, actor=SYS, now=now, office="77-01")
    preview = clarification.preview(head, {"missing_phone": True, "conflicts": True}, now=now)
    assert preview["count"] == 2
    assert preview["by_reason"] == {"missing_phone": 1, "conflict": 1}
    campaign = clarification.launch(head, {"missing_phone": True, "conflicts": True}, now=now)
    got = set(campaign.requests.values_list("person__national_id", flat=True))
    assert got == {registry[0]["national_id"], registry[1]["national_id"]}
    assert campaign.selected == 2


def test_citizen_corrects_phone_through_the_campaign(registry, feed, now):
    ingest(feed([dict(registry[1], phone=None, changed_at="2026-03-01T00:00:00+03:00")]), now)
    head = add_user("head", "office_head", PW, actor=SYS, now=now, office="77-01")
    campaign = clarification.launch(head, {"missing_phone": True}, now=now)
    citizen = add_user("ivan", "citizen", PW, actor=SYS, now=now, national_id=registry[1]["national_id"])
    req = clarification.pending_for(Person.objects.get(national_id=registry[1]["national_id"])).get()
    later = now + dt.timedelta(days=2)
    clarification.respond(citizen, req.id, now=later, phone="+79031112233")
    person = Person.objects.get(national_id=registry[1]["national_id"])
    assert person.phone == "+79031112233"
    assert Fact.objects.get(id=person.contact_fact_id).source == "citizen"
    with pytest.raises(clarification.CampaignRefused):
        clarification.respond(citizen, req.id, now=later, phone="+79031112233")
    assert campaign.requests.get().state == "corrected"


def test_only_an_office_head_launches(registry, now):
    clerk = add_user("c", "clerk", PW, actor=SYS, now=now, office="77-01")
    with pytest.raises(clarification.CampaignRefused):
        clarification.launch(clerk, {"missing_phone": True}, now=now)
