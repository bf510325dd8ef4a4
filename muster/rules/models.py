from django.db import models


class EvaluationRun(models.Model):
    """One evaluation pass (the population, or the persons whose facts changed)."""

    started_at = models.DateTimeField()
    as_of = models.DateField()
    pack_version = models.CharField(max_length=32)
    scope = models.CharField(max_length=16)  # "all", "persons", "what-if"
    evaluated = models.IntegerField(default=0)
    changed = models.IntegerField(default=0)
    seconds = models.FloatField(default=0)


class Decision(models.Model):
    """The current decision on a person's rights, with what it was decided on.

    The row is kept narrow (a full evaluation compares every person's status, ground and
    until with it); the inputs it was decided on (feature values and the ids of the
    immutable facts they came from) are in the history row of the run that wrote it,
    `inputs_row()`, so a decision can be explained and replayed later.
    """

    person = models.OneToOneField(
        "registry.Person", primary_key=True, on_delete=models.PROTECT, related_name="decision"
    )
    status = models.CharField(max_length=16)
    ground = models.CharField(max_length=32, null=True)
    until = models.DateField(null=True)
    fired = models.CharField(max_length=400)
    as_of = models.DateField()
    pack_version = models.CharField(max_length=32)
    # Not indexed: nothing looks decisions up by run (the history does), and every changed
    # decision would pay for it.
    run = models.ForeignKey(EvaluationRun, on_delete=models.PROTECT, related_name="+", db_index=False)
    decided_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["status", "ground"], name="decision_status_ground")]

    def inputs_row(self) -> "DecisionChange | None":
        return DecisionChange.objects.filter(person_id=self.person_id, run_id=self.run_id).first()

    @property
    def fired_codes(self) -> list[str]:
        return [c for c in self.fired.split(",") if c]


class DecisionChange(models.Model):
    """Append-only history: every change of a person's decision, with the inputs it was taken on
    (the feature values and the ids of the facts they came from; null before they were kept here)."""

    # (person, at) below serves lookups by person.
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+", db_index=False)
    run = models.ForeignKey(EvaluationRun, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField()
    as_of = models.DateField()
    old_status = models.CharField(max_length=16, null=True)
    old_ground = models.CharField(max_length=32, null=True)
    status = models.CharField(max_length=16)
    ground = models.CharField(max_length=32, null=True)
    until = models.DateField(null=True)
    inputs = models.JSONField(null=True)

    class Meta:
        indexes = [models.Index(fields=["person", "at"], name="decision_change_person")]


class FeatureStore(models.Model):
    """The state of a rule pack's feature store (see muster/rules/store.py)."""

    pack = models.CharField(max_length=32, primary_key=True)
    digest = models.CharField(max_length=32)  # of the pack's feature definition the store was built with
    watermark = models.BigIntegerField(default=0)  # the highest fact id the store has seen
    persons = models.BigIntegerField(default=0)  # rows at the last rebuild
    built_at = models.DateTimeField(null=True)
    rebuild_seconds = models.FloatField(default=0)
