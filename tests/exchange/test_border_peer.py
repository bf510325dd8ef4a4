"""The reference border peer, run as a real separate process and driven over HTTP."""

import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from muster.exchange import protocol

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, headers=None):
    """(status, parsed JSON or raw bytes) for any status, 4xx and 5xx included."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    # Only ever the peer's own http://127.0.0.1 URL, never a file: or other scheme.
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, ctype = response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        status, raw, ctype = exc.code, exc.read(), exc.headers["Content-Type"]
        exc.close()
    return status, json.loads(raw) if ctype == "application/json" else raw


class PeerProcess:
    """The peer in its own process group, so a kill takes gunicorn's worker with it."""

    def __init__(self, home: Path, registry_key: Path, log: Path):
        self.home, self.registry_key, self.log = home, registry_key, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        code = (
            "from pathlib import Path; from muster.exchange.border.app import run; "
            f"run({self.port}, Path({str(self.home)!r}), Path({str(self.registry_key)!r}))"
        )
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "MUSTER_ACCESS_LOG": ""},
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the peer exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if http("GET", f"{self.url}/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()  # the fixture's teardown does not run when its set-up fails
        pytest.fail(f"the peer did not answer /health:\n{self.log.read_text()}")

    def kill(self):
        """SIGKILL: no clean shutdown, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self.proc = None


class Registry:
    """The registry's side of the protocol: its key and its per-peer sequence."""

    def __init__(self, key: Ed25519PrivateKey, url: str, peer: str = "border"):
        self.key, self.url, self.peer = key, url, peer
        self.next_seq = 1

    def message(self, type_: str, body: dict, *, seq=None, id_=None) -> dict:
        if seq is None:
            seq, self.next_seq = self.next_seq, self.next_seq + 1
        return {
            "id": id_ or f"{self.peer}:{seq}",
            "peer": self.peer,
            "seq": seq,
            "type": type_,
            "sent_at": "2026-06-01T10:00:00+00:00",
            "body": body,
        }

    def post(self, envelope) -> dict:
        status, answer = http("POST", f"{self.url}/messages", envelope)
        assert status == 200, answer
        return answer

    def send(self, type_: str, body: dict, **kw) -> dict:
        return self.post(protocol.sign(self.key, self.message(type_, body, **kw)))

    def add(self, rid: str, national_id: str = "01019912345", kind: str = "exit", **kw) -> dict:
        return self.send("restriction.add", restriction(rid, national_id, kind), **kw)

    def lift(self, rid: str, national_id: str = "01019912345", kind: str = "exit", **kw) -> dict:
        body = restriction(rid, national_id, kind) | {"end": "2026-06-02", "reason": "appeared"}
        return self.send("restriction.lift", body, **kw)

    def snapshot(self, restrictions: list[dict], **kw) -> dict:
        ids = [r["restriction_id"] for r in restrictions]
        return self.send("snapshot", {"restrictions": restrictions, "digest": protocol.digest(ids)}, **kw)


def restriction(rid: str, national_id: str = "01019912345", kind: str = "exit") -> dict:
    return {
        "restriction_id": rid,
        "national_id": national_id,
        "surname": "Petrov",
        "given_name": "Ivan",
        "patronymic": "Sergeevich",
        "birth_date": "1999-01-01",
        "kind": kind,
        "start": "2026-06-01",
        "basis": f"S-{rid}",
    }


@pytest.fixture
def registry_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def peer(tmp_path, registry_key):
    keyfile = tmp_path / "registry.pub.pem"
    keyfile.write_bytes(protocol.public_key_pem(registry_key))
    process = PeerProcess(tmp_path / "peer-home", keyfile, tmp_path / "peer.log")
    process.start()
    yield process
    process.kill()


@pytest.fixture
def registry(peer, registry_key):
    return Registry(registry_key, peer.url)


def check(peer, national_id="01019912345") -> dict:
    status, answer = http("GET", f"{peer.url}/check?national_id={national_id}")
    assert status == 200
    return answer


def health(peer) -> dict:
    status, answer = http("GET", f"{peer.url}/health")
    assert status == 200
    assert answer["ok"] is True
    return answer


def outbox(peer, after=0) -> list[dict]:
    status, answer = http("GET", f"{peer.url}/outbox?after={after}")
    assert status == 200
    return answer["messages"]


def peer_key(peer):
    status, pem = http("GET", f"{peer.url}/public-key")
    assert status == 200
    return protocol.load_public_key_pem(pem)


def test_add_denies_and_lift_allows(peer, registry):
    assert check(peer) == {"national_id": "01019912345", "may_cross": True, "restrictions": []}
    assert registry.add("M1") == {"id": "border:1", "status": "accepted"}
    answer = check(peer)
    assert answer["may_cross"] is False
    assert answer["restrictions"] == [{"restriction_id": "M1", "kind": "exit", "start": "2026-06-01", "basis": "S-M1"}]
    assert check(peer, "02029912345")["may_cross"] is True
    assert registry.lift("M1") == {"id": "border:2", "status": "accepted"}
    assert check(peer) == {"national_id": "01019912345", "may_cross": True, "restrictions": []}
    assert health(peer)["last_seq"] == 2


def test_only_exit_restrictions_decide_crossing(peer, registry):
    registry.add("M1", kind="driving")
    answer = check(peer)
    assert answer["may_cross"] is True
    assert [r["kind"] for r in answer["restrictions"]] == ["driving"]
    registry.add("M2", kind="exit")
    assert check(peer)["may_cross"] is False


def test_duplicate_id_is_accepted_once(peer, registry):
    envelope = protocol.sign(registry.key, registry.message("restriction.add", restriction("M1")))
    assert registry.post(envelope) == {"id": "border:1", "status": "accepted"}
    assert registry.post(envelope) == {"id": "border:1", "status": "accepted", "duplicate": True}
    assert health(peer)["last_seq"] == 1
    assert health(peer)["restrictions"] == 1
    assert len(outbox(peer)) == 1  # one confirmation, not two
    registry.lift("M1")
    # A late copy of the add after the lift changes nothing: the person may still cross.
    assert registry.post(envelope)["duplicate"] is True
    assert check(peer)["may_cross"] is True
    assert health(peer)["last_seq"] == 2


def test_concurrent_copies_apply_once(peer, registry):
    envelope = protocol.sign(registry.key, registry.message("restriction.add", restriction("M1")))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(registry.post(envelope))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 8
    assert all(a["status"] == "accepted" for a in answers)
    assert sum(1 for a in answers if not a.get("duplicate")) == 1
    assert len(outbox(peer)) == 1


def test_bad_signature_is_refused_and_nothing_applied(peer, registry):
    genuine = protocol.sign(registry.key, registry.message("restriction.add", restriction("M1")))
    tampered = json.loads(json.dumps(genuine))
    tampered["message"]["body"]["national_id"] = "02029912345"
    answer = registry.post(tampered)
    assert answer["status"] == "rejected"
    assert answer["reason"] == "signature.invalid"
    assert answer["id"] == "border:1"
    forged = protocol.sign(Ed25519PrivateKey.generate(), genuine["message"])
    assert registry.post(forged)["reason"] == "signature.invalid"
    unsigned = {**genuine, "signature": ""}
    assert registry.post(unsigned)["reason"] == "signature.invalid"
    assert check(peer, "02029912345")["may_cross"] is True
    assert check(peer)["may_cross"] is True
    state = health(peer)
    assert (state["last_seq"], state["restrictions"], state["outbox_seq"]) == (0, 0, 0)
    assert state["rejections"] == 3
    # A forgery does not use up the id or the seq: the genuine message still goes through.
    assert registry.post(genuine) == {"id": "border:1", "status": "accepted"}
    assert check(peer)["may_cross"] is False


def test_replayed_seq_with_another_id_is_refused(peer, registry):
    registry.add("M1")
    answer = registry.add("M2", seq=1, id_="border:other")
    assert answer["status"] == "rejected"
    assert answer["reason"] == "replay"
    assert answer["id"] == "border:other"
    assert answer["expected_seq"] == 2
    assert [r["restriction_id"] for r in check(peer)["restrictions"]] == ["M1"]
    assert health(peer)["last_seq"] == 1


def test_gap_is_refused_then_resent_from_expected(peer, registry):
    registry.add("M1")  # seq 1
    lost = registry.message("restriction.add", restriction("M2"))  # seq 2, never arrives
    later = registry.message("restriction.add", restriction("M3"))  # seq 3
    answer = registry.post(protocol.sign(registry.key, later))
    assert answer["status"] == "rejected"
    assert answer["reason"] == "sequence.gap"
    assert answer["expected_seq"] == 2
    assert health(peer)["last_seq"] == 1
    assert [r["restriction_id"] for r in check(peer)["restrictions"]] == ["M1"]
    # The registry resends from expected_seq, in order.
    assert registry.post(protocol.sign(registry.key, lost))["status"] == "accepted"
    assert registry.post(protocol.sign(registry.key, later))["status"] == "accepted"
    assert [r["restriction_id"] for r in check(peer)["restrictions"]] == ["M1", "M2", "M3"]
    assert health(peer)["last_seq"] == 3


def test_snapshot_reports_differences_and_replaces_the_list(peer, registry):
    registry.add("M1")
    registry.add("M2")
    registry.add("M4", national_id="03039912345")
    answer = registry.snapshot([restriction("M2"), restriction("M3"), restriction("M4", national_id="03039912345")])
    assert answer == {"id": "border:4", "status": "accepted", "digest_match": False, "missing": ["M3"], "extra": ["M1"]}
    assert [r["restriction_id"] for r in check(peer)["restrictions"]] == ["M2", "M3"]
    assert health(peer)["restrictions"] == 3
    # What the snapshot brought in is confirmed like an add.
    assert [m["message"]["body"]["restriction_id"] for m in outbox(peer, after=3)] == ["M3"]
    again = registry.snapshot([restriction("M2"), restriction("M3"), restriction("M4", national_id="03039912345")])
    assert again == {"id": "border:5", "status": "accepted", "digest_match": True, "missing": [], "extra": []}
    empty = registry.snapshot([])
    assert empty["missing"] == []
    assert empty["extra"] == ["M2", "M3", "M4"]
    assert check(peer)["may_cross"] is True
    assert health(peer)["restrictions"] == 0


def test_snapshot_with_a_wrong_digest_is_malformed(peer, registry):
    registry.add("M1")
    body = {"restrictions": [restriction("M2")], "digest": protocol.digest(["M1"])}
    answer = registry.send("snapshot", body)
    assert (answer["status"], answer["reason"]) == ("rejected", "message.malformed")
    assert [r["restriction_id"] for r in check(peer)["restrictions"]] == ["M1"]


def test_outbox_has_a_signed_confirmation_per_add(peer, registry):
    for rid in ("M1", "M2", "M3"):
        registry.add(rid)
    registry.lift("M2")
    key = peer_key(peer)
    messages = [protocol.verify(key, envelope) for envelope in outbox(peer)]
    assert [m["seq"] for m in messages] == [1, 2, 3]
    assert {m["type"] for m in messages} == {"restriction.confirmed"}
    assert [m["body"]["restriction_id"] for m in messages] == ["M1", "M2", "M3"]
    assert all(m["peer"] == "border" and m["body"]["at"] for m in messages)
    assert len({m["id"] for m in messages}) == 3
    assert [m["message"]["seq"] for m in outbox(peer, after=2)] == [3]
    assert outbox(peer, after=3) == []
    # Signed by the peer's own key, not by anything the registry holds.
    with pytest.raises(protocol.BadSignature):
        protocol.verify(registry.key.public_key(), outbox(peer)[0])


def test_admin_lift_is_signed_and_reported(peer, registry):
    registry.add("M1")
    token_file = peer.home / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    body = {"restriction_id": "M1", "reason": "court order 12/2026"}
    status, answer = http("POST", f"{peer.url}/admin/lift", body, {"X-Admin-Token": "wrong"})
    assert status == 403
    status, answer = http("POST", f"{peer.url}/admin/lift", body)
    assert status == 403
    assert check(peer)["may_cross"] is False
    status, answer = http("POST", f"{peer.url}/admin/lift", body, {"X-Admin-Token": token})
    assert status == 200
    assert answer == {"ok": True, "restriction_id": "M1", "outbox_seq": 2}
    assert check(peer)["may_cross"] is True
    last = protocol.verify(peer_key(peer), outbox(peer, after=1)[0])
    assert last["type"] == "restriction.lifted_by_peer"
    assert last["body"]["restriction_id"] == "M1"
    assert last["body"]["reason"] == "court order 12/2026"
    status, answer = http("POST", f"{peer.url}/admin/lift", body, {"X-Admin-Token": token})
    assert status == 404
    status, answer = http("POST", f"{peer.url}/admin/lift", {"restriction_id": "M1"}, {"X-Admin-Token": token})
    assert status == 400


def test_restart_keeps_state(peer, registry):
    registry.add("M1")
    registry.add("M2", national_id="02029912345")
    registry.lift("M2", national_id="02029912345")
    registry.add("M3", kind="driving")
    before = health(peer)
    key_before = http("GET", f"{peer.url}/public-key")[1]
    outbox_before = outbox(peer)
    peer.kill()
    peer.start()
    after = health(peer)
    assert after == before
    assert after["last_seq"] == 4
    assert after["restrictions"] == 2
    assert [r["restriction_id"] for r in check(peer)["restrictions"]] == ["M1", "M3"]
    assert check(peer)["may_cross"] is False
    assert check(peer, "02029912345")["may_cross"] is True
    assert http("GET", f"{peer.url}/public-key")[1] == key_before
    assert outbox(peer) == outbox_before
    # The sequence carries on where it was: the next message is 5, and 4 again is a duplicate.
    assert registry.add("M3", kind="driving", seq=4)["duplicate"] is True
    assert registry.add("M5")["status"] == "accepted"
    assert health(peer)["last_seq"] == 5


def test_peer_home_holds_key_token_and_store(peer):
    names = {p.name for p in peer.home.iterdir()}
    assert {"border.ed25519.pem", "admin-token", "border.sqlite3"} <= names
    assert stat.S_IMODE((peer.home / "border.ed25519.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(peer.home.stat().st_mode) == 0o700
    pem = (peer.home / "border.ed25519.pem").read_bytes()
    own = protocol.load_private_key_pem(pem)
    assert protocol.public_key_pem(own) == http("GET", f"{peer.url}/public-key")[1]
    assert health(peer)["key_id"] == protocol.key_id(own.public_key())


def test_bad_input_is_answered_not_crashed(peer, registry):
    url = peer.url
    status, answer = http("POST", f"{url}/messages", b"{not json")
    assert status == 400
    assert answer["reason"] == "message.malformed"
    assert answer["status"] == "rejected"
    for body in ([], {"message": "x"}, {"signature": "x"}, "text", 12):
        status, answer = http("POST", f"{url}/messages", body)
        assert (status, answer["reason"]) == (400, "message.malformed"), body
    assert http("GET", f"{url}/check")[0] == 400
    assert http("GET", f"{url}/check?national_id=")[0] == 400
    assert http("GET", f"{url}/outbox?after=x")[0] == 400
    assert http("GET", f"{url}/outbox?after=-1")[0] == 400
    assert http("GET", f"{url}/outbox?after=99999999999999999999999")[0] == 400
    assert http("GET", f"{url}/outbox?limit=5000")[0] == 400
    assert http("GET", f"{url}/nowhere")[0] == 404
    assert http("GET", f"{url}/messages")[0] == 405
    assert http("POST", f"{url}/admin/lift", b"\xff", {"X-Admin-Token": "x"})[0] == 403
    token = (peer.home / "admin-token").read_text().strip()
    for body in (b"\xff", b"[]", b'{"restriction_id": 5, "reason": "x"}'):
        assert http("POST", f"{url}/admin/lift", body, {"X-Admin-Token": token})[0] == 400
    # Signed but wrong: a rejection the registry can act on, not an HTTP error.
    for message, reason in [
        (registry.message("restriction.add", restriction("M1"), seq=0), "message.malformed"),
        ({**registry.message("restriction.add", restriction("M1"), seq=1), "seq": "1"}, "message.malformed"),
        (registry.message("restriction.add", {"restriction_id": "M1"}, seq=1), "message.malformed"),
        (registry.message("restriction.remove", restriction("M1"), seq=1), "message.malformed"),
        (registry.message("snapshot", {"restrictions": "all"}, seq=1), "message.malformed"),
        ({**registry.message("restriction.add", restriction("M1"), seq=1), "peer": "tax_service"}, "peer.mismatch"),
    ]:
        answer = registry.post(protocol.sign(registry.key, message))
        assert (answer["status"], answer["reason"]) == ("rejected", reason), message
    state = health(peer)
    assert (state["last_seq"], state["restrictions"]) == (0, 0)
    assert registry.add("M1", seq=1)["status"] == "accepted"


def test_message_log_keeps_every_applied_message_and_its_answer(peer, registry):
    registry.add("M1")
    registry.add("M1", seq=1)  # a duplicate: logged once
    registry.add("M2", seq=5)  # a gap: refused, not applied
    registry.lift("M1", seq=2)
    registry.snapshot([restriction("M3")], seq=3)
    # Read-only, beside the running peer (WAL lets a reader in while it writes).
    conn = sqlite3.connect(f"file:{peer.home / 'border.sqlite3'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT seq, id, type, envelope, answer FROM inbox ORDER BY seq")
        rows = rows.fetchall()
        refused = conn.execute("SELECT seq, reason FROM rejections").fetchall()
    finally:
        conn.close()
    assert [(s, i, t) for s, i, t, _, _ in rows] == [
        (1, "border:1", "restriction.add"),
        (2, "border:2", "restriction.lift"),
        (3, "border:3", "snapshot"),
    ]
    for _, _, _, envelope, answer in rows:
        # Kept verbatim: the signature still verifies against the registry's key.
        protocol.verify(registry.key.public_key(), json.loads(envelope))
        assert json.loads(answer)["status"] == "accepted"
    assert json.loads(rows[2][4])["missing"] == ["M3"]
    assert refused == [(5, "sequence.gap")]


def test_peer_runs_without_django():
    code = "import sys, muster.exchange.border.app; print(sorted(m for m in sys.modules if 'django' in m))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
