"""The rights engine, generic: a rule pack's grounds decide a person's status.

Every ground is one definition (condition, duration, citation) that runs two ways:
compiled into one SQL statement over the population's features, or evaluated in Python
for one person with an explanation. Precedence (SPEC 5): not liable over exempt over
not called up over deferral; among deferrals the one that lasts longest (open-ended
longest); the explanation lists every ground considered.
"""

import datetime as dt
import importlib
from dataclasses import dataclass, field
from functools import cache

from .dsl import Context, Expr

KINDS = ("not_liable", "exempt", "not_called_up", "deferral")
STATUS_OF_KIND = {
    "not_liable": "not_liable",
    "exempt": "exempt",
    "not_called_up": "not_called_up",
    "deferral": "deferred",
}
FAR = "9999-12-31"
NEVER = "0001-01-01"


@dataclass(eq=False)
class Ground:
    code: str
    kind: str
    citation: str
    condition: Expr
    summary: str
    until: Expr | None = None
    effective_from: dt.date = dt.date(1998, 3, 28)
    effective_to: dt.date | None = None
    facts: tuple[str, ...] = ()

    def in_force(self, as_of: dt.date) -> bool:
        return self.effective_from <= as_of and (self.effective_to is None or as_of <= self.effective_to)


@dataclass(eq=False)
class RulePack:
    name: str
    version: str
    grounds: tuple[Ground, ...]
    # Feature name -> type ("date", "text", "bool", "int", "id"): the columns of features_sql().
    features: dict[str, str]
    features_sql: object  # callable(dialect, scope_sql) -> SQL with person_id, office_id and the features
    sources: dict[str, str] = field(default_factory=dict)  # feature -> the column holding its fact id

    def in_force(self, as_of: dt.date) -> list[Ground]:
        return [g for g in self.grounds if g.in_force(as_of)]


@cache
def load(name: str) -> RulePack:
    return importlib.import_module(f"muster.rulepacks.{name}.grounds").PACK


def current_pack() -> RulePack:
    from django.conf import settings

    return load(settings.MUSTER_RULEPACK)


# -- Python: one person, with the explanation ---------------------------------


@dataclass
class Decision:
    status: str
    ground: str | None
    until: dt.date | None
    fired: list[str]
    explanation: list[dict]


def _rank(g: Ground) -> int:
    return KINDS.index(g.kind)


def decide(fired: list[tuple[Ground, dt.date | None]]) -> tuple[str, str | None, dt.date | None]:
    """Precedence, in Python: the same choice the SQL makes."""
    if not fired:
        return "liable", None, None
    best_kind = min(_rank(g) for g, _ in fired)
    candidates = [(g, u) for g, u in fired if _rank(g) == best_kind]
    if KINDS[best_kind] == "deferral":
        far = dt.date.fromisoformat(FAR)
        g, u = max(candidates, key=lambda gu: gu[1] or far)  # first of equals wins, as in SQL
        for cg, cu in candidates:
            if (cu or far) == (u or far):
                g, u = cg, cu
                break
        return "deferred", g.code, u
    g, u = candidates[0]
    return STATUS_OF_KIND[g.kind], g.code, u


def evaluate_row(pack: RulePack, row: dict, ctx: Context) -> Decision:
    fired, explanation = [], []
    for g in pack.in_force(ctx.as_of):
        ctx.used = {}
        holds = bool(g.condition.py(row, ctx))
        until = g.until.py(row, ctx) if (holds and g.until is not None) else None
        if holds:
            fired.append((g, until))
        explanation.append(
            {
                "ground": g.code,
                "kind": g.kind,
                "fired": holds,
                "until": until.isoformat() if until else None,
                "citation": g.citation,
                "summary": g.summary,
                "facts": {f: _jsonable(row.get(f)) for f in sorted(g.condition.features() | set(g.facts))},
                "sources": {f: row.get(pack.sources[f]) for f in sorted(g.condition.features()) if f in pack.sources},
                "parameters": {
                    n: {"value": _jsonable(v.value), "effective": v.effective.isoformat(), "reference": v.reference}
                    for n, v in ctx.used.items()
                },
            }
        )
    status, ground, until = decide(fired)
    return Decision(status, ground, until, [g.code for g, _ in fired], explanation)


def _jsonable(v):
    return v.isoformat() if isinstance(v, dt.date) else v


# -- SQL: the whole population in one statement ------------------------------


def decision_sql(pack: RulePack, ctx: Context, features_table: str) -> str:
    """SELECT person_id, office_id, status, ground, until, fired FROM the features table."""
    d = ctx.dialect
    grounds = pack.in_force(ctx.as_of)
    far, never = d.date_lit(FAR), d.date_lit(NEVER)
    cols, fired_parts = [], []
    for g in grounds:
        cond = g.condition.sql(ctx)
        cols.append(f"CASE WHEN {cond} THEN 1 ELSE 0 END AS c_{g.code}")
        until = g.until.sql(ctx) if g.until is not None else d.null_date
        if g.kind == "deferral":
            cols.append(f"CASE WHEN {cond} THEN COALESCE({until}, {far}) ELSE {never} END AS u_{g.code}")
        else:
            cols.append(f"CASE WHEN {cond} THEN {until} END AS u_{g.code}")
        fired_parts.append(f"CASE WHEN c_{g.code} = 1 THEN '{g.code},' ELSE '' END")
    deferrals = [g for g in grounds if g.kind == "deferral"]
    best = d.greatest([f"u_{g.code}" for g in deferrals]) if deferrals else never
    inner = f"SELECT f.person_id, f.office_id, {', '.join(cols)} FROM {features_table} f"
    mid = f"SELECT x.*, {best} AS best FROM ({inner}) x"
    status_w, ground_w, until_w = [], [], []
    for kind in KINDS[:-1]:
        for g in (g for g in grounds if g.kind == kind):
            status_w.append(f"WHEN c_{g.code} = 1 THEN '{STATUS_OF_KIND[kind]}'")
            ground_w.append(f"WHEN c_{g.code} = 1 THEN '{g.code}'")
            until_w.append(f"WHEN c_{g.code} = 1 THEN u_{g.code}")
    if deferrals:
        status_w.append(f"WHEN best > {never} THEN 'deferred'")
        for g in deferrals:
            ground_w.append(f"WHEN c_{g.code} = 1 AND u_{g.code} = best THEN '{g.code}'")
        until_w.append(f"WHEN best > {never} THEN NULLIF(best, {far})")
    fired = " || ".join(fired_parts) if fired_parts else "''"
    return (
        f"SELECT person_id, office_id, CASE {' '.join(status_w)} ELSE 'liable' END AS status, "
        f"CASE {' '.join(ground_w)} ELSE NULL END AS ground, "
        f"CASE {' '.join(until_w)} ELSE {d.null_date} END AS until, {fired} AS fired FROM ({mid}) y"
    )
