"""Temporary measures: started and lifted set-based, each change with its outbox messages to
the peers that enforce it and a notification to the person, in the caller's transaction."""

import datetime as dt

from django.db import connection

from muster.exchange import outbox
from muster.rules.dialect import Dialect

from .models import Measure, Notification

M = Measure._meta.db_table
N = Notification._meta.db_table


def _notify(cur, kind: str, where: str, params: dict, now_sql: str) -> None:
    d = Dialect(connection.vendor)
    data = d.json_object_expr(
        {"measure": "m.kind", "summons": "s.number", "start": "m.start", "end": "m.ended_on", "reason": "m.lift_reason"}
    )
    cur.execute(
        f"INSERT INTO {N} (person_id, at, kind, data) SELECT m.person_id, {now_sql}, %(nkind)s, {data} "
        f"FROM {M} m JOIN summons_summons s ON s.id = m.summons_id WHERE {where}",
        {**params, "nkind": kind},
    )


def start(cur, *, summons_where: str, kinds: list[str], start_sql: str, params: dict, now: dt.datetime) -> int:
    """Start measures of `kinds` for the summonses `summons_where` selects (alias s), once each."""
    ops = connection.ops
    p = {**params, "now": ops.adapt_datetimefield_value(now)}
    values = " UNION ALL ".join(f"SELECT '{k}' AS kind" for k in kinds)
    cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {M}")
    before = cur.fetchone()[0]
    cur.execute(
        f"INSERT INTO {M} (person_id, summons_id, kind, state, start, created_at, lift_reason, peer_reason) "
        f"SELECT s.person_id, s.id, k.kind, 'active', {start_sql}, %(now)s, '', '' "
        f"FROM summons_summons s CROSS JOIN ({values}) k WHERE ({summons_where}) "
        f"AND NOT EXISTS (SELECT 1 FROM {M} x WHERE x.summons_id = s.id AND x.kind = k.kind)",
        p,
    )
    n = cur.rowcount
    if n:
        where = f"m.id > {int(before)}"
        outbox.emit(cur, kind_of_message="restriction.add", measures_where=where, params=p, now_sql="%(now)s")
        _notify(cur, "measure.started", where, p, "%(now)s")
    return n


def lift(cur, *, summons_where: str, reason: str, params: dict, now: dt.datetime, today: dt.date) -> int:
    """Lift every active measure of the summonses selected (alias s): appearance, cancellation,
    an accepted valid reason."""
    ops = connection.ops
    p = {
        **params,
        "now": ops.adapt_datetimefield_value(now),
        "today": ops.adapt_datefield_value(today),
        "reason": reason,
    }
    temp = ("pg_temp." if connection.vendor == "postgresql" else "temp.") + "muster_lift"
    cur.execute(f"DROP TABLE IF EXISTS {temp}")
    cur.execute(
        f"CREATE TEMP TABLE muster_lift AS SELECT m.id FROM {M} m JOIN summons_summons s "
        f"ON s.id = m.summons_id WHERE m.state = 'active' AND ({summons_where})",
        p,
    )
    cur.execute("SELECT count(*) FROM muster_lift")
    n = cur.fetchone()[0]
    if not n:
        cur.execute(f"DROP TABLE {temp}")
        return 0
    cur.execute(
        f"UPDATE {M} SET state = 'lifted', ended_on = %(today)s, lifted_at = %(now)s, "
        f"lift_reason = %(reason)s WHERE id IN (SELECT id FROM muster_lift)",
        p,
    )
    where = "m.id IN (SELECT id FROM muster_lift)"
    outbox.emit(cur, kind_of_message="restriction.lift", measures_where=where, params=p, now_sql="%(now)s")
    _notify(cur, "measure.lifted", where, p, "%(now)s")
    cur.execute(f"DROP TABLE {temp}")
    return n
