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
