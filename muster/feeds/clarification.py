"""Data clarification campaigns: select persons whose data is missing, stale or in conflict,
ask each of them in their portal account, and take their answers as facts of source `citizen`."""

import datetime as dt

import orjson
from django.db import connection, transaction
from django.http import Http404

from muster.accounts.models import Role
from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.registry.models import Fact, Person, RegistrationStatus, SourceRecord

from .ingest import payload_digest
from .models import ClarificationCampaign, ClarificationRequest

P = Person._meta.db_table
F = Fact._meta.db_table
SR = SourceRecord._meta.db_table
ACTIVE = (
    RegistrationStatus.NOT_REGISTERED,
    RegistrationStatus.CALL_UP_AGE,
    RegistrationStatus.RESERVE,
    RegistrationStatus.EXEMPT,
)


class CampaignRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _criteria(raw: dict) -> dict:
    months = raw.get("address_older_than_months")
    criteria = {
        "missing_phone": bool(raw.get("missing_phone")),
        "address_older_than_months": int(months) if months not in (None, "") else None,
        "conflicts": bool(raw.get("conflicts")),
    }
    if criteria["address_older_than_months"] is not None and criteria["address_older_than_months"] < 1:
        raise CampaignRefused("criteria.months", "the age of an address is at least 1 month")
    if not any(v for v in criteria.values()):
        raise CampaignRefused("criteria.empty", "choose at least one criterion")
    return criteria


def _selection(office: str, criteria: dict, now: dt.datetime) -> tuple[str, dict]:
    """SQL selecting (person_id, reasons...) of the office's persons that meet any criterion."""
    ops = connection.ops
    params = {"office": office, "a0": ACTIVE[0], "a1": ACTIVE[1], "a2": ACTIVE[2], "a3": ACTIVE[3]}
    tests = []
    if criteria["missing_phone"]:
        tests.append(("missing_phone", "p.phone IS NULL"))
    if criteria["address_older_than_months"]:
        cutoff = now - dt.timedelta(days=round(30.44 * criteria["address_older_than_months"]))
        params["cutoff"] = ops.adapt_datetimefield_value(cutoff)
        tests.append(("stale_address", "p.population_changed_at < %(cutoff)s"))
    if criteria["conflicts"]:
        tests.append(
            (
                "conflict",
                f"EXISTS (SELECT 1 FROM {SR} sr JOIN {F} f ON f.id = sr.fact_id "
                "WHERE sr.person_id = p.id AND sr.source = 'interior' "
                "AND f.payload->>'address' <> p.address)",
            )
        )
    cols = ", ".join(f"CASE WHEN {t} THEN 1 ELSE 0 END AS {name}" for name, t in tests)
    where = " OR ".join(f"({t})" for _, t in tests)
    sql = (
        f"SELECT p.id, {cols} FROM {P} p WHERE p.office_id = %(office)s "
        "AND p.registration_status IN (%(a0)s, %(a1)s, %(a2)s, %(a3)s) "
        f"AND ({where})"
    )
    return sql, params


def _office(user) -> str:
    if user.role != Role.OFFICE_HEAD or not user.office_id:
        raise CampaignRefused("role.office_head", "only the head of an office launches a clarification campaign")
    return user.office_id


def preview(user, raw_criteria: dict, *, now: dt.datetime) -> dict:
    criteria = _criteria(raw_criteria)
    sql, params = _selection(_office(user), criteria, now)
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*), {', '.join(f'sum(x.{n})' for n in _names(criteria))} FROM ({sql}) x", params)
        row = cur.fetchone()
    return {
        "criteria": criteria,
        "count": row[0],
        "by_reason": dict(zip(_names(criteria), (int(v or 0) for v in row[1:]), strict=True)),
    }


def _names(criteria: dict) -> list[str]:
    return [
        n
        for n, on in (
            ("missing_phone", criteria["missing_phone"]),
            ("stale_address", criteria["address_older_than_months"]),
            ("conflict", criteria["conflicts"]),
        )
        if on
    ]


def launch(user, raw_criteria: dict, *, now: dt.datetime) -> ClarificationCampaign:
    """Select and notify in one transaction: each selected person gets a request in their portal."""
    criteria = _criteria(raw_criteria)
    office = _office(user)
    sql, params = _selection(office, criteria, now)
    names = _names(criteria)
    with transaction.atomic():
        campaign = ClarificationCampaign.objects.create(
            office_id=office, criteria=criteria, created_by=user.username, launched_at=now, selected=0
        )
        reasons = " || ".join(f"CASE WHEN x.{n} = 1 THEN '{n},' ELSE '' END" for n in names)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {ClarificationRequest._meta.db_table} "
                "(campaign_id, person_id, reasons, state, sent_at) "
                f"SELECT %(campaign)s, x.id, {reasons}, 'sent', %(now)s FROM ({sql}) x",
                {**params, "campaign": campaign.id, "now": connection.ops.adapt_datetimefield_value(now)},
            )
            campaign.selected = cur.rowcount
        campaign.save(update_fields=["selected"])
        audit(
            Actor.of(user),
            "clarification.launch",
            at=now,
            object_type="campaign",
            object_id=campaign.id,
            detail={"criteria": criteria, "selected": campaign.selected},
        )
    return campaign


def pending_for(person: Person):
    return ClarificationRequest.objects.filter(person=person, state=ClarificationRequest.State.SENT)


def respond(
    user,
    request_id: int,
    *,
    now: dt.datetime,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
) -> ClarificationRequest:
    """The citizen confirms their data (no corrections) or corrects it; corrections become
    facts of source `citizen`. Phone and email take effect when newer than the register's."""
    from . import validation as v

    if user.role != Role.CITIZEN:
        raise Http404
    corrections = {}
    for name, value, check in (("phone", phone, v.phone), ("email", email, v.email), ("address", address, v.text(300))):
        if value:
            try:
                corrections[name] = check(value.strip())
            except v.Invalid as exc:
                raise CampaignRefused(f"{name}.{exc.suffix}", f"the {name} is not valid") from None
    with transaction.atomic():
        req = (
            ClarificationRequest.objects.select_for_update()
            .select_related("person")
            .filter(id=request_id, person__national_id=user.national_id)
            .first()
        )
        if req is None:
            raise Http404
        if req.state != ClarificationRequest.State.SENT:
            raise CampaignRefused("clarification.answered", "this request was answered already")
        person = req.person
        if corrections:
            fact = Fact.objects.create(
                person=person,
                source="citizen",
                record_id=f"clarification-{req.id}",
                batch=None,
                line_no=None,
                received_at=now,
                changed_at=now,
                payload=corrections,
                payload_hash=payload_digest(orjson.dumps(corrections, option=orjson.OPT_SORT_KEYS)),
            )
            req.fact_id = fact.id
            contact = {k: corrections[k] for k in ("phone", "email") if k in corrections}
            if contact and (person.contact_changed_at is None or now > person.contact_changed_at):
                for k, val in contact.items():
                    setattr(person, k, val)
                person.contact_fact_id, person.contact_changed_at, person.updated_at = fact.id, now, now
                person.save(update_fields=[*contact, "contact_fact_id", "contact_changed_at", "updated_at"])
            req.state = ClarificationRequest.State.CORRECTED
        else:
            req.state = ClarificationRequest.State.CONFIRMED
        req.responded_at = now
        req.save(update_fields=["state", "responded_at", "fact_id"])
        audit(
            Actor.of(user),
            f"clarification.{req.state}",
            at=now,
            object_type="clarification",
            object_id=req.id,
            person_id=person.id,
            detail={"corrected": sorted(corrections)},
        )
    return req
