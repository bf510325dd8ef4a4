"""The ingestion framework: one path from a feed file to exactly one outcome per line.

Lines are decoded, parsed and validated in Python (one validation path for every
source and both databases); valid records go to a per-chunk staging table (COPY on
PostgreSQL, executemany on SQLite) and the source merges them set-based. Each chunk
is one transaction that also advances the batch cursor and writes its audit entry.
The next chunk is parsed in a read-ahead thread while the database merges this one.
"""

import csv
import datetime as dt
import hashlib
import queue
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
from django.db import connection, transaction
from django.utils import timezone

from muster.audit.services import Actor
from muster.audit.services import record as audit

from . import validation as v
from .models import Batch, QuarantinedLine, ReviewItem, UnchangedLine
from .sources import SOURCES, ChunkContext, Source

CHUNK_LINES = 50_000
OUTCOMES = ("applied", "unchanged", "review", "quarantined")


class IngestError(Exception):
    """A whole-file problem (unknown source, unreadable file): nothing was imported."""


@dataclass
class Parsed:
    line_no: int
    raw: bytes
    record_id: str | None = None
    payload: dict | None = None
    changed_at: dt.datetime | None = None
    reasons: list[str] | None = None
    # A valid record's staging row; once it is built the payload is dropped (the row holds
    # it, as JSON), so that the chunks in flight hold each record once, not twice.
    row: tuple | None = None


def file_hash(path: Path, source: str) -> tuple[str, int]:
    """The batch id: SHA-256 of the source's name and the file's bytes. The name is in it so
    that two sources' identical files (an empty daily delta, above all) are two batches."""
    digest, size = hashlib.sha256(source.encode() + b"\n"), 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def physical_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line end); a UTF-8 BOM and CRLF are accepted."""
    with path.open("rb") as fh:
        for no, raw in enumerate(fh, 1):
            if no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            yield no, raw.rstrip(b"\r\n")


class Parser:
    def __init__(self, fmt: str, source: Source, now: dt.datetime):
        self.fmt = fmt
        self.source = source
        self.header: list[str] | None = None
        today = timezone.localdate(now)
        self.fields = source.fields(today)
        self.check_fields = v.compile_fields(self.fields)
        self.changed_at = v.timestamp(now + dt.timedelta(days=1))

    def set_header(self, raw: bytes) -> None:
        try:
            self.header = next(csv.reader([raw.decode("utf-8")]))
        except (UnicodeDecodeError, StopIteration) as exc:
            raise IngestError("the CSV header row is not readable UTF-8") from exc
        if "record_id" not in self.header:
            raise IngestError("the CSV header row has no record_id column")

    def parse(self, no: int, raw: bytes) -> Parsed:
        out = Parsed(no, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.reasons = ["line.encoding"]
            return out
        if not text.strip():
            out.reasons = ["line.empty"]
            return out
        if self.fmt == "jsonl":
            try:
                rec = orjson.loads(text)
            except orjson.JSONDecodeError:
                out.reasons = ["line.json"]
                return out
            if not isinstance(rec, dict):
                out.reasons = ["line.not_object"]
                return out
        else:
            row = next(csv.reader([text]))
            if len(row) != len(self.header):
                out.reasons = ["line.columns"]
                return out
            rec = dict(zip(self.header, row, strict=True))
        reasons: list[str] = []
        try:
            out.record_id = v.record_id(rec.get("record_id"))
        except v.Invalid as exc:
            reasons.append(f"record_id.{'missing' if rec.get('record_id') in (None, '') else exc.suffix}")
        raw_changed = rec.get("changed_at")
        if raw_changed in (None, ""):
            reasons.append("changed_at.missing")
        else:
            try:
                out.changed_at = self.changed_at(raw_changed)
            except v.Invalid as exc:
                reasons.append(f"changed_at.{exc.suffix}")
        payload, field_reasons = self.check_fields(rec)
        reasons += field_reasons
        if not field_reasons:
            self.source.cross_check(payload, reasons)
        if reasons:
            out.reasons = reasons
        else:
            out.payload = payload
        return out


def payload_digest(payload_json: bytes) -> str:
    return hashlib.blake2b(payload_json, digest_size=16).hexdigest()


SQLITE_TYPES = {
    "integer": "INTEGER",
    "bigint": "INTEGER",
    "text": "TEXT",
    "date": "TEXT",
    "timestamptz": "TEXT",
    "jsonb": "TEXT",
}


class Stage:
    """A per-chunk staging table: created, filled and dropped inside the chunk's transaction."""

    BASE = (
        ("line_no", "integer"),
        ("record_id", "text"),
        ("changed_at", "timestamptz"),
        ("payload", "jsonb"),
        ("payload_hash", "text"),
        ("person_id", "bigint"),
        ("fact_id", "bigint"),
        ("outcome", "text"),
        ("reason", "text"),
    )

    def __init__(self, cursor, source: Source):
        self.cursor = cursor
        self.vendor = connection.vendor
        self.name = "muster_stage"
        self.columns = self.BASE + source.stage_columns
        self.filled = [c for c, _ in self.columns if c not in ("person_id", "fact_id", "outcome", "reason")]

    def create(self) -> None:
        if self.vendor == "postgresql":
            cols = ", ".join(f"{c} {t}" for c, t in self.columns)
            self.cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{self.name}")
            self.cursor.execute(f"CREATE TEMP TABLE {self.name} ({cols}) ON COMMIT DROP")
        else:
            self.cursor.execute(f"DROP TABLE IF EXISTS temp.{self.name}")
            # Declared types give the columns affinity, without which SQLite cannot use the
            # stage's index in joins (and falls back to nested scans).
            cols = ", ".join(f"{c} {SQLITE_TYPES[t]}" for c, t in self.columns)
            self.cursor.execute(f"CREATE TEMP TABLE {self.name} ({cols})")
        self.cursor.execute(f"CREATE INDEX {self.name}_line ON {self.name} (line_no)")

    def fill(self, rows: list[tuple]) -> None:
        cols = ", ".join(self.filled)
        if self.vendor == "postgresql":
            with self.cursor.cursor.copy(f"COPY {self.name} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            self.analyze()
        else:
            marks = ", ".join("?" for _ in self.filled)
            self.cursor.cursor.executemany(f"INSERT INTO {self.name} ({cols}) VALUES ({marks})", rows)

    def analyze(self) -> None:
        """Row count and per-column statistics, so that the merge's joins are planned for the
        chunk's real size. A sample of 3,000 rows (statistics target 10) tells unique keys and
        the row count as well as the default 30,000 at a tenth of the time; the JSON payload,
        never joined on, is left out."""
        cols = ", ".join(c for c, t in self.columns if t != "jsonb" and c != "candidates")
        self.cursor.execute("SELECT current_setting('default_statistics_target')")
        (target,) = self.cursor.fetchone()
        self.cursor.execute("SELECT set_config('default_statistics_target', '10', true)")
        self.cursor.execute(f"ANALYZE {self.name} ({cols})")
        self.cursor.execute("SELECT set_config('default_statistics_target', %s, true)", [target])

    def drop(self) -> None:
        schema = "pg_temp" if self.vendor == "postgresql" else "temp"
        self.cursor.execute(f"DROP TABLE IF EXISTS {schema}.{self.name}")


@dataclass
class Result:
    batch: str
    source: str
    received: int = 0
    applied: int = 0
    unchanged: int = 0
    review: int = 0
    quarantined: int = 0
    reasons: Counter | None = None
    duplicate: bool = False

    def as_dict(self) -> dict:
        return {
            "batch": self.batch,
            "source": self.source,
            "received": self.received,
            "applied": self.applied,
            "unchanged": self.unchanged,
            "review": self.review,
            "quarantined": self.quarantined,
            "reasons": dict(sorted((self.reasons or {}).items())),
        }


class Importer:
    def __init__(
        self,
        source_name: str,
        path: Path,
        actor: Actor,
        now: dt.datetime,
        chunk_lines: int = CHUNK_LINES,
        progress: bool = False,
    ):
        if source_name not in SOURCES:
            raise IngestError(f"unknown source {source_name!r}; known: {', '.join(sorted(SOURCES))}")
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        self.source = SOURCES[source_name]()
        self.path = path
        self.actor = actor
        self.now = now
        self.as_of = timezone.localdate(now)
        self.chunk_lines = chunk_lines
        self.progress = progress
        self.fmt = detect_format(path)
        self.adapt_dt = connection.ops.adapt_datetimefield_value
        self.adapt_d = connection.ops.adapt_datefield_value

    # -- batch bookkeeping -------------------------------------------------
    def open_batch(self) -> Batch:
        digest, size = file_hash(self.path, self.source.name)
        with transaction.atomic():
            batch = Batch.objects.select_for_update().filter(id=digest).first()
            if batch is None:
                batch = Batch.objects.create(
                    id=digest,
                    source=self.source.name,
                    filename=self.path.name[:300],
                    size=size,
                    format=self.fmt,
                    state=Batch.State.RUNNING,
                    started_at=self.now,
                    imported_by=self.actor.name,
                )
                audit(
                    self.actor,
                    "feed.batch_started",
                    at=self.now,
                    object_type="batch",
                    object_id=digest,
                    detail={"source": self.source.name, "file": batch.filename, "bytes": size},
                )
        return batch

    def seen_in_batch(self, batch: Batch, parser: "Parser") -> dict[str, set]:
        """Keys of the lines already committed, so that a resumed import detects repeats
        exactly as an uninterrupted one would."""
        from muster.registry.models import Fact

        seen: dict[str, set] = {k: set() for k in self.source.unique_in_batch}
        if batch.cursor == 0:
            return seen
        extra = self.source.unique_in_batch[1:]

        def add(record_id, payload):
            seen["record_id"].add(record_id)
            for k in extra:
                seen[k].add(payload.get(k))

        for rid, payload in Fact.objects.filter(batch=batch).values_list("record_id", "payload").iterator():
            add(rid, payload)
        unchanged = UnchangedLine.objects.filter(batch=batch).values_list("record_id", "person__national_id")
        for rid, nid in unchanged.iterator():
            add(rid, {"national_id": nid})
        for rid in ReviewItem.objects.filter(batch=batch).values_list("record_id", flat=True).iterator():
            add(rid, {})
        merged = QuarantinedLine.objects.filter(batch=batch, after_validation=True)
        for line_no, raw in merged.values_list("line_no", "raw").iterator():
            p = parser.parse(line_no, raw.encode())
            add(p.record_id, p.payload or {})
        return seen

    # -- the run -------------------------------------------------------------
    def run(self, stop_after_chunks: int | None = None) -> Result:
        batch = self.open_batch()
        if batch.state == Batch.State.COMPLETE:
            return self.duplicate_result(batch)
        parser = Parser(self.fmt, self.source, self.now)
        if self.fmt == "csv":
            parser.set_header(next(physical_lines(self.path))[1])
        seen = self.seen_in_batch(batch, parser)
        self.source.prepare()
        bar = self._bar(batch)
        for done, chunk in enumerate(read_ahead(self.chunks(batch.cursor, parser, seen)), 1):
            batch = self.commit_chunk(batch, chunk)
            if bar:
                bar.update(len(chunk))
            if stop_after_chunks is not None and done >= stop_after_chunks and len(chunk) >= self.chunk_lines:
                raise KeyboardInterrupt("stopped after chunk (test hook)")
        if bar:
            bar.close()
        return self.complete(batch)

    def chunks(self, cursor: int, parser: "Parser", seen: dict[str, set]) -> Iterator[list[Parsed]]:
        """The lines after `cursor`, parsed, checked and staged, `chunk_lines` at a time.
        Touches no database, so that it can run ahead in another thread."""
        chunk: list[Parsed] = []
        for no, raw in physical_lines(self.path):
            if no <= cursor or (no == 1 and self.fmt == "csv"):
                continue
            p = self._check_unique(parser.parse(no, raw), seen)
            if p.payload is not None:
                p.row, p.payload = self._stage_row(p), None
            chunk.append(p)
            if len(chunk) >= self.chunk_lines:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _bar(self, batch: Batch):
        if not (self.progress and sys.stderr.isatty()):
            return None
        from tqdm import tqdm

        return tqdm(desc=f"{self.source.name} {batch.id[:12]}", unit=" lines", initial=batch.received, file=sys.stderr)

    def _check_unique(self, parsed: Parsed, seen: dict[str, set]) -> Parsed:
        if parsed.reasons:
            return parsed
        keys = {"record_id": parsed.record_id} | {k: parsed.payload.get(k) for k in self.source.unique_in_batch[1:]}
        dup = [f"{k}.duplicate_in_batch" for k, val in keys.items() if val is not None and val in seen[k]]
        if dup:
            parsed.reasons, parsed.payload = dup, None
            return parsed
        for k, val in keys.items():
            seen[k].add(val)
        return parsed

    def commit_chunk(self, batch: Batch, chunk: list[Parsed]) -> Batch:
        first, last = chunk[0].line_no, chunk[-1].line_no
        good = [p for p in chunk if p.row is not None]
        bad = {p.line_no: p for p in chunk if p.row is None}
        counts: Counter = Counter()
        reasons: Counter = Counter()
        with transaction.atomic():
            batch = Batch.objects.select_for_update().get(id=batch.id)
            if batch.cursor >= last:  # another process committed this chunk meanwhile
                return batch
            with connection.cursor() as cur:
                if good:
                    stage = Stage(cur, self.source)
                    stage.create()
                    stage.fill([p.row for p in good])
                    ctx = ChunkContext(
                        cur,
                        stage.name,
                        batch.id,
                        self.now,
                        self.as_of,
                        connection.vendor,
                        self.adapt_dt,
                        {"now": self.adapt_dt(self.now), "batch": batch.id, "first_line": first, "last_line": last},
                    )
                    self.source.merge(ctx)
                    cur.execute(f"SELECT outcome, count(*) FROM {stage.name} GROUP BY outcome")
                    counts.update(dict(cur.fetchall()))
                    cur.execute(f"SELECT line_no, reason FROM {stage.name} WHERE outcome = 'quarantined'")
                    merged = dict(cur.fetchall())
                    for p in good:
                        if p.line_no in merged:
                            p.reasons = merged[p.line_no].split(",")
                            bad[p.line_no] = p
                    counts.pop("quarantined", None)
                    if counts.get("review"):
                        self._hold_for_review(cur, stage.name, batch, ctx)
                    if counts.get("applied"):
                        # New facts: the rights of these persons are decided again, in this transaction.
                        from muster.rules.services import evaluate

                        evaluate(
                            now=self.now,
                            as_of=self.as_of,
                            actor=self.actor,
                            scope=f"SELECT person_id FROM {stage.name} WHERE outcome = 'applied'",
                        )
                    cur.execute(
                        f"INSERT INTO {UnchangedLine._meta.db_table} (batch_id, line_no, record_id, person_id) "
                        f"SELECT %s, line_no, record_id, person_id FROM {stage.name} WHERE outcome = 'unchanged'",
                        [batch.id],
                    )
                    if None in counts:
                        raise RuntimeError(f"source {self.source.name} left {counts[None]} lines without outcome")
                    stage.drop()
            QuarantinedLine.objects.bulk_create(
                [
                    QuarantinedLine(
                        batch_id=batch.id,
                        line_no=p.line_no,
                        record_id=p.record_id,
                        raw=p.raw.decode("utf-8", "backslashreplace"),
                        reasons=p.reasons,
                        after_validation=p.row is not None,
                    )
                    for p in sorted(bad.values(), key=lambda p: p.line_no)
                ],
                batch_size=5000,
            )
            for p in bad.values():
                reasons.update(p.reasons)
            counts["quarantined"] = len(bad)
            batch.cursor = last
            batch.received += len(chunk)
            for o in OUTCOMES:
                setattr(batch, o, getattr(batch, o) + counts.get(o, 0))
            batch.reasons = dict(Counter(batch.reasons) + reasons)
            batch.save(update_fields=["cursor", "received", *OUTCOMES, "reasons"])
            audit(
                self.actor,
                "feed.chunk",
                at=self.now,
                object_type="batch",
                object_id=batch.id,
                detail={"lines": [first, last], "received": len(chunk), **{o: counts.get(o, 0) for o in OUTCOMES}},
            )
        return batch

    def _hold_for_review(self, cur, stage: str, batch: Batch, ctx: ChunkContext) -> None:
        cur.execute(
            f"SELECT line_no, record_id, changed_at, payload, payload_hash, candidates FROM {stage} "
            "WHERE outcome = 'review' ORDER BY line_no"
        )
        rows = cur.fetchall()
        if not rows:
            return
        from muster.registry.models import Person

        parsed = [(row, orjson.loads(row[5])) for row in rows]
        best = [cands[0]["person_id"] for _, cands in parsed]
        offices = dict(Person.objects.filter(id__in=best).values_list("id", "office_id"))
        items = [
            ReviewItem(
                batch_id=batch.id,
                line_no=line_no,
                source=self.source.name,
                record_id=rid,
                changed_at=_as_datetime(changed_at),
                payload=orjson.loads(payload) if isinstance(payload, str) else payload,
                payload_hash=payload_hash,
                candidates=cands,
                office_id=offices.get(cands[0]["person_id"]),
                model_version=ctx.params.get("model_version", ""),
                created_at=self.now,
            )
            for (line_no, rid, changed_at, payload, payload_hash, _), cands in parsed
        ]
        ReviewItem.objects.bulk_create(items)

    def _stage_row(self, p: Parsed) -> tuple:
        payload_json = orjson.dumps(p.payload, option=orjson.OPT_SORT_KEYS)
        return (
            p.line_no,
            p.record_id,
            self.adapt_dt(p.changed_at),
            payload_json.decode(),
            payload_digest(payload_json),
            *self.source.stage_values(p.payload, self.adapt_d),
        )

    def complete(self, batch: Batch) -> Result:
        with transaction.atomic():
            batch = Batch.objects.select_for_update().get(id=batch.id)
            if batch.state != Batch.State.COMPLETE:
                batch.state = Batch.State.COMPLETE
                batch.completed_at = self.now
                batch.save(update_fields=["state", "completed_at"])
                audit(
                    self.actor,
                    "feed.batch_completed",
                    at=self.now,
                    object_type="batch",
                    object_id=batch.id,
                    detail={"received": batch.received, **{o: getattr(batch, o) for o in OUTCOMES}},
                )
                self._analyze_if_grown(batch)
        return Result(
            batch.id,
            batch.source,
            batch.received,
            batch.applied,
            batch.unchanged,
            batch.review,
            batch.quarantined,
            Counter(batch.reasons),
        )

    def _analyze_if_grown(self, batch: Batch) -> None:
        """A batch that grew the registry by a tenth or more (a first load, a large delta)
        leaves the planner's statistics stale, and muster must not count on autovacuum: one
        person's card then takes 130 ms instead of 1.5 ms at a million persons. Refresh them."""
        from muster.registry.models import Fact, Person, SourceRecord
        from muster.rules import engine, store

        if not batch.applied or connection.vendor != "postgresql":
            return  # SQLite plans one person's lookups by its indexes alone (0.9 ms unanalysed at 200k)
        with connection.cursor() as cur:
            # The planner's own row estimate, -1 if never analysed.
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [SourceRecord._meta.db_table])
            known = cur.fetchone()[0]
            if known >= 0 and batch.applied * 10 < known:
                return
            tables = [Person._meta.db_table, Fact._meta.db_table, SourceRecord._meta.db_table]
            tables.append(store.table(engine.current_pack()))
            from muster.rules.models import Decision

            tables.append(Decision._meta.db_table)
            for table in tables:
                cur.execute(f"ANALYZE {table}")

    def duplicate_result(self, batch: Batch) -> Result:
        """The same file again: nothing changes; what was applied is now unchanged."""
        return Result(
            batch.id,
            batch.source,
            batch.received,
            0,
            batch.applied + batch.unchanged,
            batch.review,
            batch.quarantined,
            Counter(batch.reasons),
            duplicate=True,
        )


_END = object()


def read_ahead(items: Iterable, depth: int = 1) -> Iterator:
    """`items`, produced in a background thread at most `depth` ahead of the consumer.

    The ingest parses and validates a chunk in Python while the database merges the one
    before: the GIL is released while the driver waits, so on two cores the two overlap.
    The producer starts an item only when fewer than `depth` wait for the consumer, so that
    at most `depth` + 1 chunks are in memory. An exception of the producer is raised in the
    consumer; a consumer that stops early (an error, an interrupt) stops the producer."""
    ready: queue.Queue = queue.Queue()
    slots = threading.Semaphore(depth + 1)
    stop = threading.Event()

    def produce() -> None:
        it = iter(items)
        try:
            while True:
                while not slots.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(it, _END)
                ready.put((item, None))
                if item is _END:
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            ready.put((_END, exc))

    worker = threading.Thread(target=produce, name="muster-ingest-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = ready.get()
            if exc is not None:
                raise exc
            if item is _END:
                return
            yield item
            slots.release()  # the consumer is done with this item
    finally:
        stop.set()
        worker.join()


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def receipt_rows(batch_id: str, duplicate: bool = False) -> Iterator[dict]:
    """The per-record receipt, rebuilt from what the registry holds (survives a resumed import)."""
    from muster.registry.models import Fact, Person

    p = Person._meta.db_table
    sql = (
        f"SELECT f.line_no, f.record_id, 'applied', pe.national_id, NULL FROM {Fact._meta.db_table} f "
        f"JOIN {p} pe ON pe.id = f.person_id WHERE f.batch_id = %(b)s "
        f"AND NOT EXISTS (SELECT 1 FROM {ReviewItem._meta.db_table} r WHERE r.batch_id = f.batch_id "
        "AND r.line_no = f.line_no) "
        f"UNION ALL SELECT r.line_no, r.record_id, 'review', NULL, NULL "
        f"FROM {ReviewItem._meta.db_table} r WHERE r.batch_id = %(b)s "
        f"UNION ALL SELECT u.line_no, u.record_id, 'unchanged', pe.national_id, NULL "
        f"FROM {UnchangedLine._meta.db_table} u JOIN {p} pe ON pe.id = u.person_id WHERE u.batch_id = %(b)s "
        f"UNION ALL SELECT q.line_no, q.record_id, 'quarantined', NULL, CAST(q.reasons AS text) "
        f"FROM {QuarantinedLine._meta.db_table} q WHERE q.batch_id = %(b)s "
        "ORDER BY 1"
    )
    with connection.cursor() as cur:
        cur.execute(sql, {"b": batch_id})
        while rows := cur.fetchmany(10_000):
            for line, rid, outcome, nid, reasons in rows:
                if duplicate and outcome == "applied":
                    outcome = "unchanged"
                if isinstance(reasons, str):
                    reasons = orjson.loads(reasons)
                yield {"line": line, "record_id": rid, "outcome": outcome, "person": nid, "reasons": reasons or []}


def write_receipt(result: Result, out: Path) -> int:
    n = 0
    with out.open("wb") as fh:
        for row in receipt_rows(result.batch, result.duplicate):
            fh.write(orjson.dumps(row) + b"\n")
            n += 1
    return n
