"""The public check: valid / cancelled / unknown and nothing else; rate limited per client."""

import pytest
from django.core.cache import cache
from django.test import Client

from muster.summons import services
from tests.summons.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limit():
    cache.clear()


def answer(client, number, birth):
    response = client.post("/verify/", {"number": number, "birth_date": birth})
    if response.status_code == 429:
        return "limited"
    body = response.content.decode()
    return body.split('data-answer="')[1].split('"')[0] if 'data-answer="' in body else None


def test_answers(liable, actor):
    s = services.issue(actor, liable.national_id, "medical", at("2026-06-20"), now=at("2026-06-01"))
    born = liable.birth_date
    client = Client()
    assert answer(client, s.number, born.isoformat()) == "valid"
    assert answer(client, s.number, born.strftime("%d.%m.%Y")) == "valid"  # as printed on the summons
    assert answer(client, s.number, "2000-01-01") == "unknown"  # a wrong birth date tells nothing more
    assert answer(client, s.number[:-1] + str((int(s.number[-1]) + 1) % 10), born.isoformat()) == "unknown"
    page = client.post("/verify/", {"number": s.number, "birth_date": born.isoformat()}).content.decode()
    assert liable.surname not in page
    assert liable.national_id not in page
    services.cancel(actor, s.number, "error", now=at("2026-06-02"))
    assert answer(client, s.number, born.isoformat()) == "cancelled"


def test_rate_limited_per_client(liable, actor):
    client = Client()
    results = [answer(client, "770000000001", "2000-01-01") for _ in range(12)]
    assert results[:10] == ["unknown"] * 10
    assert results[10:] == ["limited", "limited"]
