"""The feature store: each person's rule features, kept current as facts arrive.

Deriving the features (the current version of every agency record, read out of its JSON
payload, one row per person) is most of the cost of deciding rights: at a million persons
it takes ten times longer than the decisions themselves. Facts are append-only, so the
features only change when a fact is added; the store keeps the derived row per person
and brings it up to date set-based:

- every scoped evaluation (an ingest chunk, a summons guard, a review decision) first
  rewrites the rows of the persons in its scope, in the same transaction as their facts;
- every evaluation also refreshes the persons who have facts newer than the store's
  watermark (the highest fact id it has seen), so a fact written by any other path is
  picked up by the next evaluation;
- a change of the rule pack's feature definition (its SQL and columns) rebuilds the
  store from the facts, as does `muster evaluate --rebuild-features`.

The store is a table per rule pack (`rules_features_<pack>`) with one typed column per
feature; `FeatureStore` holds its definition digest and watermark. Evaluations lock that
row, so two evaluations never refresh the same rows at once.
"""

import hashlib
import time

from django.db import connection
from django.utils import timezone

from .dialect import Dialect
from .models import FeatureStore

PG_TYPES = {"id": "bigint", "text": "text", "date": "date", "int": "integer", "bool": "boolean"}
SQLITE_TYPES = {"id": "INTEGER", "text": "TEXT", "date": "TEXT", "int": "INTEGER", "bool": "INTEGER"}
# Above this share of the population to refresh, rebuilding the whole store is cheaper.
REBUILD_SHARE = 0.2


def table(pack) -> str:
    return f"rules_features_{pack.name}"


def digest(pack, d: Dialect) -> str:
    spec = repr(sorted(pack.features.items())) + pack.features_sql(d, None)
    return hashlib.sha256(spec.encode()).hexdigest()[:32]


def _create(cur, pack, d: Dialect) -> None:
    types = PG_TYPES if d.pg else SQLITE_TYPES
    cols = ", ".join(f"{c} {types[k]}{' PRIMARY KEY' if c == 'person_id' else ''}" for c, k in pack.features.items())
    cur.execute(f"DROP TABLE IF EXISTS {table(pack)}")
    cur.execute(f"CREATE TABLE {table(pack)} ({cols})")


def _max_fact(cur) -> int:
    from muster.registry.models import Fact

    cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Fact._meta.db_table}")
    return cur.fetchone()[0]


def _insert(cur, pack, d: Dialect, scope: str | None) -> int:
    cols = ", ".join(pack.features)
    cur.execute(f"INSERT INTO {table(pack)} ({cols}) SELECT {cols} FROM ({pack.features_sql(d, scope)}) f")
    return cur.rowcount


def rebuild(cur, pack, d: Dialect, state: FeatureStore) -> int:
    """Derive every person's features from the facts again."""
    started = time.perf_counter()
    mark = _max_fact(cur)
    _create(cur, pack, d)
    rows = _insert(cur, pack, d, None)
    if d.pg:
        cur.execute(f"ANALYZE {table(pack)}")
    state.digest, state.watermark, state.persons = digest(pack, d), mark, rows
    state.built_at = timezone.now()
    state.rebuild_seconds = round(time.perf_counter() - started, 3)
    state.save()
    return rows


def sync(cur, pack, d: Dialect, scope: str | None = None, force=False) -> dict:
    """Bring the store up to date for `scope` (a subquery of person ids, or a literal id)
    and for every person with facts newer than the watermark. Returns what was done."""
    started = time.perf_counter()
    out = _sync(cur, pack, d, scope, force)
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


def _sync(cur, pack, d: Dialect, scope, force) -> dict:
    from muster.registry.models import Fact, Person

    state = FeatureStore.objects.select_for_update().filter(pack=pack.name).first()
    if state is None:
        state = FeatureStore(pack=pack.name, digest="", watermark=0, persons=0)
    if force or state._state.adding or state.digest != digest(pack, d):
        return {"rebuilt": rebuild(cur, pack, d, state)}
    mark = _max_fact(cur)
    F, P = Fact._meta.db_table, Person._meta.db_table
    newer = f"SELECT person_id FROM {F} WHERE id > {int(state.watermark)}"
    if mark > state.watermark and scope is None:
        # A full evaluation after a bulk change by some other path: rebuild if that is cheaper.
        # (A scoped one refreshes its own persons, whose facts are most of what is newer.)
        cur.execute(f"SELECT count(*) FROM ({newer}) n")
        pending = cur.fetchone()[0]
        cur.execute(f"SELECT count(*) FROM {P}")
        persons = cur.fetchone()[0]
        if pending > REBUILD_SHARE * max(persons, 1) and pending > 10_000:
            return {"rebuilt": rebuild(cur, pack, d, state)}
    parts = [f"SELECT {int(scope)} AS person_id" if scope and scope.isdigit() else scope] if scope else []
    if mark > state.watermark:
        parts.append(newer)
    if not parts:
        return {"refreshed": 0}
    who = "muster_refresh"
    schema = "pg_temp" if d.pg else "temp"
    cur.execute(f"DROP TABLE IF EXISTS {schema}.{who}")
    union = " UNION ".join(f"SELECT person_id FROM ({p}) s{i}" for i, p in enumerate(parts))
    on_commit = " ON COMMIT DROP" if d.pg else ""
    cur.execute(f"CREATE TEMP TABLE {who}{on_commit} AS {union}")
    if d.pg:
        cur.execute(f"ANALYZE {who}")
    cur.execute(f"DELETE FROM {table(pack)} WHERE person_id IN (SELECT person_id FROM {who})")
    if scope and scope.isdigit() and len(parts) == 1:
        rows = _insert(cur, pack, d, str(int(scope)))  # a literal id: index lookups throughout
    else:
        rows = _insert(cur, pack, d, f"SELECT person_id FROM {who}")
    cur.execute(f"DROP TABLE IF EXISTS {schema}.{who}")
    if mark > state.watermark:
        state.watermark = mark
    state.save(update_fields=["watermark"])
    return {"refreshed": rows}


def row_of(person_id: int, pack) -> dict | None:
    """One person's stored features (None when the store has no row for them)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {table(pack)} WHERE person_id = %s", [int(person_id)])
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row, strict=True))
