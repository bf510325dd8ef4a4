"""Who may see which persons: the one place where scope is decided.

Every view, API endpoint and CLI path that reads persons on behalf of a user starts
from `visible_persons(user)`, so that a clerk of another office gets a 404, never data.
"""

from django.db.models import QuerySet

from muster.accounts.models import Role

from .models import Person


def visible_persons(user) -> QuerySet[Person]:
    persons = Person.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return persons.none()
    match user.role:
        case Role.CITIZEN:
            return persons.filter(national_id=user.national_id) if user.national_id else persons.none()
        case Role.CLERK | Role.OFFICE_HEAD:
            return persons.filter(office_id=user.office_id) if user.office_id else persons.none()
        case Role.REGIONAL:
            return persons.filter(office__region=user.office.region) if user.office_id else persons.none()
        case Role.NATIONAL:
            return persons
        case _:
            # Auditors and administrators see no personal data.
            return persons.none()
