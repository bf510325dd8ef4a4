"""The transactional outbox: messages to peers, written in the transaction of the change.

Sequence numbers are handed out under a lock on the peer's row, which is held until the
writing transaction commits, so per peer the numbers follow commit order and a worker
that delivers in sequence order never skips a message that commits late.
"""

import json

from django.db import connection

from muster.measures.models import Measure
from muster.registry.models import Person
from muster.rules.dialect import Dialect
from muster.summons.models import Summons

from .models import OutboxMessage, Peer

DEFAULT_PEERS = (
    ("border", "Border service", ["exit"]),
    ("traffic_police", "Traffic police", ["driving", "vehicle"]),
    ("tax_service", "Tax service", ["entrepreneur"]),
    ("property_registry", "Property registry", ["real_estate"]),
    ("credit_bureaux", "Credit bureaux", ["loans"]),
)


def emit(cur, *, kind_of_message: str, measures_where: str, params: dict, now_sql: str) -> int:
    """Write one message per (peer, measure) for the measures `measures_where` selects.

    `kind_of_message` is restriction.add or restriction.lift; returns messages written.
    """
    d = Dialect(connection.vendor)
    M, P, S = Measure._meta.db_table, Person._meta.db_table, Summons._meta.db_table
    OUT, PE = OutboxMessage._meta.db_table, Peer._meta.db_table
    lock = " FOR UPDATE" if d.pg else ""
    cur.execute(f"SELECT name, kinds FROM {PE} WHERE enabled = TRUE ORDER BY name{lock}")
    peers = cur.fetchall()
    body_cols = {
        "restriction_id": "'M' || CAST(m.id AS TEXT)",
        "national_id": "p.national_id",
        "surname": "p.surname",
        "given_name": "p.given_name",
        "patronymic": "p.patronymic",
        "birth_date": "p.birth_date",
        "kind": "m.kind",
        "start": "m.start",
        "basis": "s.number",
    }
    if kind_of_message == "restriction.lift":
        body_cols |= {"end": "m.ended_on", "reason": "m.lift_reason"}
    body = d.json_object_expr(body_cols)
    total = 0
    for name, kinds in peers:
        kinds = kinds if isinstance(kinds, list) else json.loads(kinds)
        kind_list = ", ".join(f"'{k}'" for k in kinds)
        base_sql = (
            f"FROM {M} m JOIN {P} p ON p.id = m.person_id JOIN {S} s ON s.id = m.summons_id "
            f"WHERE ({measures_where}) AND m.kind IN ({kind_list})"
        )
        cur.execute(f"SELECT count(*) {base_sql}", params)
        n = cur.fetchone()[0]
        if not n:
            continue
        cur.execute(f"SELECT next_seq FROM {PE} WHERE name = %(peer)s", {"peer": name})
        first = cur.fetchone()[0]
        cur.execute(
            f"INSERT INTO {OUT} (peer_id, seq, message_id, type, body, measure_id, created_at, attempts, state, "
            "answer) "
            f"SELECT %(peer)s, %(first)s - 1 + ROW_NUMBER() OVER (ORDER BY m.id), "
            f"%(peer)s || ':' || CAST(%(first)s - 1 + ROW_NUMBER() OVER (ORDER BY m.id) AS TEXT), "
            f"%(type)s, {body}, m.id, {now_sql}, 0, 'pending', '' {base_sql}",
            {**params, "peer": name, "first": first, "type": kind_of_message},
        )
        cur.execute(f"UPDATE {PE} SET next_seq = next_seq + %(n)s WHERE name = %(peer)s", {"n": n, "peer": name})
        total += n
    return total
