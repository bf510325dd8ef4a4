"""The exchange worker's steps: deliver the outbox in order, pull the peers' answers, reconcile.

Delivery is at least once (a message is re-sent until the peer answers) and in order per
peer (a peer that reports a gap gets the stream again from where it stopped); peers apply
each message id once. Each step commits on its own, so a killed worker resumes where it was.
"""

import datetime as dt
import json
import logging
import urllib.error
import urllib.request

from django.db import transaction
from django.utils import timezone

from muster import keys
from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.measures.models import Measure

from . import protocol
from .models import InboundMessage, OutboxMessage, Peer, Reconciliation

log = logging.getLogger(__name__)
ACTOR = Actor.system("exchange")
TIMEOUT = 10


class PeerUnreachable(Exception):
    pass


def registry_key():
    return keys.load_ed25519("exchange")


def _http(method: str, url: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(  # noqa: S310 - configured peer URLs (http/https)
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PeerUnreachable(f"{url}: {exc}") from None


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2**attempts, 300))


def deliver(peer: Peer, now: dt.datetime, limit: int = 500) -> dict:
    """Send pending messages in sequence order until the peer stops accepting them."""
    sent = accepted = 0
    key = registry_key()
    pending = list(OutboxMessage.objects.filter(peer=peer, state=OutboxMessage.State.PENDING).order_by("seq")[:limit])
    for msg in pending:
        if msg.next_attempt_at and msg.next_attempt_at > now:
            break
        envelope = protocol.sign(
            key,
            {
                "id": msg.message_id,
                "peer": peer.name,
                "seq": msg.seq,
                "type": msg.type,
                "sent_at": now.isoformat(),
                "body": msg.body,
            },
        )
        try:
            answer = _http("POST", f"{peer.url}/messages", envelope)
        except PeerUnreachable as exc:
            OutboxMessage.objects.filter(id=msg.id).update(
                attempts=msg.attempts + 1, next_attempt_at=now + _backoff(msg.attempts + 1), answer=str(exc)[:200]
            )
            return {"sent": sent, "accepted": accepted, "unreachable": True}
        sent += 1
        if answer.get("status") == "accepted":
            with transaction.atomic():
                OutboxMessage.objects.filter(id=msg.id).update(
                    state=OutboxMessage.State.ACCEPTED,
                    sent_at=now,
                    answered_at=now,
                    attempts=msg.attempts + 1,
                    answer="duplicate" if answer.get("duplicate") else "accepted",
                )
                Peer.objects.filter(name=peer.name).update(last_delivered_seq=msg.seq)
                if msg.type == "snapshot":
                    _reconciled(peer, msg, answer, now)
            accepted += 1
            continue
        reason = answer.get("reason", "unknown")
        if reason == "sequence.gap" and int(answer.get("expected_seq", msg.seq)) < msg.seq:
            # The peer lacks earlier messages (it lost its store, or a message was lost): resend from there.
            expected = int(answer["expected_seq"])
            with transaction.atomic():
                OutboxMessage.objects.filter(peer=peer, seq__gte=expected, state=OutboxMessage.State.ACCEPTED).update(
                    state=OutboxMessage.State.PENDING, answer=f"resend from {expected}"
                )
                audit(
                    ACTOR,
                    "exchange.resend",
                    at=now,
                    object_type="peer",
                    object_id=peer.name,
                    detail={"from_seq": expected, "at_seq": msg.seq},
                )
            return {"sent": sent, "accepted": accepted, "resend_from": expected}
        with transaction.atomic():
            OutboxMessage.objects.filter(id=msg.id).update(
                state=OutboxMessage.State.REJECTED,
                sent_at=now,
                answered_at=now,
                answer=reason[:200],
                attempts=msg.attempts + 1,
            )
            audit(
                ACTOR,
                "exchange.rejected",
                at=now,
                object_type="peer",
                object_id=peer.name,
                detail={"seq": msg.seq, "message": msg.message_id, "reason": reason},
            )
        return {"sent": sent, "accepted": accepted, "rejected": msg.message_id}
    return {"sent": sent, "accepted": accepted}


def _reconciled(peer: Peer, msg: OutboxMessage, answer: dict, now: dt.datetime) -> None:
    Reconciliation.objects.get_or_create(
        message=msg,
        defaults={
            "peer": peer,
            "at": now,
            "digest_match": bool(answer.get("digest_match")),
            "missing": answer.get("missing", []),
            "extra": answer.get("extra", []),
        },
    )


def _measure_id(restriction_id: str) -> int | None:
    return int(restriction_id[1:]) if restriction_id.startswith("M") and restriction_id[1:].isdigit() else None


def pull(peer: Peer, now: dt.datetime) -> dict:
    """Fetch the peer's signed answers after our cursor; verify, store and apply each once."""
    if not peer.public_key:
        return {"pulled": 0, "skipped": "no public key trusted for this peer"}
    public = protocol.load_public_key_pem(peer.public_key.encode())
    store = str(_http("GET", f"{peer.url}/health").get("store_id", ""))
    if store != peer.inbound_store:
        with transaction.atomic():
            Peer.objects.filter(name=peer.name).update(inbound_store=store, inbound_cursor=0)
            if peer.inbound_store:
                audit(
                    ACTOR,
                    "exchange.peer_store_changed",
                    at=now,
                    object_type="peer",
                    object_id=peer.name,
                    detail={"old": peer.inbound_store, "new": store},
                )
        peer.inbound_store, peer.inbound_cursor = store, 0
    answer = _http("GET", f"{peer.url}/outbox?after={peer.inbound_cursor}")
    pulled = 0
    for envelope in answer.get("messages", []):
        try:
            message = protocol.verify(public, envelope)
        except protocol.BadSignature:
            audit(
                ACTOR,
                "exchange.inbound_forged",
                at=now,
                object_type="peer",
                object_id=peer.name,
                detail={"seq": envelope.get("message", {}).get("seq")},
            )
            break
        seq = int(message["seq"])
        if seq <= peer.inbound_cursor or InboundMessage.objects.filter(message_id=str(message["id"])).exists():
            continue
        with transaction.atomic():
            InboundMessage.objects.create(
                peer=peer,
                seq=seq,
                message_id=str(message["id"]),
                type=message["type"],
                body=message["body"],
                envelope=envelope,
                received_at=now,
            )
            mid = _measure_id(str(message["body"].get("restriction_id", "")))
            at = dt.datetime.fromisoformat(message["body"].get("at") or now.isoformat())
            if mid and message["type"] == "restriction.confirmed":
                Measure.objects.filter(id=mid, confirmed_at__isnull=True).update(confirmed_at=at)
            elif mid and message["type"] == "restriction.lifted_by_peer":
                Measure.objects.filter(id=mid).update(
                    peer_lifted_at=at, peer_reason=str(message["body"].get("reason", ""))[:200]
                )
                audit(
                    ACTOR,
                    "exchange.lifted_by_peer",
                    at=now,
                    object_type="measure",
                    object_id=mid,
                    detail={"peer": peer.name, "reason": message["body"].get("reason", "")},
                )
            Peer.objects.filter(name=peer.name).update(inbound_cursor=seq, last_confirmation_at=now)
            peer.inbound_cursor = seq
        pulled += 1
    return {"pulled": pulled}


def snapshot(peer: Peer, now: dt.datetime) -> OutboxMessage:
    """Queue the full list of restrictions in force for the peer, with its digest."""
    with transaction.atomic():
        locked = Peer.objects.select_for_update().get(name=peer.name)
        rows = (
            Measure.objects.filter(state="active", kind__in=locked.kinds)
            .select_related("person", "summons")
            .order_by("id")
        )
        items = [
            {
                "restriction_id": f"M{m.id}",
                "national_id": m.person.national_id,
                "surname": m.person.surname,
                "given_name": m.person.given_name,
                "patronymic": m.person.patronymic,
                "birth_date": m.person.birth_date.isoformat(),
                "kind": m.kind,
                "start": m.start.isoformat(),
                "basis": m.summons.number,
            }
            for m in rows.iterator()
        ]
        body = {"restrictions": items, "digest": protocol.digest([i["restriction_id"] for i in items])}
        seq = locked.next_seq
        msg = OutboxMessage.objects.create(
            peer=locked, seq=seq, message_id=f"{peer.name}:{seq}", type="snapshot", body=body, created_at=now
        )
        Peer.objects.filter(name=peer.name).update(next_seq=seq + 1)
    return msg


def trust(peer_name: str, public_key_pem: str, *, actor: Actor, now: dt.datetime) -> Peer:
    protocol.load_public_key_pem(public_key_pem.encode())  # refuses anything that is not a key
    with transaction.atomic():
        peer = Peer.objects.select_for_update().get(name=peer_name)
        peer.public_key = public_key_pem
        peer.save(update_fields=["public_key"])
        audit(
            actor,
            "exchange.trust",
            at=now,
            object_type="peer",
            object_id=peer_name,
            detail={"key_id": protocol.key_id(protocol.load_public_key_pem(public_key_pem.encode()))},
        )
    return peer


def run_once(now: dt.datetime | None = None, peer_name: str | None = None, snapshot_due: bool = False) -> dict:
    out = {}
    for peer in Peer.objects.filter(enabled=True).exclude(url="").order_by("name"):
        if peer_name and peer.name != peer_name:
            continue
        now_ = now or timezone.now()
        try:
            if snapshot_due:
                snapshot(peer, now_)
            step = deliver(peer, now_)
            peer.refresh_from_db()
            step |= pull(peer, now_)
        except PeerUnreachable as exc:
            step = {"unreachable": str(exc)}
        out[peer.name] = step
    return out


def trust_on_first_use(*, actor: Actor, now: dt.datetime) -> list[str]:
    """Demo only: fetch and trust the public key of every peer that has a URL and no key yet."""
    trusted = []
    for peer in Peer.objects.filter(enabled=True, public_key="").exclude(url=""):
        try:
            req = urllib.request.Request(f"{peer.url}/public-key")  # noqa: S310
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
                pem = resp.read().decode()
        except (urllib.error.URLError, OSError):
            continue
        trust(peer.name, pem, actor=actor, now=now)
        trusted.append(peer.name)
    return trusted
