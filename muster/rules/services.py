"""Rights services: evaluate the population (set-based, in the database) or one person
(in Python, with the explanation), from the same rule definitions."""

import datetime as dt
import time

from django.db import connection, transaction

from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.registry import status
from muster.registry.models import Person

from . import engine, store
from .dialect import Dialect
from .dsl import Context
from .models import Decision, DecisionChange, EvaluationRun

SCOPE_T = "muster_scope"
CHANGES_T = "muster_changes"


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
    for name in (CHANGES_T, SCOPE_T):
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
    rebuild_features: bool = False,
) -> dict:
    """Decide the rights of everyone (or of the persons `scope` selects: a subquery with a
    `person_id` column, or one literal person id), set-based.

    The features come from the feature store (muster/rules/store.py), brought up to date
    first for the persons in scope and for everyone with newer facts. The decisions are
    computed in one statement that keeps only those that differ from the stored ones;
    the counts per status follow from the stored counts and those differences.

    With `write`, only the decisions that changed are written, each change also into the
    append-only history, and one audit entry records the run. Without it (what-if, other
    dates) nothing is written: the counts of who would change are returned.
    """
    pack = pack or engine.current_pack()
    d = Dialect(connection.vendor)
    ctx = Context(as_of, pack.name, d, overrides)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        if d.pg:
            cur.execute("SET LOCAL jit = off")
            cur.execute("SET LOCAL work_mem = '256MB'")
        literal = scope is not None and scope.isdigit()
        if scope is not None and not literal:
            # Materialise (and analyse) the persons in scope, so the planner knows how many
            # there are: a semi-join on a fresh staging table is estimated at one row, and the
            # nested loops that follow take minutes at national scale.
            _temp(cur, SCOPE_T, f"SELECT DISTINCT person_id FROM ({scope}) s", scope_params or {}, d.pg)
            cur.execute(f"ANALYZE {SCOPE_T}")
            scope = f"SELECT person_id FROM {SCOPE_T}"
        # Without `write`, everything from here on is undone at the end, the store's refresh too.
        sid = None if write else transaction.savepoint()
        features = store.sync(cur, pack, d, scope, force=rebuild_features)
        S, D, H = store.table(pack), Decision._meta.db_table, DecisionChange._meta.db_table
        if scope is None:
            src, in_scope = S, ""
        elif literal:
            src, in_scope = f"(SELECT * FROM {S} WHERE person_id = {int(scope)})", f"WHERE o.person_id = {int(scope)}"
        else:
            src = f"(SELECT s.* FROM {S} s JOIN {SCOPE_T} x ON x.person_id = s.person_id)"
            in_scope = f"WHERE o.person_id IN (SELECT person_id FROM {SCOPE_T})"
        never = d.date_lit(engine.NEVER)
        differs = (
            f"o.person_id IS NULL OR o.status <> n.status OR COALESCE(o.ground, '') <> COALESCE(n.ground, '') "
            f"OR COALESCE(o.until, {never}) <> COALESCE(n.until, {never})"
        )
        sql = engine.decision_sql(pack, ctx, src)
        _temp(
            cur,
            CHANGES_T,
            f"SELECT n.*, o.status AS old_status, o.ground AS old_ground "
            f"FROM ({sql}) n LEFT JOIN {D} o ON o.person_id = n.person_id WHERE {differs}",
            ctx.sql_params,
            d.pg,
        )
        if d.pg:
            cur.execute(f"ANALYZE {CHANGES_T}")
        # Counts after the run: the stored decisions in scope, moved by the differences. Everyone
        # in the store is decided, so those evaluated are the stored ones plus the first-timers.
        counts: dict[str, int] = {}
        evaluated = 0

        def key(status, ground):
            return f"{status}:{ground}" if ground else status

        cur.execute(f"SELECT o.status, o.ground, count(*) FROM {D} o {in_scope} GROUP BY o.status, o.ground")
        for st, g, c in cur.fetchall():
            counts[key(st, g)] = counts.get(key(st, g), 0) + c
            evaluated += c
        cur.execute(
            f"SELECT old_status, old_ground, status, ground, count(*) FROM {CHANGES_T} "
            "GROUP BY old_status, old_ground, status, ground"
        )
        transitions: dict[str, int] = {}
        for ost, og, st, g, c in cur.fetchall():
            if ost is not None:
                counts[key(ost, og)] -= c
            else:
                evaluated += c
            counts[key(st, g)] = counts.get(key(st, g), 0) + c
            t = f"{ost or 'none'}->{st}"
            transitions[t] = transitions.get(t, 0) + c
        changed = sum(transitions.values())
        result = {
            "as_of": as_of.isoformat(),
            "pack": pack.version,
            "evaluated": evaluated,
            "changed": changed,
            "counts": dict(sorted((k, v) for k, v in counts.items() if v)),
            "transitions": dict(sorted(transitions.items())),
            "features": features,
        }
        if not write:
            if overrides:
                cur.execute(
                    f"SELECT old_status, status, office_id, ground, count(*) FROM {CHANGES_T} "
                    "GROUP BY old_status, status, office_id, ground"
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
        if changed:
            inputs = d.json_object([c for c in pack.features if c != "office_id"], "f")
            cur.execute(
                f"INSERT INTO {H} (person_id, run_id, at, as_of, old_status, old_ground, status, ground, until, "
                f"inputs) SELECT n.person_id, %(run)s, %(now)s, %(as_of)s, n.old_status, n.old_ground, n.status, "
                f"n.ground, n.until, {inputs} FROM {CHANGES_T} n JOIN {S} f ON f.person_id = n.person_id "
                f"WHERE {status.ids_in(f'SELECT person_id FROM {CHANGES_T}', 'f.person_id')}",
                p,
            )
            cur.execute(
                f"INSERT INTO {D} (person_id, status, ground, until, fired, as_of, pack_version, run_id, "
                "decided_at) "
                f"SELECT person_id, status, ground, until, fired, %(as_of)s, %(pack)s, %(run)s, %(now)s "
                f"FROM {CHANGES_T} WHERE TRUE "
                "ON CONFLICT (person_id) DO UPDATE SET status = excluded.status, ground = excluded.ground, "
                "until = excluded.until, fired = excluded.fired, as_of = excluded.as_of, "
                "pack_version = excluded.pack_version, run_id = excluded.run_id, decided_at = excluded.decided_at",
                {**p, "pack": pack.version},
            )
            # Exemption is also a registration status.
            status.refresh(as_of, where=status.ids_in(f"SELECT person_id FROM {CHANGES_T}"))
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
