"""User administration: creating accounts and issuing API tokens, audited."""

import datetime as dt
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.registry import identifiers
from muster.registry.models import Office

from .models import OFFICE_ROLES, ApiToken, Role, User


class Refused(Exception):
    """A refused action; `code` is machine-readable, the message says what to do."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def add_user(
    username: str,
    role: str,
    password: str,
    *,
    actor: Actor,
    now: dt.datetime,
    office: str | None = None,
    national_id: str | None = None,
) -> User:
    if role not in Role.values:
        raise Refused("role.unknown", f"unknown role {role!r}; roles: {', '.join(Role.values)}")
    if role in OFFICE_ROLES and not office:
        raise Refused("office.missing", f"role {role} needs --office CODE")
    if office and not Office.objects.filter(code=office).exists():
        raise Refused("office.unknown", f"no recruitment office with code {office!r}")
    if role == Role.CITIZEN:
        if not national_id:
            raise Refused("national_id.missing", "a citizen account needs --national-id")
        if not identifiers.snils_valid(national_id):
            raise Refused("national_id.checksum", f"{national_id} is not a valid insurance number")
    elif national_id:
        raise Refused("national_id.unexpected", "only citizen accounts are bound to a national_id")
    if User.objects.filter(username=username).exists():
        raise Refused("username.taken", f"user {username!r} exists already")
    user = User(
        username=username, role=role, office_id=office, national_id=national_id, is_staff=False, date_joined=now
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise Refused("password.weak", " ".join(exc.messages)) from None
    user.set_password(password)
    with transaction.atomic():
        user.save()
        audit(
            actor,
            "user.add",
            at=now,
            object_type="user",
            object_id=username,
            detail={"role": role, "office": office or "", "citizen": bool(national_id)},
        )
    return user


def new_token(user: User, *, actor: Actor, now: dt.datetime) -> str:
    """A new bearer token; only its hash is kept, so it is shown this once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(user=user, key_hash=ApiToken.hash(token), created_at=now)
        audit(actor, "user.token", at=now, object_type="user", object_id=user.username)
    return token


def user_for_token(token: str) -> User | None:
    row = (
        ApiToken.objects.select_related("user", "user__office")
        .filter(key_hash=ApiToken.hash(token), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    return row.user
