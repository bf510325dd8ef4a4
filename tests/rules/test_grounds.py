"""Every ground of the reference pack and its boundaries, in Python and in SQL alike."""

import datetime as dt

import pytest

from muster.audit.services import Actor
from muster.registry.models import Fact, Person, SourceRecord
from muster.rules import services
from muster.rules.models import Decision, DecisionChange
from tests.factories import agency, ingest, population

pytestmark = pytest.mark.django_db
D = dt.date
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
SYS = Actor.system("test")


@pytest.fixture
def make(feed):
    """A person born on `birth` with facts from the given sources: {source: [fields, ...]}."""

    def build(birth="2004-03-27", person=None, **facts) -> Person:
        rec = population(birth_date=birth, **(person or {}))
        ingest(feed([rec]), NOW)
        for n, (source, rows) in enumerate(facts.items()):
            rows = rows if isinstance(rows, list) else [rows]
            lines = [agency(source, rec, row, f"-{i}") for i, row in enumerate(rows)]
            if source == "application":
                _application(rec, lines)
            else:
                result = ingest(feed(lines), NOW, source=source)
                assert result["applied"] == len(lines), (n, result)
        return Person.objects.get(national_id=rec["national_id"])

    return build


def _application(rec, lines):
    """Facts a clerk accepted from documents the citizen submitted (source `application`)."""
    person = Person.objects.get(national_id=rec["national_id"])
    for line in lines:
        payload = {k: v for k, v in line.items() if k not in ("record_id", "changed_at")}
        fact = Fact.objects.create(
            person=person,
            source="application",
            record_id=line["record_id"],
            received_at=NOW,
            changed_at=NOW,
            payload=payload,
            payload_hash="x",
        )
        SourceRecord.objects.create(
            source="application",
            record_id=line["record_id"],
            person=person,
            fact_id=fact.id,
            changed_at=NOW,
            payload_hash="x",
        )


def both(person: Person, as_of: dt.date) -> tuple:
    """The decision from the Python path and from the SQL path; they must agree."""
    one = services.explain(person, as_of)
    services.evaluate(now=NOW, as_of=as_of, actor=SYS, scope=str(person.pk), write=True)
    stored = Decision.objects.get(person=person)
    sql = (stored.status, stored.ground, stored.until.isoformat() if stored.until else None)
    assert (one["status"], one["ground"], one["until"]) == sql
    return sql


FIT_G = {"fitness_category": "G", "examined_on": "2026-03-01", "valid_until": "2026-12-31"}
STUDY = {
    "institution_id": "U1",
    "institution_accredited": True,
    "level": "bachelor",
    "study_form": "full_time",
    "status": "enrolled",
    "start_date": "2022-09-01",
    "planned_end_date": "2027-06-30",
}
CHILD = {"event": "child_birth", "event_date": "2024-01-10", "child_birth_date": "2024-01-10"}


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, ("liable", None, None)),
        ({"person": {"sex": "F"}}, ("not_liable", "female", None)),
        ({"person": {"citizenship": "KZ"}}, ("not_liable", "not_citizen", None)),
        ({"person": {"death_date": "2026-05-01"}}, ("not_liable", "deceased", None)),
        ({"health": {"fitness_category": "D", "examined_on": "2026-01-01"}}, ("exempt", "fitness_d", None)),
        ({"health": {"fitness_category": "V", "examined_on": "2026-01-01"}}, ("exempt", "fitness_v", None)),
        (
            {
                "interior": {
                    "passport_number": "4512123456",
                    "passport_issued_on": "2018-04-01",
                    "region": "77",
                    "district": "001",
                    "address": "a",
                    "conviction": "unexpunged",
                    "conviction_until": "2027-02-01",
                    "criminal_case": "none",
                }
            },
            ("not_called_up", "conviction", "2027-02-01"),
        ),
        (
            {
                "interior": {
                    "passport_number": "4512123456",
                    "passport_issued_on": "2018-04-01",
                    "region": "77",
                    "district": "001",
                    "address": "a",
                    "conviction": "none",
                    "criminal_case": "court",
                }
            },
            ("not_called_up", "criminal_case", None),
        ),
        ({"health": FIT_G}, ("deferred", "fitness_g", "2026-12-31")),
        ({"education": STUDY}, ("deferred", "study", "2027-06-30")),
        (
            {
                "social": {
                    "care_type": "disabled_relative",
                    "relation": "mother",
                    "start_date": "2025-01-01",
                    "other_carers": False,
                }
            },
            ("deferred", "carer", None),
        ),
        (
            {
                "social": {
                    "care_type": "disabled_relative",
                    "relation": "mother",
                    "start_date": "2025-01-01",
                    "other_carers": True,
                }
            },
            ("liable", None, None),
        ),
        (
            {
                "social": {
                    "care_type": "minor_sibling_guardian",
                    "relation": "brother",
                    "start_date": "2025-01-01",
                    "end_date": "2028-05-05",
                    "other_carers": False,
                }
            },
            ("deferred", "sibling_guardian", "2028-05-05"),
        ),
        (
            {"civil": [CHILD, dict(CHILD, child_birth_date="2025-03-03", event_date="2025-03-03")]},
            ("deferred", "two_children", None),
        ),
        ({"civil": dict(CHILD, child_disabled=True)}, ("deferred", "disabled_child", "2027-01-10")),
        (
            {"application": {"kind": "child_without_mother", "child_birth_date": "2023-05-05"}},
            ("deferred", "child_without_mother", "2041-05-05"),
        ),
        (
            {"civil": CHILD, "application": {"kind": "wife_pregnancy", "weeks": 23, "expected_birth": "2026-09-01"}},
            ("deferred", "pregnant_wife", "2026-09-01"),
        ),
        (
            {"application": {"kind": "wife_pregnancy", "weeks": 23, "expected_birth": "2026-09-01"}},
            ("liable", None, None),
        ),  # a child is needed too
        (
            {"civil": CHILD, "application": {"kind": "wife_pregnancy", "weeks": 21, "expected_birth": "2026-09-01"}},
            ("liable", None, None),
        ),
        (
            {
                "elections": {
                    "role": "deputy",
                    "level": "municipal",
                    "term_start": "2024-09-10",
                    "term_end": "2029-09-10",
                }
            },
            ("deferred", "deputy", "2029-09-10"),
        ),
        (
            {"elections": {"role": "candidate", "level": "regional", "election_date": "2026-09-20"}},
            ("deferred", "candidate", "2026-09-20"),
        ),
        (
            {
                "digital": {
                    "employer_tax_id": "7707083893",
                    "employer_accredited": True,
                    "employed_since": "2025-01-10",
                    "listed_specialty_degree": True,
                }
            },
            ("deferred", "it_employee", "2035-03-27"),
        ),
        (
            {
                "digital": {
                    "employer_tax_id": "7707083893",
                    "employer_accredited": True,
                    "employed_since": "2025-12-10",
                    "listed_specialty_degree": True,
                }
            },
            ("liable", None, None),
        ),  # under 11 months
    ],
)
def test_each_ground(make, kw, expected):
    assert both(make(**kw), D(2026, 6, 1)) == expected


def test_strongest_ground_wins_and_longest_deferral(make):
    # Study until 2027 and category G until 2026-12: the longer deferral is named; both are listed.
    person = make(health=FIT_G, education=STUDY)
    assert both(person, D(2026, 6, 1)) == ("deferred", "study", "2027-06-30")
    fired = {e["ground"] for e in services.explain(person, D(2026, 6, 1))["explanation"] if e["fired"]}
    assert fired == {"fitness_g", "study"}
    # An open-ended deferral lasts longest.
    person2 = make(education=STUDY, civil=[CHILD, dict(CHILD, child_birth_date="2025-03-03")])
    assert both(person2, D(2026, 6, 1))[1] == "two_children"
    # Exemption beats a deferral; not liable beats everything.
    person3 = make(health={"fitness_category": "D", "examined_on": "2026-01-01"}, education=STUDY)
    assert both(person3, D(2026, 6, 1))[:2] == ("exempt", "fitness_d")
    person4 = make(person={"death_date": "2026-05-01"}, health={"fitness_category": "D", "examined_on": "2026-01-01"})
    assert both(person4, D(2026, 6, 1))[:2] == ("not_liable", "deceased")


@pytest.mark.parametrize(
    ("birth", "as_of", "expected"),
    [
        ("2008-06-01", D(2026, 5, 31), ("not_liable", "under_age", "2026-06-01")),
        ("2008-06-01", D(2026, 6, 1), ("liable", None, None)),
        # Turned 27 on or before 2023-12-31: reserve, also under the new law.
        ("1996-06-01", D(2023, 5, 31), ("liable", None, None)),
        ("1996-06-01", D(2023, 6, 1), ("not_liable", "over_age", None)),
        ("1996-06-01", D(2024, 6, 1), ("not_liable", "over_age", None)),
        # Turned 27 in 2024: liable until the day before the 30th birthday.
        ("1997-03-01", D(2027, 2, 28), ("liable", None, None)),
        ("1997-03-01", D(2027, 3, 1), ("not_liable", "over_age", None)),
        # Born 29 February: 18 on 1 March in a common year.
        ("2008-02-29", D(2026, 2, 28), ("not_liable", "under_age", "2026-03-01")),
        ("2008-02-29", D(2026, 3, 1), ("liable", None, None)),
        # Born 1 March of a common year, 18th birthday in a leap year: 1 March, not 29 February.
        ("2026-03-01", D(2044, 2, 29), ("not_liable", "under_age", "2044-03-01")),
    ],
)
def test_age_boundaries(make, birth, as_of, expected):
    assert both(make(birth=birth), as_of) == expected


@pytest.mark.parametrize(
    ("facts", "last_day", "ground"),
    [
        ({"education": STUDY}, D(2027, 6, 30), "study"),
        ({"health": FIT_G}, D(2026, 12, 31), "fitness_g"),
        (
            {
                "elections": {
                    "role": "deputy",
                    "level": "municipal",
                    "term_start": "2024-09-10",
                    "term_end": "2026-09-10",
                }
            },
            D(2026, 9, 10),
            "deputy",
        ),
    ],
)
def test_deferral_ends_after_its_last_day(make, facts, last_day, ground):
    person = make(**facts)
    assert both(person, last_day)[1] == ground
    assert both(person, last_day + dt.timedelta(days=1)) == ("liable", None, None)


def test_changes_are_written_once_with_history(make):
    person = make(health=FIT_G)
    first = services.evaluate(now=NOW, as_of=D(2026, 6, 1), actor=SYS)
    again = services.evaluate(now=NOW, as_of=D(2026, 6, 1), actor=SYS)
    assert again["changed"] == 0
    later = services.evaluate(now=NOW, as_of=D(2027, 1, 1), actor=SYS)
    assert later["transitions"].get("deferred->liable", 0) >= 1
    history = list(DecisionChange.objects.filter(person=person).values_list("status", "ground"))
    assert history[-2:] == [("deferred", "fitness_g"), ("liable", None)]
    assert first["evaluated"] == Person.objects.count()


def test_exemption_is_also_the_registration_status(make):
    person = make(health={"fitness_category": "D", "examined_on": "2026-01-01"})
    person.refresh_from_db()
    assert person.registration_status == "exempt"


def test_ingest_reevaluates_the_persons_it_touched(make, feed):
    person = make()
    assert Decision.objects.get(person=person).status == "liable"
    rec = {
        "record_id": "h-late",
        "changed_at": "2026-02-01T00:00:00+03:00",
        "national_id": person.national_id,
        "surname": person.surname,
        "given_name": person.given_name,
        "patronymic": person.patronymic,
        "birth_date": person.birth_date.isoformat(),
        "fitness_category": "D",
        "examined_on": "2026-02-01",
    }
    ingest(feed([rec]), NOW, source="health")
    assert Decision.objects.get(person=person).status == "exempt"


def test_explanation_names_facts_sources_parameters(make):
    person = make(health=FIT_G)
    out = services.explain(person, D(2026, 6, 1))
    g = next(e for e in out["explanation"] if e["ground"] == "fitness_g")
    assert g["fired"]
    assert g["citation"] == "53-FZ Art. 24 part 1 item a"
    assert g["facts"]["fitness_category"] == "G"
    assert g["sources"]["fitness_category"] is not None  # the fact id
    age = next(e for e in out["explanation"] if e["ground"] == "over_age")
    assert age["parameters"]["call_up.age_limit"]["value"] == 30
    assert {e["ground"] for e in out["explanation"]} >= {"under_age", "study", "it_employee"}


def test_what_if_writes_nothing(make, tmp_path):
    person = make(birth="1998-01-15")  # 28 on 2026-06-01: liable under the 30 limit
    services.evaluate(now=NOW, as_of=D(2026, 6, 1), actor=SYS)
    before = list(Decision.objects.values_list("person_id", "status"))
    result = services.evaluate(
        now=NOW, as_of=D(2026, 6, 1), actor=SYS, write=False, overrides={"call_up.age_limit": 27}
    )
    assert result["transitions"]["liable->not_liable"] >= 1
    assert any(r["office"] == person.office_id for r in result["by_office"])
    assert list(Decision.objects.values_list("person_id", "status")) == before
