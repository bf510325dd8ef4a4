import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    CLERK = "clerk", _("Clerk")
    OFFICE_HEAD = "office_head", _("Office head")
    REGIONAL = "regional", _("Regional staff")
    NATIONAL = "national", _("National staff")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("System administrator")


STAFF_ROLES = {Role.CLERK, Role.OFFICE_HEAD, Role.REGIONAL, Role.NATIONAL}
OFFICE_ROLES = {Role.CLERK, Role.OFFICE_HEAD, Role.REGIONAL}


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices)
    office = models.ForeignKey("registry.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    # A citizen account is bound to one registry person by their insurance number.
    national_id = models.CharField(max_length=11, null=True, blank=True, unique=True)

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
