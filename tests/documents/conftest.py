import pytest

from muster.registry.models import Office, Person
from tests import factories


@pytest.fixture
def person(feed, now):
    record = factories.population()
    factories.ingest(feed([record]), now)
    return Person.objects.get(national_id=record["national_id"])


@pytest.fixture
def office(person):
    return person.office or Office.objects.order_by("code").first()


@pytest.fixture
def summons(person, office):
    number = "7700000012345"
    return {
        "number": number,
        "surname": person.surname,
        "given_name": person.given_name,
        "patronymic": person.patronymic or "",
        "birth_date": person.birth_date.isoformat(),
        "national_id": person.national_id,
        "office_code": office.code,
        "office_name": office.name,
        "purpose": "medical",
        "appear_at": "2026-06-15T10:00:00+03:00",
        "place": "ул. Тверская, д. 1, каб. 12",
        "issued_by": "clerk1",
        "placed_at": "2026-06-01T15:00:00+03:00",
        "verify_url": f"https://muster.example/verify/?number={number}",
    }
