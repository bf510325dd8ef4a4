"""Rights services: evaluate the population (set-based, in the database) or one person
(in Python, with the explanation), from the same rule definitions."""

import datetime as dt
import time

from django.db import connection, transaction

from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.registry.models import Person

from . import engine
from .dialect import Dialect
from .dsl import Context
from .models import Decision, DecisionChange, EvaluationRun

FEATURES_T = "muster_features"
SCOPE_T = "muster_scope"
DECISIONS_T = "muster_decisions"


def _temp(cur, name: str, select_sql: str, params: dict, pg: bool) -> None:
    if pg:
        cur.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        cur.execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select_sql}", params)
    else:
        cur.execute(f"DROP TABLE IF EXISTS temp.{name}")
        cur.execute(f"CREATE TEMP TABLE {name} AS {select_sql}", params)
    cur.execute(f"CREATE INDEX {name}_person ON {name} (person_id)")


def _drop(cur, pg: bool) -> None:
    schema = "pg_temp" if pg else "temp"
    for name in (DECISIONS_T, FEATURES_T, SCOPE_T):
        cur.execute(f"DROP TABLE IF EXISTS {schema}.{name}")


def evaluate(
    *,
    now: dt.datetime,
    as_of: dt.date,
    actor: Actor,
    scope: str | None = None,
    scope_params: dict | None = None,
    write: bool = True,
    overrides: dict | None = None,
    pack: engine.RulePack | None = None,
) -> dict:
    """Decide the rights of everyone (or of the persons `scope` selects: a subquery with a
    `person_id` column, or one literal person id), set-based.

    With `write`, only the decisions that changed are written, each change also into the
    append-only history, and one audit entry records the run. Without it (what-if, other
    dates) nothing is written: the counts of who would change are returned.
    """
    pack = pack or engine.current_pack()
    d = Dialect(connection.vendor)
    ctx = Context(as_of, pack.name, d, overrides)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        sid = None if write else transaction.savepoint()
        if d.pg:
            cur.execute("SET LOCAL jit = off")
        if scope is not None and not scope.isdigit():
            # Materialise (and analyse) the persons in scope, so the planner knows how many
            # there are: a semi-join on a fresh staging table is estimated at one row, and the
            # nested loops that follow take minutes at national scale.
            _temp(cur, SCOPE_T, f"SELECT DISTINCT person_id FROM ({scope}) s", scope_params or {}, d.pg)
            cur.execute(f"ANALYZE {SCOPE_T}")
            scope = f"SELECT person_id FROM {SCOPE_T}"
        _temp(cur, FEATURES_T, pack.features_sql(d, scope), scope_params or {}, d.pg)
        sql = engine.decision_sql(pack, ctx, FEATURES_T)
        _temp(cur, DECISIONS_T, sql, ctx.sql_params, d.pg)
        D, H = Decision._meta.db_table, DecisionChange._meta.db_table
        never = d.date_lit(engine.NEVER)
        differs = (
            f"o.person_id IS NULL OR o.status <> n.status OR COALESCE(o.ground, '') <> COALESCE(n.ground, '') "
            f"OR COALESCE(o.until, {never}) <> COALESCE(n.until, {never})"
        )
        cur.execute(f"SELECT count(*) FROM {DECISIONS_T}")
        evaluated = cur.fetchone()[0]
        cur.execute(f"SELECT n.status, n.ground, count(*) FROM {DECISIONS_T} n GROUP BY n.status, n.ground")
        counts = {f"{s}:{g}" if g else s: c for s, g, c in cur.fetchall()}
        cur.execute(
            f"SELECT o.status, n.status, count(*) FROM {DECISIONS_T} n LEFT JOIN {D} o "
            f"ON o.person_id = n.person_id WHERE {differs} GROUP BY o.status, n.status"
        )
        transitions = {f"{a or 'none'}->{b}": c for a, b, c in cur.fetchall()}
        changed = sum(transitions.values())
        result = {
            "as_of": as_of.isoformat(),
            "pack": pack.version,
            "evaluated": evaluated,
            "changed": changed,
            "counts": dict(sorted(counts.items())),
            "transitions": dict(sorted(transitions.items())),
        }
        if not write:
            if overrides:
                cur.execute(
                    f"SELECT o.status, n.status, n.office_id, n.ground, count(*) FROM {DECISIONS_T} n "
                    f"LEFT JOIN {D} o ON o.person_id = n.person_id WHERE {differs} "
                    "GROUP BY o.status, n.status, n.office_id, n.ground"
                )
                result["by_office"] = [
                    {"from": a, "to": b, "office": off, "ground": g, "persons": c} for a, b, off, g, c in cur.fetchall()
                ]
            _drop(cur, d.pg)
            transaction.savepoint_rollback(sid)
            result["seconds"] = round(time.perf_counter() - started, 3)
            return result
        run = EvaluationRun.objects.create(
            started_at=now,
            as_of=as_of,
            pack_version=pack.version,
            scope="persons" if scope else "all",
            evaluated=evaluated,
            changed=changed,
        )
        adapt = connection.ops.adapt_datetimefield_value
        p = {"run": run.id, "now": adapt(now), "as_of": connection.ops.adapt_datefield_value(as_of)}
        cur.execute(
            f"INSERT INTO {H} (person_id, run_id, at, as_of, old_status, old_ground, status, ground, until) "
            f"SELECT n.person_id, %(run)s, %(now)s, %(as_of)s, o.status, o.ground, n.status, n.ground, n.until "
            f"FROM {DECISIONS_T} n LEFT JOIN {D} o ON o.person_id = n.person_id WHERE {differs}",
            p,
        )
        inputs = d.json_object([c for c in pack.features if c != "office_id"], "f")
        cur.execute(
            f"INSERT INTO {D} (person_id, status, ground, until, fired, as_of, pack_version, run_id, "
            "decided_at, inputs) "
            f"SELECT n.person_id, n.status, n.ground, n.until, n.fired, %(as_of)s, %(pack)s, %(run)s, %(now)s, "
            f"{inputs} FROM {DECISIONS_T} n JOIN {FEATURES_T} f ON f.person_id = n.person_id "
            f"JOIN {H} h ON h.person_id = n.person_id AND h.run_id = %(run)s WHERE TRUE "
            "ON CONFLICT (person_id) DO UPDATE SET status = excluded.status, ground = excluded.ground, "
            "until = excluded.until, fired = excluded.fired, as_of = excluded.as_of, "
            "pack_version = excluded.pack_version, run_id = excluded.run_id, decided_at = excluded.decided_at, "
            "inputs = excluded.inputs",
            {**p, "pack": pack.version},
        )
        # Exemption is also a registration status.
        from muster.registry import status

        status.refresh(
            as_of, where=f"id IN (SELECT person_id FROM {H} WHERE run_id = %(run)s)", where_params={"run": run.id}
        )
        _drop(cur, d.pg)
        run.seconds = round(time.perf_counter() - started, 3)
        run.save(update_fields=["seconds"])
        result["run"] = run.id
        result["seconds"] = run.seconds
        audit(
            actor,
            "rules.evaluate",
            at=now,
            object_type="evaluation",
            object_id=run.id,
            detail={k: result[k] for k in ("as_of", "pack", "evaluated", "changed", "transitions")},
        )
    return result


def _typed(pack: engine.RulePack, row: dict) -> dict:
    out = {}
    for name, kind in pack.features.items():
        v = row.get(name)
        if kind == "date" and isinstance(v, str):
            v = dt.date.fromisoformat(v[:10])
        elif kind == "int" and v is not None:
            v = int(v)
        out[name] = v
    return out


def features_of(person_id: int, pack: engine.RulePack | None = None) -> dict:
    pack = pack or engine.current_pack()
    d = Dialect(connection.vendor)
    with connection.cursor() as cur:
        # A literal id (not a subquery) lets PostgreSQL use the person index on every join.
        cur.execute(pack.features_sql(d, str(int(person_id))))
        cols = [c[0] for c in cur.description]
        row = cur.fetchone()
    return _typed(pack, dict(zip(cols, row, strict=True)))


def explain(person: Person, as_of: dt.date, pack: engine.RulePack | None = None, overrides: dict | None = None) -> dict:
    """One person's decision with its explanation, in the shape of SPEC section 3."""
    pack = pack or engine.current_pack()
    row = features_of(person.pk, pack)
    decision = engine.evaluate_row(pack, row, Context(as_of, pack.name, Dialect(connection.vendor), overrides))
    return {
        "national_id": person.national_id,
        "as_of": as_of.isoformat(),
        "status": decision.status,
        "ground": decision.ground,
        "until": decision.until.isoformat() if decision.until else None,
        "explanation": decision.explanation,
    }


def load_overrides(path, as_of: dt.date) -> dict:
    """A what-if file: `{parameter.name: value}` or `{parameter.name: {values: {DATE: value}}}`."""
    import yaml

    from . import parameters

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    known = parameters.load(engine.current_pack().name)
    out = {}
    for name, value in raw.items():
        if name not in known:
            raise ValueError(f"{path}: unknown parameter {name!r}")
        if isinstance(value, dict) and "values" in value:
            dated = sorted((parameters.as_date(k), v) for k, v in value["values"].items())
            applicable = [v for d, v in dated if d <= as_of]
            if not applicable:
                continue
            value = applicable[-1]
        out[name] = value
    return out
