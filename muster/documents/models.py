from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    SUMMONS = "summons", _("Summons")
    DECISION = "decision", _("Decision")
    CERTIFICATE = "certificate", _("Certificate")
    REPORT = "report", _("Report")


class Document(models.Model):
    """One version of one document; its bytes live in the content-addressed store.

    A new version is a new row pointing at the one it replaces; rows are never updated
    (the database refuses it), so every version stays readable until its retention ends.
    """

    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=100)
    doc_type = models.CharField(max_length=16, choices=DocumentType.choices)
    title = models.CharField(max_length=200)
    owner = models.ForeignKey("registry.Person", null=True, on_delete=models.PROTECT, related_name="documents")
    office = models.ForeignKey("registry.Office", null=True, on_delete=models.PROTECT, related_name="documents")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    retention_until = models.DateField()
    version = models.PositiveIntegerField(default=1)
    previous = models.ForeignKey("self", null=True, on_delete=models.PROTECT, related_name="+")
    signed = models.BooleanField(default=False)
    # The signing certificate's subject (its common name), as a reader would be shown it.
    signer = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            # A version has at most one successor: history is a line, never a fork.
            models.UniqueConstraint(fields=["previous"], name="document_one_successor"),
            models.CheckConstraint(
                condition=Q(previous__isnull=True, version=1) | Q(previous__isnull=False, version__gt=1),
                name="document_version_chain",
            ),
        ]
        indexes = [models.Index(fields=["owner", "doc_type"], name="document_owner_type")]

    def __str__(self) -> str:
        return f"{self.doc_type} {self.title} v{self.version}"
