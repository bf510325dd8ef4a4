"""The legal clock: moves every time-driven state forward to `now`, set-based.

Every transition takes its time from the summons (deemed_at, appear_at, further_from),
never from the moment the tick runs, so the clock is idempotent and any partition of
time into ticks reaches the same state.
"""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from muster.audit.services import Actor, checkpoint
from muster.audit.services import record as audit
from muster.measures import services as measures
from muster.rules import parameters as p

from .models import Summons, SummonsEvent

S = Summons._meta.db_table
E = SummonsEvent._meta.db_table


def tick(now: dt.datetime, actor: Actor | None = None, *, rights: bool = True) -> dict:
    actor = actor or Actor.system("clock")
    ops = connection.ops
    today = timezone.localdate(now)
    q = {"now": ops.adapt_datetimefield_value(now), "today": ops.adapt_datefield_value(today), "actor": actor.name}
    out = {"now": now.isoformat()}
    with transaction.atomic(), connection.cursor() as cur:
        # Deemed delivery: 7 days after placement, if not posted or handed over before.
        cur.execute(
            f"INSERT INTO {E} (summons_id, at, kind, cause, actor) SELECT id, deemed_at, 'delivered', "
            f"'deemed', %(actor)s FROM {S} WHERE state = 'issued' AND deemed_at <= %(now)s",
            q,
        )
        cur.execute(
            f"UPDATE {S} SET state = 'delivered', delivered_at = deemed_at, delivery_channel = 'deemed' "
            f"WHERE state = 'issued' AND deemed_at <= %(now)s",
            q,
        )
        out["deemed_delivered"] = cur.rowcount
        # Failure to appear: delivered in time, appearance passed, no valid reason.
        failing = (
            f"FROM {S} WHERE state = 'delivered' AND appear_at < %(now)s AND delivered_at <= appear_at "
            "AND excused_at IS NULL"
        )
        cur.execute(
            f"INSERT INTO {E} (summons_id, at, kind, cause, actor) SELECT id, appear_at, "
            f"'failed_to_appear', '', %(actor)s {failing}",
            q,
        )
        cur.execute(
            f"UPDATE {S} SET state = 'failed_to_appear', failed_at = appear_at WHERE id IN (SELECT id {failing})", q
        )
        out["failed_to_appear"] = cur.rowcount
        # After 20 days of unexcused non-appearance, the further measures.
        kinds = p.get("measures.further_kinds", today).value
        out["measures_started"] = measures.start(
            cur,
            summons_where="s.state = 'failed_to_appear' AND s.excused_at IS NULL AND s.further_from <= %(today)s",
            kinds=kinds,
            start_sql="s.further_from",
            params=q,
            now=now,
        )
    if rights:
        out["rights"] = _daily_rights(now, today, actor)
    checkpoint(now)
    with transaction.atomic():
        audit(actor, "clock.tick", at=now, object_type="clock", detail=out)
    return out


def _daily_rights(now: dt.datetime, today: dt.date, actor: Actor) -> dict | None:
    """Date boundaries (birthdays, end of studies, of a term, of category G): once a day, for all."""
    from muster.rules.models import EvaluationRun
    from muster.rules.services import evaluate

    if EvaluationRun.objects.filter(as_of=today, scope="all").exists():
        return None
    result = evaluate(now=now, as_of=today, actor=actor)
    return {"evaluated": result["evaluated"], "changed": result["changed"]}
