"""The audit log: append inside the caller's transaction, verify from outside.

Every service call appends its entry in its own transaction, so a change and its
audit entry commit or vanish together. Appends serialise on the single ChainHead row.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

import orjson
from django.db import transaction

from muster import keys

from .models import AuditEntry, ChainHead, Checkpoint

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or a named system process."""

    name: str
    role: str = ""
    office: str = ""
    user_id: int | None = None

    @classmethod
    def of(cls, user) -> "Actor":
        return cls(user.username, user.role, user.office_id or "", user.pk)

    @classmethod
    def system(cls, process: str) -> "Actor":
        return cls(f"system:{process}", "system")


def _canonical(e: AuditEntry) -> bytes:
    at = e.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    fields = {
        "id": e.id,
        "at": at,
        "actor": e.actor,
        "actor_role": e.actor_role,
        "actor_office": e.actor_office,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "person_id": e.person_id,
        "purpose": e.purpose,
        "detail": e.detail,
    }
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def entry_hash(e: AuditEntry) -> str:
    return hashlib.sha256(e.prev_hash.encode() + _canonical(e)).hexdigest()


def record(
    actor: Actor,
    action: str,
    *,
    at: dt.datetime,
    object_type: str = "",
    object_id: str = "",
    person_id: int | None = None,
    purpose: str = "",
    detail: dict | None = None,
) -> AuditEntry:
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_id": 0, "last_hash": GENESIS}
        )
        entry = AuditEntry(
            id=head.last_id + 1,
            at=at,
            actor=actor.name,
            actor_role=actor.role,
            actor_office=actor.office,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            person_id=person_id,
            purpose=purpose,
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
        head.last_id, head.last_hash = entry.id, entry.hash
        head.save(update_fields=["last_id", "last_hash"])
        return entry


def checkpoint(now: dt.datetime) -> Checkpoint | None:
    """Sign the current chain head (no-op when nothing was appended since the last one)."""
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().filter(id=1).first()
        if head is None or Checkpoint.objects.filter(entry_id=head.last_id).exists():
            return None
        key = keys.audit_key()
        message = f"muster-audit:{head.last_id}:{head.last_hash}".encode()
        return Checkpoint.objects.create(
            entry_id=head.last_id,
            entry_hash=head.last_hash,
            signed_at=now,
            key_id=keys.key_id(key.public_key()),
            signature=key.sign(message).hex(),
        )


@dataclass
class Verification:
    ok: bool
    entries: int
    checkpoints: int
    first_bad: int | None = None
    problem: str = ""

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "first_bad_entry": self.first_bad,
            "problem": self.problem,
        }


def verify(chunk: int = 20_000) -> Verification:
    """Recompute the chain; name the first entry that was changed, removed, inserted or moved."""
    prev_hash, expected_id, count = GENESIS, 1, 0
    hashes: dict[int, str] = {}
    checkpoints = list(Checkpoint.objects.all())
    wanted = {c.entry_id for c in checkpoints}
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last).order_by("id")[:chunk])
        if not rows:
            break
        for e in rows:
            if e.id != expected_id:
                return Verification(
                    False, count, 0, expected_id, f"entry {expected_id} is missing (removed) before entry {e.id}"
                )
            if e.prev_hash != prev_hash:
                return Verification(
                    False,
                    count,
                    0,
                    e.id,
                    f"entry {e.id} does not follow entry {e.id - 1} (inserted, removed or reordered)",
                )
            if entry_hash(e) != e.hash:
                return Verification(False, count, 0, e.id, f"entry {e.id} was changed after it was written")
            if e.id in wanted:
                hashes[e.id] = e.hash
            prev_hash, expected_id, count = e.hash, e.id + 1, count + 1
        last = rows[-1].id
    head = ChainHead.objects.filter(id=1).first()
    if head and (head.last_id != count or head.last_hash != prev_hash):
        return Verification(
            False,
            count,
            0,
            count + 1,
            f"the chain ends at entry {count} but its head says {head.last_id}: entries were removed from the end",
        )
    public = keys.audit_public_key()
    for c in checkpoints:
        if hashes.get(c.entry_id) != c.entry_hash:
            return Verification(
                False, count, 0, c.entry_id, f"checkpoint at entry {c.entry_id} does not match the chain"
            )
        if not keys.verify_signature(
            public, bytes.fromhex(c.signature), f"muster-audit:{c.entry_id}:{c.entry_hash}".encode()
        ):
            return Verification(False, count, 0, c.entry_id, f"checkpoint at entry {c.entry_id} has a bad signature")
    return Verification(True, count, len(checkpoints))
