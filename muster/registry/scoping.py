"""Who may see what: the one place where scope is decided.

Every view, API endpoint and task that reads persons (or office work such as review
items) on behalf of a user starts from these querysets, so that a clerk of another
office gets a 404, never data.
"""

from django.db.models import Q, QuerySet

from muster.accounts.models import Role

from .models import Person

NOTHING = Q(pk__in=[])


def office_q(user, office_field: str = "office") -> Q:
    """The filter on an office foreign key that `user`'s role allows (staff roles only)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    match user.role:
        case Role.CLERK | Role.OFFICE_HEAD:
            return Q(**{f"{office_field}_id": user.office_id}) if user.office_id else NOTHING
        case Role.REGIONAL:
            return Q(**{f"{office_field}__region": user.office.region}) if user.office_id else NOTHING
        case Role.NATIONAL:
            return Q()
        case _:
            return NOTHING


def visible_persons(user) -> QuerySet[Person]:
    persons = Person.objects.all()
    if getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.CITIZEN:
        return persons.filter(national_id=user.national_id) if user.national_id else persons.none()
    # Auditors and administrators fall through to NOTHING: they see no personal data.
    return persons.filter(office_q(user))


def visible_reviews(user):
    from muster.feeds.models import ReviewItem

    return ReviewItem.objects.filter(office_q(user))
