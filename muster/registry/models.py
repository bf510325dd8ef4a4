from django.db import models
from django.utils.translation import gettext_lazy as _


class Office(models.Model):
    """A recruitment office; it covers one or more districts of one region."""

    code = models.CharField(max_length=16, primary_key=True)
    name = models.CharField(max_length=200)
    name_ru = models.CharField(max_length=200)
    region = models.CharField(max_length=2, db_index=True)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OfficeArea(models.Model):
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="areas")
    region = models.CharField(max_length=2)
    district = models.CharField(max_length=3)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "district"], name="office_area_unique")]


class RegistrationStatus(models.TextChoices):
    NOT_SUBJECT = "not_subject", _("Not subject to military registration")
    NOT_REGISTERED = "not_registered", _("Not yet registered")
    CALL_UP_AGE = "call_up_age", _("Registered, call-up age")
    RESERVE = "reserve", _("Reserve")
    EXEMPT = "exempt", _("Exempt")
    REMOVED = "removed", _("Removed from registration")


class Person(models.Model):
    """The golden record: the registry's current view, assembled from source facts.

    Each value here comes from a `Fact`; `population_fact_id` names the population
    record in force, so provenance is a join, not a copy.
    """

    # Unique by a constraint, not `unique=True`: on PostgreSQL that would add a second,
    # pattern-ops index for LIKE that no query uses, and every insert would pay for it.
    national_id = models.CharField(max_length=11)
    tax_id = models.CharField(max_length=12, null=True, blank=True)
    surname = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    patronymic = models.CharField(max_length=100, null=True, blank=True)
    sex = models.CharField(max_length=1)
    birth_date = models.DateField()
    citizenship = models.CharField(max_length=2)
    region = models.CharField(max_length=2)
    district = models.CharField(max_length=3)
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=6, null=True, blank=True)
    phone = models.CharField(max_length=16, null=True, blank=True)
    email = models.CharField(max_length=254, null=True, blank=True)
    death_date = models.DateField(null=True, blank=True)
    # Normalised names (see feeds.linkage.normalise_name) for identity linkage and search.
    surname_norm = models.CharField(max_length=100, default="")
    given_norm = models.CharField(max_length=100, default="")
    patronymic_norm = models.CharField(max_length=100, default="")
    office = models.ForeignKey(
        Office, null=True, on_delete=models.PROTECT, related_name="persons", db_index=False
    )  # indexed in Meta: a plain index, without the unused pattern-ops one
    registration_status = models.CharField(max_length=16, choices=RegistrationStatus.choices)
    population_fact_id = models.BigIntegerField(null=True)
    population_changed_at = models.DateTimeField(null=True)
    # Phone and email: the population register and the citizen's own corrections are of
    # equal authority, so the newest change wins; this names the fact in force.
    contact_fact_id = models.BigIntegerField(null=True)
    contact_changed_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["national_id"], name="person_national_id_unique")]
        # Search is by surname and birth date (normalised names), linkage blocks on birth date
        # with each name and on the three names: one index for each, nothing more.
        indexes = [
            models.Index(fields=["office"], name="person_office"),
            models.Index(fields=["birth_date", "given_norm"], name="person_birth_given"),
            models.Index(fields=["birth_date", "surname_norm"], name="person_birth_surname"),
            models.Index(fields=["birth_date", "patronymic_norm"], name="person_birth_patronymic"),
            models.Index(fields=["surname_norm", "given_norm", "patronymic_norm"], name="person_names"),
        ]

    def __str__(self) -> str:
        return f"{self.surname} {self.given_name} ({self.national_id})"


class Fact(models.Model):
    """One version of one source record about a person, as received. Append-only.

    received_at is when the registry learnt it (transaction time); changed_at is when
    the source says it became true (valid time): together they answer "what did the
    registry know about X on date D".
    """

    # No single-column indexes on the foreign keys: (person, source) and (batch, line_no)
    # lead with them, and each extra index costs every insert at national scale.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="facts", db_index=False)
    source = models.CharField(max_length=16)
    record_id = models.CharField(max_length=64)
    batch = models.ForeignKey("feeds.Batch", null=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    line_no = models.IntegerField(null=True)
    received_at = models.DateTimeField()
    changed_at = models.DateTimeField()
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=32)

    class Meta:
        indexes = [
            models.Index(fields=["person", "source"], name="fact_person_source"),
            models.Index(fields=["batch", "line_no"], name="fact_batch_line"),
        ]


class SourceRecord(models.Model):
    """Which person a source's record id belongs to, and the newest version held."""

    source = models.CharField(max_length=16)
    record_id = models.CharField(max_length=64)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="source_records", db_index=False
    )  # indexed in Meta (source_record_person)
    fact_id = models.BigIntegerField()
    changed_at = models.DateTimeField()
    payload_hash = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "record_id"], name="source_record_unique")]
        indexes = [models.Index(fields=["person"], name="source_record_person")]
