from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from muster.accounts.models import STAFF_ROLES, Role
from muster.registry import services


def home(request):
    if not request.user.is_authenticated:
        return render(request, "portal/start.html")
    if request.user.role in STAFF_ROLES:
        return redirect("office:search")
    if request.user.role == Role.CITIZEN:
        return redirect("portal:my_record")
    return render(request, "portal/start.html")


@login_required
def my_record(request):
    if request.user.role != Role.CITIZEN:
        raise Http404
    person = services.read_person(request.user, request.user.national_id, now=timezone.now(),
                                  purpose="own record")
    return render(request, "portal/my_record.html",
                  {"person": person, "rows": services.attribute_rows(person)})
