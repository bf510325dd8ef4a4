from django.db import models


class Summons(models.Model):
    """An electronic summons (call-up notice), its delivery and its legal clock.

    The times of the clock (deemed delivery, the day further measures begin) are fixed at
    placement from the law in force then, so the clock reaches the same state whichever
    way time is cut into ticks.
    """

    class Purpose(models.TextChoices):
        REGISTRATION = "registration"
        MEDICAL = "medical"
        CLARIFICATION = "clarification"
        CALL_UP = "call_up"

    class State(models.TextChoices):
        ISSUED = "issued"
        DELIVERED = "delivered"
        APPEARED = "appeared"
        CANCELLED = "cancelled"
        FAILED = "failed_to_appear"

    number = models.CharField(max_length=12, unique=True)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="summonses")
    office = models.ForeignKey("registry.Office", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    appear_at = models.DateTimeField()
    place = models.CharField(max_length=300)
    issued_by = models.CharField(max_length=150)
    placed_at = models.DateTimeField()
    deemed_at = models.DateTimeField()
    further_from = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.ISSUED)
    delivered_at = models.DateTimeField(null=True)
    delivery_channel = models.CharField(max_length=12, blank=True)  # portal | in_person | post | deemed
    appeared_at = models.DateTimeField(null=True)
    cancelled_at = models.DateTimeField(null=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    failed_at = models.DateTimeField(null=True)
    excused_at = models.DateTimeField(null=True)
    excuse = models.CharField(max_length=32, blank=True)
    campaign = models.ForeignKey("summons.Campaign", null=True, on_delete=models.PROTECT, related_name="summonses")
    document_id = models.BigIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "deemed_at"], name="summons_state_deemed"),
            models.Index(fields=["state", "appear_at"], name="summons_state_appear"),
            models.Index(fields=["person", "purpose", "state"], name="summons_person_open"),
        ]


class SummonsEvent(models.Model):
    """Append-only: every transition with its time and cause."""

    summons = models.ForeignKey(Summons, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=24)
    cause = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["summons", "at"], name="summons_event_at")]


class Campaign(models.Model):
    """A bulk issue: a clerk prepares, an office head (never the preparer) approves, then it issues."""

    class State(models.TextChoices):
        PREPARED = "prepared"
        APPROVED = "approved"
        ISSUED = "issued"
        REJECTED = "rejected"

    office = models.ForeignKey("registry.Office", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=16, choices=Summons.Purpose.choices)
    criteria = models.JSONField()
    appear_at = models.DateTimeField()
    place = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREPARED)
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField()
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True)
    issued_at = models.DateTimeField(null=True)
    preview = models.JSONField(default=dict)
    issued = models.IntegerField(default=0)
