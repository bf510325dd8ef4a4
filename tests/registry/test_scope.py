"""Scope: a clerk sees their office only, a citizen only themselves; refusals are 404 and audited."""

import pytest
from django.test import Client

from muster.accounts.services import add_user, new_token
from muster.audit.models import AuditEntry
from muster.audit.services import Actor
from tests.factories import ingest, population

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def people(feed, now):
    mine = population(region="77", district="001")
    other = population(region="78", district="001")
    ingest(feed([mine, other]), now)
    return mine, other


@pytest.fixture
def users(people, now):
    mine, _ = people
    sys = Actor.system("test")
    return {
        "clerk": add_user("clerk", "clerk", PASSWORD, actor=sys, now=now, office="77-01"),
        "far_clerk": add_user("far", "clerk", PASSWORD, actor=sys, now=now, office="78-01"),
        "regional": add_user("reg", "regional", PASSWORD, actor=sys, now=now, office="77-02"),
        "citizen": add_user("cit", "citizen", PASSWORD, actor=sys, now=now, national_id=mine["national_id"]),
        "auditor": add_user("aud", "auditor", PASSWORD, actor=sys, now=now),
        "admin": add_user("adm", "admin", PASSWORD, actor=sys, now=now),
    }


def _api(user, nid, now):
    client = Client()
    token = new_token(user, actor=Actor.system("test"), now=now)
    return client.get(f"/api/persons/{nid}", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize(
    ("who", "whose", "status"),
    [
        ("clerk", 0, 200),
        ("clerk", 1, 404),
        ("far_clerk", 0, 404),
        ("far_clerk", 1, 200),
        ("regional", 0, 200),
        ("regional", 1, 404),
        ("citizen", 0, 200),
        ("citizen", 1, 404),
        ("auditor", 0, 404),
        ("admin", 0, 404),
    ],
)
def test_api_scope(users, people, now, who, whose, status):
    nid = people[whose]["national_id"]
    response = _api(users[who], nid, now)
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["national_id"] == nid
        assert body["provenance"]["surname"][0]["source"] == "population"


def test_refused_read_is_audited_and_reveals_nothing(users, people, now):
    nid = people[0]["national_id"]
    response = _api(users["far_clerk"], nid, now)
    assert response.status_code == 404
    assert nid.encode() not in response.content or b"Not Found" in response.content
    entry = AuditEntry.objects.filter(action="person.read_denied").get()
    assert (entry.actor, entry.actor_office, entry.object_id) == ("far", "78-01", nid)
    # A person who does not exist gives the very same answer.
    assert _api(users["far_clerk"], "00000000000", now).status_code == 404


def test_staff_reads_are_audited_citizen_own_reads_are_not(users, people, now):
    nid = people[0]["national_id"]
    assert _api(users["clerk"], nid, now).status_code == 200
    assert _api(users["citizen"], nid, now).status_code == 200
    reads = AuditEntry.objects.filter(action="person.read")
    assert [(e.actor, e.actor_role, e.person_id is not None) for e in reads] == [("clerk", "clerk", True)]


def test_no_credentials_no_data(people):
    assert Client().get(f"/api/persons/{people[0]['national_id']}").status_code == 401
    assert Client().get("/api/persons/x", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401


def test_session_auth_and_card_page(users, people):
    client = Client()
    assert client.login(username="clerk", password=PASSWORD)
    nid = people[0]["national_id"]
    assert client.get(f"/api/persons/{nid}").status_code == 200
    page = client.get(f"/office/persons/{nid}/")
    assert page.status_code == 200
    assert people[0]["record_id"].encode() in page.content
    assert client.get(f"/office/persons/{people[1]['national_id']}/").status_code == 404


def test_openapi_document():
    doc = Client().get("/api/openapi.json").json()
    assert "/api/persons/{national_id}" in doc["paths"]


def test_person_card_query_count_is_bounded(users, people, django_assert_max_num_queries):
    """The hot page must not grow a query per attribute or per fact."""
    client = Client()
    assert client.login(username="clerk", password=PASSWORD)
    nid = people[0]["national_id"]
    with django_assert_max_num_queries(45):
        assert client.get(f"/office/persons/{nid}/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/api/persons/{nid}").status_code == 200
