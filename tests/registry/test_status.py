"""Registration status at its boundaries, including the 2024 change of the call-up age limit."""

import datetime as dt

import pytest

from muster.registry import status
from muster.registry.models import Person
from tests.factories import ingest, population

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def person_born(feed, now):
    def make(birth: str, **kw) -> Person:
        rec = population(birth_date=birth, **kw)
        ingest(feed([rec]), now)
        return Person.objects.get(national_id=rec["national_id"])

    return make


@pytest.mark.parametrize(
    ("birth", "as_of", "expected"),
    [
        # Registered from 1 January of the year of the 17th birthday.
        ("2009-12-31", D(2025, 12, 31), "not_registered"),
        ("2009-12-31", D(2026, 1, 1), "call_up_age"),
        # The 30th birthday ends call-up age (law from 2024-01-01).
        ("1997-06-02", D(2027, 6, 1), "call_up_age"),
        ("1997-06-01", D(2027, 6, 1), "reserve"),
        # ...but who turned 27 in 2023 stays in the reserve although not yet 30.
        ("1996-06-02", D(2025, 6, 1), "reserve"),
        # Before 2024 the limit was 27.
        ("1996-06-02", D(2023, 6, 1), "call_up_age"),
        ("1996-06-01", D(2023, 6, 1), "reserve"),
        # Turned 27 on or before 2023-12-31: stays in the reserve after the change.
        ("1996-12-31", D(2024, 1, 1), "reserve"),
        # Turned 27 on 2024-01-01, under the new law: call-up age again until 30.
        ("1997-01-01", D(2024, 1, 1), "call_up_age"),
        # Reserve age limit: 50 before 2024, 55 from 2024.
        ("1971-06-01", D(2023, 12, 31), "removed"),
        ("1971-06-01", D(2024, 1, 1), "reserve"),
        # 29 February: comes of age on 1 March in common years.
        ("2000-02-29", D(2030, 2, 28), "call_up_age"),
        ("2000-02-29", D(2030, 3, 1), "reserve"),
    ],
)
def test_age_boundaries(person_born, birth, as_of, expected):
    person = person_born(birth)
    assert status.status_of(person, as_of) == expected
    status.refresh(as_of)
    person.refresh_from_db()
    assert person.registration_status == expected


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"sex": "F"}, "not_subject"),
        ({"citizenship": "KZ"}, "not_subject"),
        ({"death_date": "2026-01-02"}, "removed"),
    ],
)
def test_not_subject_and_removed(person_born, kw, expected):
    assert person_born("2004-05-05", **kw).registration_status == expected


def test_refresh_is_set_based_and_idempotent(person_born):
    for year in (2000, 2004, 2012):
        person_born(f"{year}-01-15")
    assert status.refresh(D(2030, 1, 20)) == 2  # 2000 -> reserve, 2012 -> call_up_age
    assert status.refresh(D(2030, 1, 20)) == 0
