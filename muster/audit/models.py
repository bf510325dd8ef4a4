from django.db import models


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit log.

    `hash` covers every field and the previous entry's hash, so that a changed,
    removed, inserted or reordered entry breaks the chain at a named place.
    """

    id = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=16, blank=True)
    actor_office = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=80, blank=True)
    # The person whose data was touched, for the citizen's "who saw my record".
    person_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    purpose = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]


class ChainHead(models.Model):
    """A single row that serialises appends and remembers the chain's end (catches truncation)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)


class Checkpoint(models.Model):
    """A signed statement of the chain head, verifiable with the audit public key alone."""

    entry_id = models.BigIntegerField(unique=True)
    entry_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["entry_id"]
