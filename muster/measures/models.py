from django.db import models


class Measure(models.Model):
    """A temporary measure with its legal basis (the summons), start, end and lifting reason."""

    class Kind(models.TextChoices):
        EXIT = "exit"
        ENTREPRENEUR = "entrepreneur"
        REAL_ESTATE = "real_estate"
        DRIVING = "driving"
        VEHICLE = "vehicle"
        LOANS = "loans"

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="measures")
    summons = models.ForeignKey("summons.Summons", on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=8, default="active")  # active | lifted
    start = models.DateField()
    created_at = models.DateTimeField()
    ended_on = models.DateField(null=True)
    lifted_at = models.DateTimeField(null=True)
    lift_reason = models.CharField(max_length=32, blank=True)
    # The peer's own confirmation ("in force at the border") or its own lifting, if any.
    confirmed_at = models.DateTimeField(null=True)
    peer_lifted_at = models.DateTimeField(null=True)
    peer_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["summons", "kind"], name="measure_summons_kind")]
        indexes = [models.Index(fields=["person", "state"], name="measure_person_state")]


class Notification(models.Model):
    """What the citizen is told in their portal account (every measure change, every summons)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="notifications")
    at = models.DateTimeField()
    kind = models.CharField(max_length=32)
    data = models.JSONField()
    read_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["person", "at"], name="notification_person_at")]
