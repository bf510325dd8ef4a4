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

    def cross_check(self, payload: dict, reasons: list[str]) -> None:
        """Checks across fields; append reason codes."""

    def stage_values(self, payload: dict, adapt) -> tuple:
        """Values of `stage_columns` for one valid record."""
        return ()

    @abstractmethod
    def merge(self, ctx: ChunkContext) -> None:
        """Apply the staged chunk set-based; set `outcome` of every stage row."""
