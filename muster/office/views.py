"""Back-office pages: find a person of one's office, and their card: provenance, rights,
source conflicts, summonses and measures, with the forms that act on them."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from muster.accounts.models import STAFF_ROLES, Role
from muster.portal import summons_views as shown
from muster.portal.views import DATA_LANGUAGE, PURPOSES, purpose_label, record_context
from muster.registry import identifiers, precedence, services
from muster.registry.services import LABELS

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
            results = services.search(
                request.user,
                now=now,
                national_id=nid,
                surname=q["surname"],
                given_name=q["given_name"],
                birth_date=birth,
            )
    return render(
        request,
        "office/search.html",
        {
            "q": q,
            "errors": list(errors.items()),
            "field_errors": errors,
            "results": results,
            "searched": searched,
            "purposes": STAFF_PURPOSES,
            "data_lang": DATA_LANGUAGE,
        },
    )


@login_required
def person_card(request, national_id):
    _staff(request)
    purpose = request.GET.get("purpose", "")[:200]
    person = services.read_person(request.user, national_id, now=timezone.now(), purpose=purpose)
    return render_card(request, person, purpose)


def _office_name(office) -> str:
    if office is None:
        return ""
    return office.name_ru if get_language() == "ru" else office.name


def may_act(user) -> bool:
    """Summonses are issued and recorded by the staff of the person's own office."""
    return user.role in (Role.CLERK, Role.OFFICE_HEAD)


def render_card(
    request, person, purpose: str, *, errors=(), issue=None, issue_errors=None, action_errors=None, status: int = 200
):
    """The person card; after a refused action, with the error summary and the form as sent."""
    now = timezone.now()
    rows = shown.summons_rows(person)
    for row in rows:
        row["errors"] = (action_errors or {}).get(row["s"].number, {})
    conflicts = [
        {"name": name, "label": LABELS.get(name, name), "values": values}
        for name, values in precedence.conflicts(person).items()
    ]
    record = record_context(person)
    disputed = {c["name"] for c in conflicts}
    for row in record["rows"]:
        row["conflict"] = row["name"] in disputed
    default = timezone.localtime(now) + dt.timedelta(days=7)
    return render(
        request,
        "office/person.html",
        {
            **record,
            "purpose": purpose_label(purpose),
            "purpose_code": purpose,
            "decision": shown.decision_view(person, timezone.localdate(now)),
            "conflicts": conflicts,
            "summonses": rows,
            "measures": shown.measure_rows(person),
            "may_act": may_act(request.user),
            "issue": issue
            or {
                "purpose": "",
                "date": default.date().isoformat(),
                "time": "10:00",
                "place": _office_name(person.office),
            },
            "issue_errors": {k.removeprefix("issue-"): v for k, v in (issue_errors or {}).items()},
            "errors": list(errors),
            "summons_purposes": list(shown.SUMMONS_PURPOSES.items()),
            "valid_reasons": list(shown.VALID_REASONS.items()),
        },
        status=status,
    )
