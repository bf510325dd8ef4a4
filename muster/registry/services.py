"""Registry services: reading persons on behalf of a user (scoped, audited) and their record."""

import datetime as dt

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from muster.accounts.models import STAFF_ROLES
from muster.audit.services import Actor
from muster.audit.services import record as audit

from .attributes import ATTRIBUTES
from .models import Fact, Person
from .scoping import visible_persons

LABELS = {
    "national_id": _("Insurance number (SNILS)"),
    "tax_id": _("Tax number (INN)"),
    "surname": _("Surname"),
    "given_name": _("Given name"),
    "patronymic": _("Patronymic"),
    "sex": _("Sex"),
    "birth_date": _("Date of birth"),
    "citizenship": _("Citizenship"),
    "region": _("Region"),
    "district": _("District"),
    "address": _("Registered address"),
    "postcode": _("Postcode"),
    "phone": _("Phone"),
    "email": _("Email"),
    "death_date": _("Date of death"),
}


class NotVisible(Http404):
    """The person does not exist or the caller may not see them: the same answer either way."""


def read_person(user, national_id: str, *, now: dt.datetime, purpose: str = "", channel: str = "web") -> Person:
    """The person as `user` may see them; every staff read and every refused read is audited."""
    actor = Actor.of(user)
    with transaction.atomic():
        person = visible_persons(user).select_related("office").filter(national_id=national_id).first()
        if person is None:
            audit(
                actor,
                "person.read_denied",
                at=now,
                object_type="person",
                object_id=national_id,
                purpose=purpose,
                detail={"channel": channel},
            )
        elif user.role in STAFF_ROLES:
            audit(
                actor,
                "person.read",
                at=now,
                object_type="person",
                object_id=national_id,
                person_id=person.pk,
                purpose=purpose,
                detail={"channel": channel},
            )
    if person is None:
        raise NotVisible(national_id)
    return person


def search(
    user,
    *,
    now: dt.datetime,
    national_id: str = "",
    surname: str = "",
    given_name: str = "",
    birth_date: dt.date | None = None,
    limit: int = 50,
) -> list[Person]:
    """Search within the caller's scope; the search itself is audited with its criteria."""
    qs = visible_persons(user).select_related("office")
    if national_id:
        qs = qs.filter(national_id=national_id)
    else:
        if not (surname and birth_date):
            return []
        from muster.feeds.linkage import normalise_name

        qs = qs.filter(surname_norm=normalise_name(surname), birth_date=birth_date)
        if given_name:
            qs = qs.filter(given_norm=normalise_name(given_name))
    with transaction.atomic():
        found = list(qs.order_by("surname", "given_name", "id")[:limit])
        criteria = (
            {"national_id": national_id}
            if national_id
            else {"surname": surname, "given_name": given_name, "birth_date": birth_date.isoformat()}
        )
        audit(
            Actor.of(user),
            "person.search",
            at=now,
            object_type="person",
            object_id="",
            detail={"criteria": criteria, "results": [p.national_id for p in found]},
        )
    return found


def _iso(value):
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def provenance(person: Person) -> dict[str, list[dict]]:
    """Every attribute's history, newest change first; `current` marks the value in force."""
    out: dict[str, list[dict]] = {a: [] for a in ATTRIBUTES}
    facts = Fact.objects.filter(person=person).order_by("-changed_at", "-id")
    for f in facts:
        for attr in ATTRIBUTES:
            if attr not in f.payload and f.source != "population":
                continue
            out[attr].append(
                {
                    "value": f.payload.get(attr),
                    "source": f.source,
                    "record_id": f.record_id,
                    "batch": f.batch_id,
                    "line": f.line_no,
                    "received_at": _iso(f.received_at),
                    "changed_at": _iso(f.changed_at),
                    "current": f.id == person.population_fact_id,
                }
            )
    return out


def person_record(person: Person) -> dict:
    """The golden record in the shape of SPEC section 3 (`muster person`, the API)."""
    return {
        **{a: _iso(getattr(person, a)) for a in ATTRIBUTES},
        "office": person.office_id,
        "registration_status": person.registration_status,
        "provenance": provenance(person),
        "decision": decision_of(person),
        **_summonses_and_measures(person),
    }


def read_person_operator(national_id: str, *, actor: Actor, now: dt.datetime, purpose: str) -> Person | None:
    """An operator's read from the command line: not scoped, always audited."""
    with transaction.atomic():
        person = Person.objects.select_related("office").filter(national_id=national_id).first()
        audit(
            actor,
            "person.read" if person else "person.read_denied",
            at=now,
            object_type="person",
            object_id=national_id,
            person_id=person.pk if person else None,
            purpose=purpose,
            detail={"channel": "cli"},
        )
    return person


def attribute_rows(person: Person) -> list[dict]:
    """For pages: each attribute with its value in force, its source and its older values."""
    prov = provenance(person)
    rows = []
    for attr in ATTRIBUTES:
        versions = prov[attr]
        current = next((v for v in versions if v["current"]), None)
        rows.append(
            {
                "name": attr,
                "label": LABELS[attr],
                "value": getattr(person, attr),
                "current": current,
                "history": [v for v in versions if not v["current"]],
            }
        )
    return rows


def decision_of(person: Person) -> dict | None:
    """The stored decision on the person's rights (the rights engine's), or None before any."""
    from muster.rules.models import Decision

    d = Decision.objects.filter(person=person).first()
    if d is None:
        return None
    return {
        "status": d.status,
        "ground": d.ground,
        "until": _iso(d.until),
        "as_of": _iso(d.as_of),
        "grounds_fired": d.fired_codes,
        "rule_pack": d.pack_version,
        "decided_at": _iso(d.decided_at),
    }


def _summonses_and_measures(person: Person) -> dict:
    from muster.measures.models import Measure
    from muster.summons.models import Summons
    from muster.summons.views import measure_json, summons_json

    summonses = Summons.objects.filter(person=person).select_related("person").order_by("-placed_at")
    measures = Measure.objects.filter(person=person).select_related("summons").order_by("-start", "id")
    return {"summonses": [summons_json(s) for s in summonses], "measures": [measure_json(m) for m in measures]}
