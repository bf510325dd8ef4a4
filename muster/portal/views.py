"""Citizen pages, and what every page shows of a person: their record and who has looked at it."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from muster.accounts.models import STAFF_ROLES, Role
from muster.audit.models import AuditEntry
from muster.registry import services
from muster.registry.models import Office
from muster.registry.regions import BY_CODE

# Why a member of staff opened a record. The code goes into the audit entry; the citizen
# later reads the label in their own language.
PURPOSES = {
    "enquiry": _("The person asked about their record"),
    "appearance": _("The person came to the office"),
    "data_check": _("Checking or correcting registry data"),
    "summons": _("Preparing a summons"),
    "deferral": _("Reviewing a deferral or exemption"),
    "operator query": _("Registry operator's query"),
}
# Actors of reads that are not web users: the command line and background processes.
OTHER_ROLES = {"operator": _("Registry operator"), "system": _("Automatic process")}
SEX = {"M": _("Male"), "F": _("Female")}
# The reference population's names and addresses are Russian: mark them for screen readers.
DATA_LANGUAGE = "ru"
TEXT_ATTRIBUTES = {"surname", "given_name", "patronymic", "address"}
ACCESS_LOG_LIMIT = 100


def home(request):
    if not request.user.is_authenticated:
        return render(request, "portal/start.html")
    if request.user.role in STAFF_ROLES:
        return redirect("office:search")
    if request.user.role == Role.CITIZEN:
        return redirect("portal:my_record")
    if request.user.role == Role.AUDITOR:
        return redirect("audit")
    if request.user.role == Role.ADMIN:
        return redirect("office:exchange")
    return render(request, "portal/start.html")


@login_required
def my_record(request):
    if request.user.role != Role.CITIZEN:
        raise Http404
    try:
        person = services.read_person(request.user, request.user.national_id, now=timezone.now(), purpose="own record")
    except services.NotVisible:
        return render(request, "portal/no_record.html", status=404)
    views, more = record_views(person)
    from .summons_views import pending_requests

    return render(
        request,
        "portal/my_record.html",
        {**record_context(person), "views": views, "more_views": more, "pending": pending_requests(person)},
    )


def record_context(person) -> dict:
    """What the person card and the citizen's page both show."""
    return {
        "person": person,
        "office": office_label(person.office),
        "rows": record_rows(person),
        "data_lang": DATA_LANGUAGE,
    }


def record_rows(person) -> list[dict]:
    """services.attribute_rows, made ready to show: readable values and real moments."""
    rows = services.attribute_rows(person)
    for row in rows:
        row["display"] = _display(row["name"], row["value"])
        foreign = row["name"] in TEXT_ATTRIBUTES and get_language() != DATA_LANGUAGE
        row["lang"] = DATA_LANGUAGE if foreign else ""
        for version in [row["current"], *row["history"]]:
            if version:
                version["display"] = _display(row["name"], version["value"])
                version["changed_at"] = _moment(version["changed_at"])
                version["received_at"] = _moment(version["received_at"])
        row["changed"] = any(v["display"] != row["display"] for v in row["history"])
    return rows


def record_views(person) -> tuple[list[dict], bool]:
    """Who has read the person's record, newest first: when, role, office and why; never a name.

    A read-only query of the audit log; reading one's own access log is not itself audited.
    """
    entries = list(
        AuditEntry.objects.filter(person_id=person.pk, action="person.read")
        .order_by("-at", "-id")
        .values("at", "actor_role", "actor_office", "purpose")[: ACCESS_LOG_LIMIT + 1]
    )
    offices = Office.objects.in_bulk({e["actor_office"] for e in entries if e["actor_office"]})
    views = [
        {
            "at": e["at"],
            "role": _role_label(e["actor_role"]),
            "office": office_label(offices.get(e["actor_office"])) or e["actor_office"],
            "purpose": purpose_label(e["purpose"]),
        }
        for e in entries[:ACCESS_LOG_LIMIT]
    ]
    return views, len(entries) > ACCESS_LOG_LIMIT


def purpose_label(code: str):
    return PURPOSES.get(code, code)


def office_label(office: Office | None) -> str:
    if office is None:
        return ""
    return f"{office.code} {office.name_ru if get_language() == 'ru' else office.name}"


def _role_label(code: str):
    return Role(code).label if code in Role.values else OTHER_ROLES.get(code, code)


def _display(name: str, value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if name == "sex":
        return SEX.get(value, value)
    if name == "region" and value in BY_CODE:
        region = BY_CODE[value]
        return f"{value} {region.name_ru if get_language() == 'ru' else region.name_en}"
    return value


def _moment(value):
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value
