"""The border peer's store: one SQLite file in the peer's home, plain sqlite3, WAL mode.

Every change happens inside `transaction()`, which takes a process lock and then
BEGIN IMMEDIATE: the lock keeps the request threads from queueing on SQLite's busy
handler, and BEGIN IMMEDIATE still protects the file if a second process opens it. The
sequence check and the effect of a message are in one transaction, so a message is
applied exactly once even when the registry sends it twice at the same moment.
"""

import datetime as dt
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from muster.exchange import protocol

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The restrictions in force at the border, as the registry last described them.
CREATE TABLE IF NOT EXISTS restrictions (
    restriction_id TEXT PRIMARY KEY,
    national_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    start TEXT,
    basis TEXT,
    body TEXT NOT NULL,           -- canonical JSON of the restriction as sent
    in_force_since TEXT NOT NULL,
    seq INTEGER NOT NULL          -- the registry message that last set it
);
CREATE INDEX IF NOT EXISTS restrictions_person ON restrictions (national_id);
-- The message log: every applied registry message, its envelope and our answer.
-- seq is the registry's sequence number; it has no gaps, so max(seq) is the last applied.
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    envelope TEXT NOT NULL,
    answer TEXT NOT NULL,
    received_at TEXT NOT NULL
);
-- Refused messages, for diagnosis. Only short fields: the sender is not trusted.
CREATE TABLE IF NOT EXISTS rejections (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT,
    seq INTEGER,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    received_at TEXT NOT NULL
);
-- Our own signed messages to the registry, which pulls them by seq.
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    restriction_id TEXT NOT NULL,
    envelope TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

OUTBOX_PAGE = 1000


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _clip(value, size: int = 200):
    return value[:size] if isinstance(value, str) else None


class Store:
    """The peer's state. `sign` turns a message into a signed envelope with the peer's key."""

    def __init__(self, path: Path, *, name: str, sign: Callable[[dict], dict], synchronous: str = "FULL"):
        if synchronous.upper() not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self.synchronous = synchronous.upper()
        self.path = Path(path)
        self.name = name
        self.sign = sign
        self._lock = threading.Lock()
        self._local = threading.local()
        conn = self._open()
        try:
            # WAL persists in the file; readers (/check) then never wait for a writer.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?)", (secrets.token_hex(4),))
            row = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
            self.store_id = row[0]
        finally:
            # Opened in the gunicorn master: a connection must not cross the fork.
            conn.close()

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves, so the transaction is explicit.
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        # FULL (the default): an "accepted" answer promises the message survives a power cut,
        # at one fsync per message. NORMAL (for benchmarks) still survives a killed process.
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are not shared between threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several queries see one state."""
        conn = self.conn()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    # -- inside a transaction --------------------------------------------------------

    @staticmethod
    def last_seq(conn) -> int:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM inbox").fetchone()[0]

    @staticmethod
    def applied_answer(conn, message_id: str) -> dict | None:
        row = conn.execute("SELECT answer FROM inbox WHERE id = ?", (message_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    @staticmethod
    def record(conn, message: dict, envelope: dict, answer: dict, at: str) -> None:
        conn.execute(
            "INSERT INTO inbox (seq, id, type, envelope, answer, received_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                message["seq"],
                message["id"],
                message["type"],
                orjson.dumps(envelope).decode(),
                orjson.dumps(answer).decode(),
                at,
            ),
        )

    @staticmethod
    def put(conn, restriction: dict, seq: int, at: str) -> None:
        """Hold a restriction (insert, or refresh its details keeping when it came in force)."""
        conn.execute(
            "INSERT INTO restrictions (restriction_id, national_id, kind, start, basis, body, "
            "in_force_since, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (restriction_id) DO UPDATE SET national_id = excluded.national_id, "
            "kind = excluded.kind, start = excluded.start, basis = excluded.basis, "
            "body = excluded.body, seq = excluded.seq",
            (
                restriction["restriction_id"],
                restriction["national_id"],
                restriction["kind"],
                _text(restriction.get("start")),
                _text(restriction.get("basis")),
                protocol.canonical(restriction).decode(),
                at,
                seq,
            ),
        )

    @staticmethod
    def remove(conn, restriction_id: str) -> bool:
        cur = conn.execute("DELETE FROM restrictions WHERE restriction_id = ?", (restriction_id,))
        return cur.rowcount > 0

    @staticmethod
    def held(conn) -> dict[str, str]:
        """restriction_id -> canonical body of every restriction held."""
        return dict(conn.execute("SELECT restriction_id, body FROM restrictions"))

    def replace_all(self, conn, restrictions: list[dict], seq: int, at: str):
        """Hold exactly `restrictions`.

        Returns (digest held before, missing ids, extra ids), the id lists sorted.
        """
        current = self.held(conn)
        before = protocol.digest(current)
        wanted = {r["restriction_id"]: r for r in restrictions}
        missing = sorted(wanted.keys() - current.keys())
        extra = sorted(current.keys() - wanted.keys())
        conn.executemany("DELETE FROM restrictions WHERE restriction_id = ?", ((i,) for i in extra))
        for rid, restriction in wanted.items():
            # Unchanged rows keep their seq and in_force_since; only new or changed are written.
            if current.get(rid) != protocol.canonical(restriction).decode():
                self.put(conn, restriction, seq, at)
        return before, missing, extra

    def append_outbox(self, conn, type_: str, body: dict, at: str) -> int:
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox").fetchone()[0]
        # The store id makes ids unique even if the peer's store is ever recreated from empty.
        message = {
            "id": f"{self.name}:{self.store_id}:{seq}",
            "peer": self.name,
            "seq": seq,
            "type": type_,
            "sent_at": at,
            "body": body,
        }
        envelope = self.sign(message)
        conn.execute(
            "INSERT INTO outbox (seq, id, type, restriction_id, envelope, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (seq, message["id"], type_, body["restriction_id"], orjson.dumps(envelope).decode(), at),
        )
        return seq

    # -- own transactions ------------------------------------------------------------

    def log_rejection(self, message_id, seq, reason: str, detail: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO rejections (id, seq, reason, detail, received_at) VALUES (?, ?, ?, ?, ?)",
                (
                    _clip(message_id),
                    seq if isinstance(seq, int) and abs(seq) < 2**63 else None,
                    reason,
                    _clip(detail, 500),
                    now_iso(),
                ),
            )

    def outbox(self, after: int, limit: int = OUTBOX_PAGE) -> list[bytes]:
        """Signed envelopes (JSON bytes) with seq > after, in seq order."""
        rows = self.conn().execute(
            "SELECT envelope FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, min(limit, OUTBOX_PAGE)),
        )
        return [row[0].encode() for row in rows]

    def restrictions_of(self, national_id: str) -> list[dict]:
        rows = self.conn().execute(
            "SELECT restriction_id, kind, start, basis FROM restrictions WHERE national_id = ? ORDER BY restriction_id",
            (national_id,),
        )
        return [{"restriction_id": r, "kind": k, "start": s, "basis": b} for r, k, s, b in rows]

    def health(self) -> dict:
        with self.reading() as conn:

            def one(sql):
                return conn.execute(sql).fetchone()[0]

            return {
                "last_seq": self.last_seq(conn),
                "restrictions": one("SELECT count(*) FROM restrictions"),
                "outbox_seq": one("SELECT coalesce(max(seq), 0) FROM outbox"),
                "rejections": one("SELECT count(*) FROM rejections"),
            }


def _text(value):
    return None if value is None else str(value)
