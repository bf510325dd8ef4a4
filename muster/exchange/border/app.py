"""The border peer as a plain WSGI application, and `run()` that serves it with gunicorn.

Endpoints and answers follow docs/exchange-protocol.md. Bad input gets a 400 with a JSON
reason and never an exception out of the application; answers to a signed message are
200 whether it was accepted or rejected, because the rejection is the peer's answer.
"""

import contextlib
import logging
import os
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from muster.exchange import protocol

from .store import Store, now_iso

log = logging.getLogger("muster.peer")

MESSAGE_TYPES = ("restriction.add", "restriction.lift", "snapshot")
REASON_MAX = 200
MAX_BODY = 1 << 30  # a full snapshot of a million restrictions fits; more is not a request
_UINT = re.compile(r"[0-9]{1,18}")
# The 400 answer to a POST /messages that is not an envelope: shaped like a rejection.
NOT_AN_ENVELOPE = {"id": None, "status": "rejected", "reason": "message.malformed"}


class Refused(Exception):
    """A signed message the peer will not apply; `reason` is the protocol's code."""

    def __init__(self, reason: str, detail: str, **extra):
        super().__init__(detail)
        self.reason, self.detail, self.extra = reason, detail, extra


class BadRequest(Exception):
    """An HTTP request the peer cannot serve: answered with `http_status` and a JSON reason."""

    def __init__(self, detail: str, http_status: str = "400 Bad Request", **body):
        super().__init__(detail)
        self.http_status, self.body = http_status, body


def _write_private(path: Path, data: bytes) -> None:
    """Create a 0600 file atomically: never readable by others, never half written.

    The file is written under a temporary name and hard-linked into place, so two peers
    starting at once both end up with the one that won.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_private_key(path: Path):
    if not path.exists():
        _write_private(path, protocol.private_key_pem(Ed25519PrivateKey.generate()))
    return protocol.load_private_key_pem(path.read_bytes())


def ensure_token(path: Path) -> str:
    if not path.exists():
        _write_private(path, (secrets.token_urlsafe(32) + "\n").encode())
    return path.read_text().strip()


def _restriction(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise Refused("message.malformed", f"{where} must be an object")
    for field in ("restriction_id", "national_id", "kind"):
        if not isinstance(value.get(field), str) or not value[field].strip():
            raise Refused("message.malformed", f"{where}.{field} must be a non-empty string")
    return value


def _check_message(message: dict) -> None:
    """The envelope's message is well formed (after its signature has been verified)."""
    if not isinstance(message.get("id"), str) or not message["id"] or len(message["id"]) > 200:
        raise Refused("message.malformed", "id must be a string of 1 to 200 characters")
    seq = message.get("seq")
    if type(seq) is not int or not 1 <= seq < 2**63:
        raise Refused("message.malformed", "seq must be a positive integer")
    if not isinstance(message.get("peer"), str):
        raise Refused("message.malformed", "peer must be a string")
    if message.get("type") not in MESSAGE_TYPES:
        raise Refused("message.malformed", f"type must be one of {', '.join(MESSAGE_TYPES)}")
    if not isinstance(message.get("sent_at"), str):
        raise Refused("message.malformed", "sent_at must be a string")
    body = message.get("body")
    if message["type"] == "snapshot":
        if not isinstance(body, dict) or not isinstance(body.get("restrictions"), list):
            raise Refused("message.malformed", "body.restrictions must be a list")
        if not isinstance(body.get("digest"), str):
            raise Refused("message.malformed", "body.digest must be a string")
        ids = [_restriction(r, f"body.restrictions[{i}]")["restriction_id"] for i, r in enumerate(body["restrictions"])]
        if len(set(ids)) != len(ids):
            raise Refused("message.malformed", "body.restrictions repeats a restriction_id")
        # A digest that does not describe its own list is a registry fault, not a difference.
        if protocol.digest(ids) != body["digest"]:
            raise Refused("message.malformed", "body.digest does not match body.restrictions")
    else:
        _restriction(body, "body")


class BorderPeer:
    """The peer's behaviour; `__call__` is the WSGI application."""

    def __init__(self, home: Path, registry_key_path: Path, name: str = "border"):
        self.name = name
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.registry_key = protocol.load_public_key_pem(Path(registry_key_path).read_bytes())
        self.key = ensure_private_key(self.home / f"{name}.ed25519.pem")
        self.public_pem = protocol.public_key_pem(self.key)
        self.admin_token = ensure_token(self.home / "admin-token")
        self.store = Store(
            self.home / f"{name}.sqlite3",
            name=name,
            sign=lambda message: protocol.sign(self.key, message),
            synchronous=os.environ.get("MUSTER_PEER_SYNCHRONOUS", "FULL"),
        )
        self.routes = {
            "/messages": {"POST": self.post_message},
            "/outbox": {"GET": self.get_outbox},
            "/check": {"GET": self.get_check},
            "/health": {"GET": self.get_health},
            "/public-key": {"GET": self.get_public_key},
            "/admin/lift": {"POST": self.post_admin_lift},
        }

    # -- registry messages -------------------------------------------------------------

    def receive(self, envelope) -> dict:
        """Verify, check the order, apply exactly once; the answer for the registry."""
        message = envelope.get("message") if isinstance(envelope, dict) else None
        seen_id = message.get("id") if isinstance(message, dict) else None
        seen_id = seen_id if isinstance(seen_id, str) else None
        try:
            try:
                message = protocol.verify(self.registry_key, envelope)
            except protocol.BadSignature as exc:
                raise Refused("signature.invalid", str(exc)) from exc
            _check_message(message)
            if message["peer"] != self.name:
                raise Refused("peer.mismatch", f"this peer is {self.name!r}")
            return self._apply(message, envelope)
        except Refused as exc:
            seq = message.get("seq") if isinstance(message, dict) else None
            self.store.log_rejection(seen_id, seq, exc.reason, exc.detail)
            return {"id": seen_id, "status": "rejected", "reason": exc.reason, "detail": exc.detail, **exc.extra}

    def _apply(self, message: dict, envelope: dict) -> dict:
        at = now_iso()
        store = self.store
        with store.transaction() as conn:
            # The id check comes first: a resent message is a success, whatever came since.
            previous = store.applied_answer(conn, message["id"])
            if previous is not None:
                return {**previous, "duplicate": True}
            last = store.last_seq(conn)
            expected = last + 1
            if message["seq"] <= last:
                raise Refused(
                    "replay", f"seq {message['seq']} was already applied with another id", expected_seq=expected
                )
            if message["seq"] > expected:
                raise Refused("sequence.gap", f"expected seq {expected}", expected_seq=expected)
            answer = {"id": message["id"], "status": "accepted"}
            body = message["body"]
            if message["type"] == "restriction.add":
                store.put(conn, body, message["seq"], at)
                store.append_outbox(
                    conn, "restriction.confirmed", {"restriction_id": body["restriction_id"], "at": at}, at
                )
            elif message["type"] == "restriction.lift":
                # Lifting what we do not hold is still accepted: the outcome (not in force) holds.
                store.remove(conn, body["restriction_id"])
            else:
                before, missing, extra = store.replace_all(conn, body["restrictions"], message["seq"], at)
                # What the snapshot brought into force is confirmed like an add.
                for rid in missing:
                    store.append_outbox(conn, "restriction.confirmed", {"restriction_id": rid, "at": at}, at)
                answer |= {"digest_match": before == body["digest"], "missing": missing, "extra": extra}
            store.record(conn, message, envelope, answer, at)
            return answer

    # -- HTTP handlers -----------------------------------------------------------------

    def post_message(self, environ) -> tuple[str, dict]:
        try:
            envelope = orjson.loads(_read_body(environ))
        except orjson.JSONDecodeError as exc:
            raise BadRequest("the body is not JSON", **NOT_AN_ENVELOPE) from exc
        if not isinstance(envelope, dict) or not isinstance(envelope.get("message"), dict):
            raise BadRequest("the body is not an envelope {message, signature, key_id}", **NOT_AN_ENVELOPE)
        return "200 OK", self.receive(envelope)

    def get_outbox(self, environ):
        query = _query(environ)
        after = _uint(query, "after", 0)
        limit = _uint(query, "limit", 1000)
        if not 1 <= limit <= 1000:
            raise BadRequest("limit must be between 1 and 1000")
        # The envelopes are stored as JSON; they are sent as stored, without parsing.
        return "200 OK", b'{"messages":[' + b",".join(self.store.outbox(after, limit)) + b"]}"

    def get_check(self, environ):
        national_id = _query(environ).get("national_id", [""])[0].strip()
        if not national_id:
            raise BadRequest("national_id is required")
        restrictions = self.store.restrictions_of(national_id)
        return "200 OK", {
            "national_id": national_id,
            "may_cross": not any(r["kind"] == "exit" for r in restrictions),
            "restrictions": restrictions,
        }

    def get_health(self, environ):
        return "200 OK", {
            "ok": True,
            "peer": self.name,
            "store_id": self.store.store_id,
            "key_id": protocol.key_id(self.key.public_key()),
            **self.store.health(),
        }

    def get_public_key(self, environ):
        return "200 OK", self.public_pem

    def post_admin_lift(self, environ):
        token = environ.get("HTTP_X_ADMIN_TOKEN", "")
        if not secrets.compare_digest(token.encode(), self.admin_token.encode()):
            raise BadRequest("a valid X-Admin-Token is required", http_status="403 Forbidden")
        try:
            body = orjson.loads(_read_body(environ))
        except orjson.JSONDecodeError as exc:
            raise BadRequest("the body is not JSON") from exc
        rid = body.get("restriction_id") if isinstance(body, dict) else None
        reason = body.get("reason") if isinstance(body, dict) else None
        if not isinstance(rid, str) or not rid:
            raise BadRequest("restriction_id is required")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX:
            raise BadRequest(f"reason is required (at most {REASON_MAX} characters)")
        at = now_iso()
        with self.store.transaction() as conn:
            if not self.store.remove(conn, rid):
                raise BadRequest("no such restriction in force", http_status="404 Not Found", restriction_id=rid)
            seq = self.store.append_outbox(
                conn, "restriction.lifted_by_peer", {"restriction_id": rid, "at": at, "reason": reason}, at
            )
        log.info("restriction %s lifted by the border officer: %s", rid, reason)
        return "200 OK", {"ok": True, "restriction_id": rid, "outbox_seq": seq}

    # -- WSGI --------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        handlers = self.routes.get(path)
        extra_headers = []
        try:
            if handlers is None:
                raise BadRequest(f"no such endpoint: {path}", http_status="404 Not Found")
            if method not in handlers:
                extra_headers.append(("Allow", ", ".join(handlers)))
                raise BadRequest(f"{method} is not allowed here", http_status="405 Method Not Allowed")
            status, payload = handlers[method](environ)
        except BadRequest as exc:
            status, payload = exc.http_status, {"error": str(exc), **exc.body}
        except Exception:
            log.exception("%s %s failed", method, path)
            status, payload = "500 Internal Server Error", {"error": "internal error"}
        if isinstance(payload, dict):
            data, ctype = orjson.dumps(payload), "application/json"
        elif path == "/public-key" and status.startswith("200"):
            data, ctype = payload, "application/x-pem-file"
        else:
            data, ctype = payload, "application/json"
        start_response(
            status,
            [
                ("Content-Type", ctype),
                ("Content-Length", str(len(data))),
                ("Cache-Control", "no-store"),
                *extra_headers,
            ],
        )
        return [data]


def _read_body(environ) -> bytes:
    raw = environ.get("CONTENT_LENGTH") or ""
    if raw and not _UINT.fullmatch(raw):
        raise BadRequest("bad Content-Length")
    if raw and int(raw) > MAX_BODY:
        raise BadRequest("the body is too large", http_status="413 Content Too Large")
    stream = environ["wsgi.input"]
    # Without a length (chunked), read at most one byte past the limit to know it is too big.
    data = stream.read(int(raw)) if raw else stream.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise BadRequest("the body is too large", http_status="413 Content Too Large")
    return data


def _query(environ) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def _uint(query: dict, name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    if not _UINT.fullmatch(values[0]):
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(values[0])


def make_app(home: Path, registry_key_path: Path, name: str = "border") -> BorderPeer:
    return BorderPeer(home, registry_key_path, name)


def run(port: int, home: Path, registry_key_path: Path, name: str = "border") -> None:
    """Serve the peer on 127.0.0.1:port with gunicorn in this process (as muster.setup.serve)."""
    from gunicorn.app.base import BaseApplication

    # Keys, token and schema are made here, in the master, before the worker is forked.
    application = make_app(home, registry_key_path, name)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"127.0.0.1:{port}")
            # One worker: the store's write lock is per process; threads share it.
            self.cfg.set("workers", 1)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", os.environ.get("MUSTER_ACCESS_LOG", "-") or None)
            # A snapshot of a million restrictions takes longer than gunicorn's default 30 s.
            self.cfg.set("timeout", 300)
            self.cfg.set("proc_name", f"muster-peer-{name}")
            # gunicorn's control socket defaults to one path per user, which the registry's
            # own gunicorn (muster serve) would also claim; the peer has no use for it.
            self.cfg.set("control_socket_disable", True)

        def load(self):
            return application

    Server().run()
