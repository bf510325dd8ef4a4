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


def insert_facts(ctx: ChunkContext, source: str) -> None:
    """Store every still-pending row that has a person as a fact: it is applied."""
    fact, _ = _tables()
    ctx.execute(
        f"INSERT INTO {fact} (person_id, source, record_id, batch_id, line_no, received_at, "
        "changed_at, payload, payload_hash) "
        "SELECT person_id, %(src)s, record_id, %(batch)s, line_no, %(now)s, changed_at, payload, "
        "payload_hash FROM {stage} WHERE outcome IS NULL AND person_id IS NOT NULL",
        {"src": source},
    )
    ctx.execute(
        f"UPDATE {{stage}} SET outcome = 'applied', fact_id = f.id FROM {fact} f "
        "WHERE {stage}.outcome IS NULL AND f.batch_id = %(batch)s AND f.line_no = {stage}.line_no "
        "AND f.line_no BETWEEN %(first_line)s AND %(last_line)s"
    )


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
