from django.db import models


class Peer(models.Model):
    """A partner agency that receives the measures of some kinds and answers for them."""

    name = models.CharField(max_length=32, primary_key=True)
    title = models.CharField(max_length=200)
    url = models.CharField(max_length=300, blank=True)
    kinds = models.JSONField()  # measure kinds this peer enforces
    public_key = models.TextField(blank=True)  # the peer's Ed25519 public key (PEM)
    enabled = models.BooleanField(default=True)
    next_seq = models.BigIntegerField(default=1)  # locked FOR UPDATE to number messages in commit order
    last_delivered_seq = models.BigIntegerField(default=0)
    last_confirmation_at = models.DateTimeField(null=True)
    inbound_cursor = models.BigIntegerField(default=0)
    # The peer's store identity: when it changes the peer started afresh, and so does our cursor.
    inbound_store = models.CharField(max_length=64, blank=True)


class OutboxMessage(models.Model):
    """A message written in the same transaction as the change that causes it."""

    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="outbox")
    seq = models.BigIntegerField()
    message_id = models.CharField(max_length=36, unique=True)
    type = models.CharField(max_length=32)
    body = models.JSONField()
    measure_id = models.BigIntegerField(null=True, db_index=True)
    created_at = models.DateTimeField()
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True)
    sent_at = models.DateTimeField(null=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    answered_at = models.DateTimeField(null=True)
    answer = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "seq"], name="outbox_peer_seq")]
        indexes = [models.Index(fields=["peer", "state", "seq"], name="outbox_peer_state")]


class InboundMessage(models.Model):
    """A signed message a peer sent back (confirmation, its own lifting), kept verbatim."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="inbound")
    seq = models.BigIntegerField()
    message_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=32)
    body = models.JSONField()
    envelope = models.JSONField()
    received_at = models.DateTimeField()


class Reconciliation(models.Model):
    """The peer's answer to a snapshot: do both hold the same list, and if not, what differs."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="reconciliations")
    message = models.OneToOneField(OutboxMessage, on_delete=models.PROTECT, related_name="reconciliation")
    at = models.DateTimeField()
    digest_match = models.BooleanField()
    missing = models.JSONField()  # restrictions the peer lacked
    extra = models.JSONField()  # restrictions the peer held that the registry does not
