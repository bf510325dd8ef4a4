import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.accounts.models import STAFF_ROLES
from muster.registry import identifiers, services


def _staff(request):
    if request.user.role not in STAFF_ROLES:
        raise Http404


@login_required
def search(request):
    _staff(request)
    errors, results, searched = [], [], False
    q = {k: request.GET.get(k, "").strip() for k in ("national_id", "surname", "given_name", "birth_date")}
    if any(q.values()):
        searched = True
        birth = None
        nid = q["national_id"].replace("-", "").replace(" ", "")
        if nid and not identifiers.snils_valid(nid):
            errors.append(("national_id", _("Enter a valid 11-digit insurance number (SNILS)")))
        if not nid:
            if not q["surname"]:
                errors.append(("surname", _("Enter a surname, or search by insurance number")))
            try:
                birth = dt.date.fromisoformat(q["birth_date"])
            except ValueError:
                errors.append(("birth_date", _("Enter a date of birth as YYYY-MM-DD")))
        if not errors:
            results = services.search(request.user, now=timezone.now(), national_id=nid,
                                      surname=q["surname"], given_name=q["given_name"], birth_date=birth)
    return render(request, "office/search.html",
                  {"q": q, "errors": errors, "results": results, "searched": searched})


@login_required
def person_card(request, national_id):
    _staff(request)
    person = services.read_person(request.user, national_id, now=timezone.now(),
                                  purpose=request.GET.get("purpose", "")[:200])
    return render(request, "office/person.html", {"person": person, "rows": services.attribute_rows(person)})
