"""Summons services: issue (one or a campaign), deliver, appear, cancel, excuse.

Each call is one transaction that writes the change, its events, the measures it starts or
lifts (with their outbox messages and notifications) and its audit entry. The guards that
refuse a summons are one SQL definition used for one person and for a whole campaign.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from muster.accounts.models import Role, User
from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.measures import services as measures
from muster.registry.models import Person
from muster.rules import parameters as p

from . import numbers
from .models import Campaign, Summons, SummonsEvent

S = Summons._meta.db_table
E = SummonsEvent._meta.db_table
P = Person._meta.db_table
OPEN = ("issued", "delivered", "failed_to_appear")


class Refused(Exception):
    def __init__(self, code: str, message: str, ground: str | None = None):
        super().__init__(message)
        self.code = code
        self.ground = ground


def _law(name: str, day: dt.date):
    return p.get(name, day).value


def refusal_sql(purpose: str) -> str:
    """Why a summons of `purpose` may not be issued to person `p` (NULL when it may).

    call_up needs a current decision `liable`; nobody who died is summoned; no second open
    summons of the same purpose."""
    call_up = purpose == Summons.Purpose.CALL_UP
    return f"""CASE
  WHEN p.death_date IS NOT NULL THEN 'not_liable:deceased'
  {"WHEN d.status IS NULL THEN 'decision.missing:'" if call_up else ""}
  {"WHEN d.status <> 'liable' THEN d.status || ':' || COALESCE(d.ground, '')" if call_up else ""}
  WHEN EXISTS (SELECT 1 FROM {S} o WHERE o.person_id = p.id AND o.purpose = '{purpose}'
               AND o.state IN {OPEN} AND o.excused_at IS NULL) THEN 'summons.open:'
  ELSE NULL END"""


def _check_window(appear_at: dt.datetime, placed_at: dt.datetime) -> None:
    limit = _law("summons.max_appearance_days", timezone.localdate(placed_at))
    if appear_at <= placed_at:
        raise Refused("appear_at.past", "the appearance must be after the summons is placed")
    if timezone.localdate(appear_at) > timezone.localdate(placed_at) + dt.timedelta(days=limit):
        raise Refused("appear_at.too_late", f"the appearance may be at most {limit} days after placement")


def _clock(placed_at: dt.datetime, appear_at: dt.datetime) -> tuple[dt.datetime, dt.date]:
    """The clock's fixed points, from the law in force at placement."""
    day = timezone.localdate(placed_at)
    deemed = placed_at + dt.timedelta(days=_law("summons.deemed_delivery_days", day))
    further = timezone.localdate(appear_at) + dt.timedelta(days=_law("measures.further_after_days", day))
    return deemed, further


def _allocate_ids(cur, n: int) -> list[int]:
    if connection.vendor == "postgresql":
        cur.execute(f"SELECT nextval(pg_get_serial_sequence('{S}', 'id')) FROM generate_series(1, %s)", [n])
        return [r[0] for r in cur.fetchall()]
    cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {S}")
    base = cur.fetchone()[0]
    return list(range(base + 1, base + n + 1))


@dataclass
class Placement:
    purpose: str
    appear_at: dt.datetime
    place: str
    issued_by: str
    placed_at: dt.datetime
    campaign_id: int | None = None


def _place(cur, pl: Placement, persons_sql: str, params: dict) -> int:
    """Create the summonses for the persons `persons_sql` selects (columns id, office_id, region,
    portal), with their events, portal delivery, exit restrictions; set-based."""
    ops = connection.ops
    deemed, further = _clock(pl.placed_at, pl.appear_at)
    cur.execute(f"SELECT id, office_id, region, portal FROM ({persons_sql}) x ORDER BY id", params)
    rows = cur.fetchall()
    if not rows:
        return 0
    ids = _allocate_ids(cur, len(rows))
    now = ops.adapt_datetimefield_value(pl.placed_at)
    values = [
        (
            sid,
            numbers.make(region, sid),
            pid,
            office,
            pl.purpose,
            ops.adapt_datetimefield_value(pl.appear_at),
            pl.place,
            pl.issued_by,
            now,
            ops.adapt_datetimefield_value(deemed),
            ops.adapt_datefield_value(further),
            "delivered" if portal else "issued",
            now if portal else None,
            "portal" if portal else "",
            pl.campaign_id,
        )
        for sid, (pid, office, region, portal) in zip(ids, rows, strict=True)
    ]
    cols = (
        "id, number, person_id, office_id, purpose, appear_at, place, issued_by, placed_at, deemed_at, "
        "further_from, state, delivered_at, delivery_channel, campaign_id, cancel_reason, excuse"
    )
    if connection.vendor == "postgresql":
        with cur.cursor.copy(f"COPY {S} ({cols}) FROM STDIN") as copy:
            for v in values:
                copy.write_row((*v, "", ""))
    else:
        cur.executemany(f"INSERT INTO {S} ({cols}) VALUES ({', '.join(['%s'] * 17)})", [(*v, "", "") for v in values])
    lo, hi = ids[0], ids[-1]
    ev = {"lo": lo, "hi": hi, "now": now, "actor": pl.issued_by}
    cur.execute(
        f"INSERT INTO {E} (summons_id, at, kind, cause, actor) SELECT id, placed_at, 'placed', '', "
        f"%(actor)s FROM {S} WHERE id BETWEEN %(lo)s AND %(hi)s",
        ev,
    )
    cur.execute(
        f"INSERT INTO {E} (summons_id, at, kind, cause, actor) SELECT id, delivered_at, 'delivered', "
        f"'portal', %(actor)s FROM {S} WHERE id BETWEEN %(lo)s AND %(hi)s AND delivery_channel = 'portal'",
        ev,
    )
    day = timezone.localdate(pl.placed_at)
    if pl.purpose in _law("measures.exit_purposes", day):
        measures.start(
            cur,
            summons_where="s.id BETWEEN %(lo)s AND %(hi)s",
            kinds=["exit"],
            start_sql="%(start)s",
            params={**ev, "start": ops.adapt_datefield_value(day)},
            now=pl.placed_at,
        )
    cur.execute(
        "INSERT INTO measures_notification (person_id, at, kind, data) "
        f"SELECT person_id, placed_at, 'summons.placed', {_summons_json()} FROM {S} s "
        "WHERE s.id BETWEEN %(lo)s AND %(hi)s",
        ev,
    )
    return len(rows)


def _summons_json() -> str:
    from muster.rules.dialect import Dialect

    return Dialect(connection.vendor).json_object_expr(
        {"summons": "s.number", "purpose": "s.purpose", "appear_at": "s.appear_at", "place": "s.place"}
    )


def _persons_sql(purpose: str, where: str) -> str:
    U = User._meta.db_table
    return (
        f"SELECT p.id, p.office_id, p.region, "
        f"CASE WHEN EXISTS (SELECT 1 FROM {U} u WHERE u.national_id = p.national_id AND u.is_active "
        f"AND u.role = '{Role.CITIZEN}') THEN 1 ELSE 0 END AS portal, {refusal_sql(purpose)} AS refusal "
        f"FROM {P} p LEFT JOIN rules_decision d ON d.person_id = p.id WHERE {where}"
    )


def issue(
    actor: Actor, national_id: str, purpose: str, appear_at: dt.datetime, *, now: dt.datetime, place: str | None = None
) -> Summons:
    """Issue one summons, or refuse naming the reason (and, for call-up, the ground)."""
    if purpose not in Summons.Purpose.values:
        raise Refused("purpose.unknown", f"purpose must be one of {', '.join(Summons.Purpose.values)}")
    _check_window(appear_at, now)
    with transaction.atomic(), connection.cursor() as cur:
        person = (
            Person.objects.select_for_update(of=("self",))
            .select_related("office")
            .filter(national_id=national_id)
            .first()
        )
        if person is None:
            raise Refused("person.not_found", f"no person with national_id {national_id}")
        if purpose == Summons.Purpose.CALL_UP:
            # The decision is taken afresh, so the guard never relies on a stale one.
            from muster.rules.services import evaluate

            evaluate(
                now=now, as_of=timezone.localdate(now), actor=actor, scope=str(person.pk)
            )  # a literal id: an index lookup, not a semi-join
        cur.execute(f"SELECT refusal FROM ({_persons_sql(purpose, 'p.id = %(pid)s')}) x", {"pid": person.pk})
        refusal = cur.fetchone()[0]
        if refusal:
            code, _, ground = refusal.partition(":")
            raise Refused(code, _refusal_text(code, ground), ground or None)
        pl = Placement(purpose, appear_at, place or _default_place(person), actor.name, now)
        _place(cur, pl, _persons_sql(purpose, "p.id = %(pid)s"), {"pid": person.pk})
        summons = Summons.objects.filter(person=person, purpose=purpose).order_by("-id").first()
        audit(
            actor,
            "summons.issue",
            at=now,
            object_type="summons",
            object_id=summons.number,
            person_id=person.pk,
            detail={"purpose": purpose, "appear_at": appear_at.isoformat(), "state": summons.state},
        )
        _attach_document(summons, actor, now)
    return summons


def _default_place(person: Person) -> str:
    return f"{person.office.name}" if person.office else "the recruitment office"


def _refusal_text(code: str, ground: str) -> str:
    return {
        "summons.open": "the person already has an open summons of this purpose",
        "decision.missing": "no decision on the person's rights exists yet",
        "not_liable": f"the person is not liable for call-up (ground: {ground})",
        "exempt": f"the person is exempt from call-up (ground: {ground})",
        "not_called_up": f"the person is not called up (ground: {ground})",
        "deferred": f"the person holds a valid deferral (ground: {ground})",
    }.get(code, code)


def _attach_document(summons: Summons, actor: Actor, now: dt.datetime) -> None:
    """The summons as a signed PDF in the document store (when the documents app is installed)."""
    from django.apps import apps

    if not apps.is_installed("muster.documents"):
        return
    from muster.documents import services as documents

    doc = documents.summons_document(
        summons_dict(summons), now=now, created_by=actor.name, owner=summons.person, office=summons.office
    )
    Summons.objects.filter(id=summons.id).update(document_id=doc.id)
    summons.document_id = doc.id


def summons_dict(s: Summons) -> dict:
    from django.conf import settings

    person = s.person
    return {
        "number": s.number,
        "surname": person.surname,
        "given_name": person.given_name,
        "patronymic": person.patronymic or "",
        "birth_date": person.birth_date.isoformat(),
        "national_id": person.national_id,
        "office_code": s.office_id,
        "office_name": s.office.name,
        "purpose": s.purpose,
        "appear_at": timezone.localtime(s.appear_at).isoformat(),
        "place": s.place,
        "issued_by": s.issued_by,
        "placed_at": timezone.localtime(s.placed_at).isoformat(),
        "verify_url": f"{settings.MUSTER_PUBLIC_URL}/verify/?number={s.number}",
    }


# -- transitions of one summons ------------------------------------------------


def _get(number: str) -> Summons:
    s = Summons.objects.select_for_update(of=("self",)).select_related("person", "office").filter(number=number).first()
    if s is None:
        raise Refused("summons.not_found", f"no summons {number}")
    return s


def _event(s: Summons, kind: str, at: dt.datetime, actor: Actor, cause: str = "") -> None:
    SummonsEvent.objects.create(summons=s, at=at, kind=kind, cause=cause, actor=actor.name)


def _lift(s: Summons, reason: str, now: dt.datetime) -> int:
    with connection.cursor() as cur:
        return measures.lift(
            cur,
            summons_where="s.id = %(sid)s",
            reason=reason,
            params={"sid": s.id},
            now=now,
            today=timezone.localdate(now),
        )


def deliver(actor: Actor, number: str, channel: str, *, at: dt.datetime, now: dt.datetime) -> Summons:
    """Handed over in person or by post against signature, as a clerk records it."""
    if channel not in ("in_person", "post"):
        raise Refused("channel.unknown", "delivery is recorded as in_person or post")
    with transaction.atomic():
        s = _get(number)
        if s.state != Summons.State.ISSUED:
            raise Refused("summons.state", f"summons {number} is {s.state}, not issued")
        if at < s.placed_at or at > now:
            raise Refused("at.invalid", "the delivery time must be between placement and now")
        s.state, s.delivered_at, s.delivery_channel = Summons.State.DELIVERED, at, channel
        s.save(update_fields=["state", "delivered_at", "delivery_channel"])
        _event(s, "delivered", at, actor, channel)
        audit(
            actor,
            "summons.deliver",
            at=now,
            object_type="summons",
            object_id=number,
            person_id=s.person_id,
            detail={"channel": channel, "at": at.isoformat()},
        )
    return s


def appear(actor: Actor, number: str, *, at: dt.datetime, now: dt.datetime) -> Summons:
    """The person appeared: the summons is answered and all its measures are lifted at once."""
    with transaction.atomic():
        s = _get(number)
        if s.state not in OPEN:
            raise Refused("summons.state", f"summons {number} is {s.state}")
        if at < s.placed_at or at > now:
            raise Refused("at.invalid", "the appearance time must be between placement and now")
        s.state, s.appeared_at = Summons.State.APPEARED, at
        s.save(update_fields=["state", "appeared_at"])
        _event(s, "appeared", at, actor)
        lifted = _lift(s, "appeared", now)
        audit(
            actor,
            "summons.appear",
            at=now,
            object_type="summons",
            object_id=number,
            person_id=s.person_id,
            detail={"at": at.isoformat(), "measures_lifted": lifted},
        )
    return s


def cancel(actor: Actor, number: str, reason: str, *, now: dt.datetime) -> Summons:
    with transaction.atomic():
        s = _get(number)
        if s.state not in OPEN:
            raise Refused("summons.state", f"summons {number} is {s.state}")
        if not reason.strip():
            raise Refused("reason.missing", "say why the summons is cancelled")
        s.state, s.cancelled_at, s.cancel_reason = Summons.State.CANCELLED, now, reason.strip()[:200]
        s.save(update_fields=["state", "cancelled_at", "cancel_reason"])
        _event(s, "cancelled", now, actor, s.cancel_reason)
        lifted = _lift(s, "cancelled", now)
        audit(
            actor,
            "summons.cancel",
            at=now,
            object_type="summons",
            object_id=number,
            person_id=s.person_id,
            detail={"reason": s.cancel_reason, "measures_lifted": lifted},
        )
    return s


VALID_REASONS = ("illness", "relative_death", "relative_illness", "force_majeure")


def excuse(actor: Actor, number: str, reason: str, *, now: dt.datetime, document_id: int | None = None) -> Summons:
    """An accepted valid reason for not appearing: the clock stops and the measures are lifted."""
    if reason not in VALID_REASONS:
        raise Refused("reason.unknown", f"valid reasons: {', '.join(VALID_REASONS)}")
    with transaction.atomic():
        s = _get(number)
        if s.state not in OPEN or s.excused_at:
            raise Refused("summons.state", f"summons {number} is {s.state}{' and excused' if s.excused_at else ''}")
        s.excused_at, s.excuse = now, reason
        s.save(update_fields=["excused_at", "excuse"])
        _event(s, "valid_reason", now, actor, reason)
        lifted = _lift(s, "valid_reason", now)
        audit(
            actor,
            "summons.excuse",
            at=now,
            object_type="summons",
            object_id=number,
            person_id=s.person_id,
            detail={"reason": reason, "document": document_id, "measures_lifted": lifted},
        )
    return s


# -- campaigns (four eyes) ------------------------------------------------------


def _campaign_where(c: Campaign) -> tuple[str, dict]:
    today = timezone.localdate(c.appear_at)
    crit = c.criteria
    where, params = ["p.office_id = %(office)s"], {"office": c.office_id}
    ops = connection.ops
    if crit.get("age_min") is not None:
        where.append("p.birth_date <= %(born_by)s")
        params["born_by"] = ops.adapt_datefield_value(p.years_before(today, int(crit["age_min"])))
    if crit.get("age_max") is not None:
        where.append("p.birth_date > %(born_after)s")
        params["born_after"] = ops.adapt_datefield_value(p.years_before(today, int(crit["age_max"]) + 1))
    statuses = crit.get("statuses") or []
    if statuses:
        where.append("p.registration_status IN (" + ", ".join(f"%(st{i})s" for i in range(len(statuses))) + ")")
        params |= {f"st{i}": v for i, v in enumerate(statuses)}
    return " AND ".join(where), params


def _preview(c: Campaign) -> dict:
    where, params = _campaign_where(c)
    with connection.cursor() as cur:
        cur.execute(f"SELECT refusal, count(*) FROM ({_persons_sql(c.purpose, where)}) x GROUP BY refusal", params)
        rows = cur.fetchall()
    excluded = {r: n for r, n in rows if r}
    return {
        "selected": sum(n for _, n in rows),
        "eligible": sum(n for r, n in rows if not r),
        "excluded": dict(sorted(excluded.items())),
    }


def prepare_campaign(
    user, *, purpose: str, criteria: dict, appear_at: dt.datetime, place: str, now: dt.datetime
) -> Campaign:
    if user.role not in (Role.CLERK, Role.OFFICE_HEAD) or not user.office_id:
        raise Refused("role", "a clerk or office head of an office prepares a campaign")
    if purpose not in Summons.Purpose.values:
        raise Refused("purpose.unknown", f"purpose must be one of {', '.join(Summons.Purpose.values)}")
    _check_window(appear_at, now)
    with transaction.atomic():
        c = Campaign.objects.create(
            office_id=user.office_id,
            purpose=purpose,
            criteria=criteria,
            appear_at=appear_at,
            place=place,
            prepared_by=user.username,
            prepared_at=now,
        )
        c.preview = _preview(c)
        c.save(update_fields=["preview"])
        audit(
            Actor.of(user),
            "campaign.prepare",
            at=now,
            object_type="campaign",
            object_id=c.id,
            detail={"purpose": purpose, "criteria": criteria, "preview": c.preview},
        )
    return c


def approve_campaign(user, campaign_id: int, *, now: dt.datetime) -> Campaign:
    with transaction.atomic():
        c = Campaign.objects.select_for_update().get(id=campaign_id)
        if user.role != Role.OFFICE_HEAD or user.office_id != c.office_id:
            raise Refused("four_eyes.role", "only the head of the campaign's office approves it")
        if user.username == c.prepared_by:
            raise Refused("four_eyes.same_person", "the official who prepared a campaign may not approve it")
        if c.state != Campaign.State.PREPARED:
            raise Refused("campaign.state", f"the campaign is {c.state}")
        c.state, c.approved_by, c.approved_at = Campaign.State.APPROVED, user.username, now
        c.save(update_fields=["state", "approved_by", "approved_at"])
        audit(Actor.of(user), "campaign.approve", at=now, object_type="campaign", object_id=c.id)
    return c


def issue_campaign(user, campaign_id: int, *, now: dt.datetime) -> Campaign:
    """Issue the approved campaign in bulk: every eligible person gets a summons, set-based."""
    with transaction.atomic(), connection.cursor() as cur:
        c = Campaign.objects.select_for_update().get(id=campaign_id)
        if c.state != Campaign.State.APPROVED:
            raise Refused("campaign.state", f"the campaign is {c.state}, not approved")
        if user.office_id != c.office_id or user.role not in (Role.CLERK, Role.OFFICE_HEAD):
            raise Refused("role", "only staff of the campaign's office issue it")
        _check_window(c.appear_at, now)
        where, params = _campaign_where(c)
        eligible = f"SELECT * FROM ({_persons_sql(c.purpose, where)}) y WHERE refusal IS NULL"
        pl = Placement(c.purpose, c.appear_at, c.place, user.username, now, campaign_id=c.id)
        c.issued = _place(cur, pl, eligible, params)
        c.state, c.issued_at = Campaign.State.ISSUED, now
        c.save(update_fields=["state", "issued_at", "issued"])
        audit(
            Actor.of(user),
            "campaign.issue",
            at=now,
            object_type="campaign",
            object_id=c.id,
            detail={"issued": c.issued},
        )
    return c
