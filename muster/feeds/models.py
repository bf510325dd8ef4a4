from django.db import models


class Batch(models.Model):
    """One received feed file, identified by the SHA-256 of its bytes.

    `cursor` is the last physical line whose chunk committed: a killed import resumes
    after it and ends in exactly the state of an uninterrupted one.
    """

    class State(models.TextChoices):
        RUNNING = "running"
        COMPLETE = "complete"

    id = models.CharField(max_length=64, primary_key=True)
    source = models.CharField(max_length=16)
    filename = models.CharField(max_length=300)
    size = models.BigIntegerField()
    format = models.CharField(max_length=8)
    state = models.CharField(max_length=8, choices=State.choices)
    cursor = models.IntegerField(default=0)
    received = models.IntegerField(default=0)
    applied = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    review = models.IntegerField(default=0)
    quarantined = models.IntegerField(default=0)
    reasons = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True)
    imported_by = models.CharField(max_length=150)


class QuarantinedLine(models.Model):
    """A line that could not be applied, kept verbatim with machine-readable reasons."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="quarantine")
    line_no = models.IntegerField()
    record_id = models.CharField(max_length=64, null=True)
    raw = models.TextField()
    reasons = models.JSONField()
    # True when the line was valid but the merge refused it (e.g. national_id.conflict).
    after_validation = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "line_no"], name="quarantine_line_unique")]


class UnchangedLine(models.Model):
    """A line identical to the version already held: recorded so the receipt can name it."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="+")
    line_no = models.IntegerField()
    record_id = models.CharField(max_length=64)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "line_no"], name="unchanged_line_unique")]


class ReviewItem(models.Model):
    """A record whose identity match is uncertain: it waits for a clerk of the candidate's office."""

    class State(models.TextChoices):
        OPEN = "open"
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="reviews")
    line_no = models.IntegerField()
    source = models.CharField(max_length=16)
    record_id = models.CharField(max_length=64)
    changed_at = models.DateTimeField()
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=32)
    # [{"person_id", "national_id", "probability", "weight", "field_weights"}], best first.
    candidates = models.JSONField()
    office = models.ForeignKey("registry.Office", null=True, on_delete=models.PROTECT, related_name="+")
    model_version = models.CharField(max_length=32)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    person = models.ForeignKey("registry.Person", null=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "line_no"], name="review_line_unique")]
        indexes = [models.Index(fields=["office", "state"], name="review_office_state")]


class LinkageModelVersion(models.Model):
    """A trained linkage model: the artefact lives under MUSTER_HOME/models, named by its version."""

    version = models.CharField(max_length=32, primary_key=True)
    path = models.CharField(max_length=300)
    trained_at = models.DateTimeField()
    persons = models.IntegerField()
    records = models.IntegerField()
    active = models.BooleanField(default=True)


class ClarificationCampaign(models.Model):
    """A "data clarification" campaign: persons with missing, stale or conflicting data are asked."""

    office = models.ForeignKey("registry.Office", on_delete=models.PROTECT, related_name="+")
    criteria = models.JSONField()
    created_by = models.CharField(max_length=150)
    launched_at = models.DateTimeField()
    selected = models.IntegerField()


class ClarificationRequest(models.Model):
    class State(models.TextChoices):
        SENT = "sent"
        CONFIRMED = "confirmed"
        CORRECTED = "corrected"

    campaign = models.ForeignKey(ClarificationCampaign, on_delete=models.PROTECT, related_name="requests")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="clarifications")
    # Codes of the criteria the person met, comma-terminated ("missing_phone,conflict,").
    reasons = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    sent_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True)
    fact_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="clarification_unique")]
        indexes = [models.Index(fields=["person", "state"], name="clarification_person_state")]

    @property
    def reason_codes(self) -> list[str]:
        return [r for r in self.reasons.split(",") if r]
