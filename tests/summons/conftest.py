import datetime as dt

import pytest
from django.utils import timezone

from muster.audit.services import Actor
from muster.registry.models import Person
from tests.factories import ingest, population

MSK = timezone.get_fixed_timezone(180)


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=MSK)


@pytest.fixture
def actor():
    return Actor("clerk1", "clerk", "77-01")


@pytest.fixture
def liable(feed):
    """A liable man of call-up age, with his decision taken."""
    rec = population(birth_date="2004-03-27")
    ingest(feed([rec]), at("2026-06-01"))
    return Person.objects.get(national_id=rec["national_id"])
