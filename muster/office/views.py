"""Back-office pages: find a person of one's office, and their card with provenance."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.accounts.models import STAFF_ROLES
from muster.portal.views import DATA_LANGUAGE, PURPOSES, purpose_label, record_context
from muster.registry import identifiers, services

SEARCH_FIELDS = ("national_id", "surname", "given_name", "birth_date", "purpose")
# The reasons a clerk picks from; the operator's reason is for the command line only.
STAFF_PURPOSES = [(code, label) for code, label in PURPOSES.items() if code != "operator query"]


def _staff(request):
    if request.user.role not in STAFF_ROLES:
        raise Http404


def _birth_date(text: str, today: dt.date) -> tuple[dt.date | None, str]:
    """A date of birth as YYYY-MM-DD or DD.MM.YYYY, or the reason it is not one."""
    if not text:
        return None, _("Enter a date of birth")
    try:
        if "." in text:
            day, month, year = text.split(".")
            date = dt.date(int(year), int(month), int(day))
        else:
            date = dt.date.fromisoformat(text)
    except ValueError:
        return None, _("Date of birth must be a real date, for example 2004-03-27")
    if date > today:
        return None, _("Date of birth must be in the past")
    return date, ""


def _national_id_error(nid: str) -> str:
    if len(nid) != 11 or not nid.isdigit():
        return _("Insurance number must be 11 digits, for example 112-233-445 95")
    if not identifiers.snils_valid(nid):
        return _("Check the insurance number: its last 2 digits do not match the first 9")
    return ""


@login_required
def search(request):
    _staff(request)
    now = timezone.now()
    q = {k: request.GET.get(k, "").strip() for k in SEARCH_FIELDS}
    errors, results, birth = {}, [], None
    # The form always sends every field; a bare link (no purpose key) only searches.
    searched = any(q[k] for k in SEARCH_FIELDS if k != "purpose") or "national_id" in request.GET
    if searched:
        nid = q["national_id"].replace("-", "").replace(" ", "")
        if nid:
            if error := _national_id_error(nid):
                errors["national_id"] = error
        elif not (q["surname"] or q["birth_date"]):
            errors["national_id"] = _("Enter an insurance number, or a surname and date of birth")
        else:
            if not q["surname"]:
                errors["surname"] = _("Enter a surname, or search by insurance number")
            birth, error = _birth_date(q["birth_date"], timezone.localdate(now))
            if error:
                errors["birth_date"] = error
        if "purpose" in request.GET and q["purpose"] not in PURPOSES:
            errors["purpose"] = _("Select why you are looking for this person")
        if not errors:
            results = services.search(request.user, now=now, national_id=nid, surname=q["surname"],
                                      given_name=q["given_name"], birth_date=birth)
    return render(request, "office/search.html", {
        "q": q, "errors": list(errors.items()), "field_errors": errors, "results": results,
        "searched": searched, "purposes": STAFF_PURPOSES, "data_lang": DATA_LANGUAGE,
    })


@login_required
def person_card(request, national_id):
    _staff(request)
    purpose = request.GET.get("purpose", "")[:200]
    person = services.read_person(request.user, national_id, now=timezone.now(), purpose=purpose)
    return render(request, "office/person.html",
                  {**record_context(person), "purpose": purpose_label(purpose)})
