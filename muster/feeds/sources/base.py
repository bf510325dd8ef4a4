"""What a source adapter declares; the ingestion framework does everything else."""

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from muster.feeds.validation import Field


@dataclass
class ChunkContext:
    """What a source's set-based merge needs: the open cursor and the chunk's staging table."""

    cursor: object
    stage: str
    batch_id: str
    now: dt.datetime
    as_of: dt.date
    vendor: str
    adapt_dt: object
    params: dict = field(default_factory=dict)

    def execute(self, sql: str, params: dict | None = None) -> int:
        self.cursor.execute(sql.format(stage=self.stage), {**self.params, **(params or {})})
        return self.cursor.rowcount


class Source(ABC):
    name: str
    # Keys that must not repeat within one batch; a repeat is quarantined as <key>.duplicate_in_batch.
    unique_in_batch: tuple[str, ...] = ("record_id",)
    # (column, PostgreSQL type) of the staging table, after the framework's own columns.
    stage_columns: tuple[tuple[str, str], ...] = ()

    @abstractmethod
    def fields(self, today: dt.date) -> tuple[Field, ...]:
        """The declared fields besides record_id and changed_at."""

    def cross_check(self, payload: dict, reasons: list[str]) -> None:  # noqa: B027 - optional hook
        """Checks across fields; append reason codes (none by default)."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Load what `stage_values` needs from the database (called before the lines are
        read: `stage_values` runs in the ingest's read-ahead thread, which has no database)."""

    def stage_values(self, payload: dict, adapt) -> tuple:
        """Values of `stage_columns` for one valid record."""
        return ()

    @abstractmethod
    def merge(self, ctx: ChunkContext) -> None:
        """Apply the staged chunk set-based; set `outcome` of every stage row."""


# -- set-based steps shared by the sources' merges ---------------------------
# Stage rows start with outcome NULL; each step settles some of them.


def _tables():
    from muster.registry.models import Fact, SourceRecord

    return Fact._meta.db_table, SourceRecord._meta.db_table


def mark_unchanged(ctx: ChunkContext, source: str) -> None:
    """A version identical to the one held changes nothing."""
    _, sr = _tables()
    ctx.execute(
        f"UPDATE {{stage}} SET outcome = 'unchanged', person_id = sr.person_id FROM {sr} sr "
        "WHERE {stage}.outcome IS NULL AND sr.source = %(src)s AND sr.record_id = {stage}.record_id "
        "AND sr.payload_hash = {stage}.payload_hash",
        {"src": source},
    )


def next_id_sql(table: str) -> str:
    """PostgreSQL: a new id of `table` from its sequence, one per row (SQLite numbers the
    rows after max(id) instead; see `apply_pending`)."""
    return f"nextval(pg_get_serial_sequence('{table}', 'id'))"


def apply_pending(ctx: ChunkContext) -> None:
    """Every still-pending row that has a person is applied, and its fact id is assigned now,
    so that facts, source records and the golden record are written from the stage as they
    are, without joining the new facts back."""
    fact, _ = _tables()
    if ctx.vendor == "postgresql":
        ctx.execute(
            f"UPDATE {{stage}} SET outcome = 'applied', fact_id = {next_id_sql(fact)} "
            "WHERE outcome IS NULL AND person_id IS NOT NULL"
        )
    else:  # SQLite writers are serialised, so max(id) is safe here
        ctx.execute(
            "UPDATE {stage} SET outcome = 'applied', fact_id = x.base + x.rn FROM (SELECT line_no, "
            f"ROW_NUMBER() OVER (ORDER BY line_no) AS rn, (SELECT COALESCE(MAX(id), 0) FROM {fact}) AS base "
            "FROM {stage} WHERE outcome IS NULL AND person_id IS NOT NULL) x WHERE {stage}.line_no = x.line_no"
        )


def write_facts(ctx: ChunkContext, source: str) -> None:
    """Store the applied rows as facts, under the ids `apply_pending` assigned."""
    fact, _ = _tables()
    ctx.execute(
        f"INSERT INTO {fact} (id, person_id, source, record_id, batch_id, line_no, received_at, "
        "changed_at, payload, payload_hash) "
        "SELECT fact_id, person_id, %(src)s, record_id, %(batch)s, line_no, %(now)s, changed_at, payload, "
        "payload_hash FROM {stage} WHERE outcome = 'applied'",
        {"src": source},
    )


def insert_facts(ctx: ChunkContext, source: str) -> None:
    """Store every still-pending row that has a person as a fact: it is applied."""
    apply_pending(ctx)
    write_facts(ctx, source)


def upsert_source_records(ctx: ChunkContext, source: str) -> None:
    """The newest version of a record wins; a late older one stays in history only."""
    _, sr = _tables()
    ctx.execute(
        f"INSERT INTO {sr} (source, record_id, person_id, fact_id, changed_at, payload_hash) "
        "SELECT %(src)s, record_id, person_id, fact_id, changed_at, payload_hash FROM {stage} "
        "WHERE outcome = 'applied' "
        "ON CONFLICT (source, record_id) DO UPDATE SET fact_id = excluded.fact_id, "
        "changed_at = excluded.changed_at, payload_hash = excluded.payload_hash "
        f"WHERE excluded.changed_at > {sr}.changed_at",
        {"src": source},
    )
