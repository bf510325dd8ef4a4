"""Registration status (SPEC 2.1) as one SQL expression over the person table.

Exemption comes from the rights engine's current decision (`rules_decision`).

The law's ages become date cut-offs computed once in Python for the evaluation date,
so the expression is a plain CASE of date comparisons: set-based, the same on
PostgreSQL and SQLite, and the same whether it runs for one person or for millions.
"""

import datetime as dt

from django.db import connection

from muster.rules import parameters as p

from .models import Person, RegistrationStatus

S = RegistrationStatus


def status_case(id_expr: str | None = "id") -> str:
    """The CASE expression; `id_expr` is the person id column (None for persons not yet
    stored, who cannot have an exemption decision)."""
    exempt = (
        f"  WHEN {id_expr} IN (SELECT person_id FROM rules_decision WHERE status = 'exempt') THEN '{S.EXEMPT}'\n"
        if id_expr
        else ""
    )
    return f"""CASE
  WHEN death_date IS NOT NULL AND death_date <= %(as_of)s THEN '{S.REMOVED}'
  WHEN sex <> %(sex)s OR citizenship <> %(citizenship)s THEN '{S.NOT_SUBJECT}'
  WHEN birth_date <= %(reserve_cut)s THEN '{S.REMOVED}'
{exempt}  WHEN birth_date > %(registration_cut)s THEN '{S.NOT_REGISTERED}'
  WHEN birth_date <= %(call_up_cut)s THEN '{S.RESERVE}'
  ELSE '{S.CALL_UP_AGE}'
END"""


STATUS_SQL = status_case()


def call_up_cut(as_of: dt.date) -> dt.date:
    """Whoever was born on or before this date is past call-up age on `as_of` (the rule
    pack's own definition, with the 2024 grandfathering, so that both agree)."""
    from muster.rules.dsl import Context
    from muster.rules.engine import current_pack

    pack = current_pack()
    past = next(g.condition for g in pack.grounds if g.code == "over_age")
    return past.cutoff(Context(as_of, pack.name))


def status_params(as_of: dt.date) -> dict:
    reg_age = p.get("registration.first_registration_age", as_of).value
    return {
        "as_of": as_of,
        "sex": p.get("registration.sex", as_of).value,
        "citizenship": p.get("registration.citizenship", as_of).value,
        "reserve_cut": p.years_before(as_of, p.get("reserve.age_limit", as_of).value),
        # Registered from 1 January of the year of the 17th birthday.
        "registration_cut": dt.date(as_of.year - reg_age, 12, 31),
        "call_up_cut": call_up_cut(as_of),
    }


def sql_params(as_of: dt.date) -> dict:
    return _sql_params(status_params(as_of))


def _sql_params(params: dict) -> dict:
    ops = connection.ops
    return {k: ops.adapt_datefield_value(v) if isinstance(v, dt.date) else v for k, v in params.items()}


def ids_in(subquery: str, column: str = "id") -> str:
    """`column` is one of the ids `subquery` selects. On PostgreSQL as `= ANY(ARRAY(...))`, looked
    up in the primary key: for `IN (subquery)` the planner scans the whole person table with
    the status expression as its filter (9 s at ten million persons for 100,000 ids)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(ARRAY({subquery}))"
    return f"{column} IN ({subquery})"


def refresh(as_of: dt.date, where: str = "", where_params: dict | None = None) -> int:
    """Recompute the status of every person (or those `where` selects); returns rows changed."""
    table = Person._meta.db_table
    cond = f" AND ({where})" if where else ""
    sql = f"UPDATE {table} SET registration_status = {STATUS_SQL} WHERE registration_status <> {STATUS_SQL}{cond}"
    params = _sql_params(status_params(as_of)) | (where_params or {})
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def status_of(person: Person, as_of: dt.date) -> str:
    """The same expression for one person, evaluated by the database."""
    sql = f"SELECT {STATUS_SQL} FROM {Person._meta.db_table} WHERE id = %(id)s"
    with connection.cursor() as cur:
        cur.execute(sql, _sql_params(status_params(as_of)) | {"id": person.pk})
        return cur.fetchone()[0]
