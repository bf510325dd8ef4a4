"""The person card's forms: issue a summons; record delivery, appearance, a valid reason; cancel.

Each form posts here, calls the summons service and goes back to the card with a message;
a refusal shows the card again with the reason in an error summary.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.audit.services import Actor
from muster.portal import summons_views as shown
from muster.registry import services as registry
from muster.registry.scoping import visible_persons
from muster.summons import services
from muster.summons.models import Summons

from .views import _staff, may_act, render_card

ACTIONS = ("appear", "deliver", "excuse", "cancel")
# Where the error summary points for each refusal of an issue.
ISSUE_FIELD = {"appear_at.past": "issue-date", "appear_at.too_late": "issue-date"}


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD or DD.MM.YYYY, or None."""
    try:
        if "." in text:
            d, m, y = text.split(".")
            return dt.date(int(y), int(m), int(d))
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_time(text: str) -> dt.time | None:
    try:
        hours, minutes = text.replace(".", ":").split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        return None


def appointment(date_text: str, time_text: str, date_id: str, time_id: str) -> tuple[dt.datetime | None, dict]:
    """The appearance moment from a date field and a time field, or the errors by field id."""
    errors = {}
    day = parse_date(date_text) if date_text else None
    if not date_text:
        errors[date_id] = _("Enter the date of the appearance")
    elif day is None:
        errors[date_id] = _("The date of the appearance must be a real date, for example 2026-12-24")
    at = parse_time(time_text) if time_text else None
    if not time_text:
        errors[time_id] = _("Enter the time of the appearance")
    elif at is None:
        errors[time_id] = _("The time of the appearance must be a real time, for example 10:00")
    if errors:
        return None, errors
    return timezone.make_aware(dt.datetime.combine(day, at)), {}


def _actor(request):
    _staff(request)
    if not may_act(request.user):
        raise PermissionDenied
    return Actor.of(request.user)


def _card_url(national_id: str, purpose: str) -> str:
    url = reverse("office:person", args=[national_id])
    return f"{url}?{urlencode({'purpose': purpose})}" if purpose else url


def _person(request, national_id: str):
    """The person if the user's scope includes them; the action's own audit entry records it."""
    person = visible_persons(request.user).select_related("office").filter(national_id=national_id).first()
    if person is None:
        raise Http404
    return person


def _refused(request, person, purpose, **kw):
    # Showing the card again is a read of the person: audited like any other.
    person = registry.read_person(request.user, person.national_id, now=timezone.now(), purpose=purpose)
    return render_card(request, person, purpose, **kw)


@login_required
@require_POST
def issue(request, national_id: str):
    actor = _actor(request)
    person = _person(request, national_id)
    purpose = request.POST.get("purpose_code", "")[:200]
    form = {k: request.POST.get(k, "").strip() for k in ("purpose", "date", "time", "place")}
    errors = {}
    if form["purpose"] not in shown.SUMMONS_PURPOSES:
        errors["issue-purpose"] = _("Select the purpose of the summons")
    appear_at, time_errors = appointment(form["date"], form["time"], "issue-date", "issue-time")
    errors |= time_errors
    if not errors:
        try:
            s = services.issue(
                actor,
                national_id,
                form["purpose"],
                appear_at,
                now=timezone.now(),
                place=form["place"] or None,
            )
        except services.Refused as exc:
            errors[ISSUE_FIELD.get(exc.code, "issue-purpose")] = shown.refusal_message(exc)
        else:
            messages.success(
                request,
                _("Summons %(number)s issued: %(purpose)s.")
                % {"number": s.number, "purpose": shown.label(shown.SUMMONS_PURPOSES, s.purpose)},
            )
            return redirect(_card_url(national_id, purpose))
    return _refused(request, person, purpose, errors=list(errors.items()), issue=form, issue_errors=errors)


@login_required
@require_POST
def act(request, number: str, action: str):
    if action not in ACTIONS:
        raise Http404
    actor = _actor(request)
    s = Summons.objects.select_related("person").filter(number=number).first()
    if s is None:
        raise Http404
    person = _person(request, s.person.national_id)
    purpose = request.POST.get("purpose_code", "")[:200]
    now = timezone.now()
    field, error = f"{action}-{number}", ""
    try:
        if action == "appear":
            services.appear(actor, number, at=now, now=now)
            done = _("Appearance recorded for summons %(number)s. Its restrictions are lifted.")
        elif action == "deliver":
            field = f"deliver-{number}-in_person"
            channel = request.POST.get("channel", "")
            if channel not in ("in_person", "post"):
                error = _("Select how the summons was handed over")
            else:
                services.deliver(actor, number, channel, at=now, now=now)
                done = _("Delivery recorded for summons %(number)s.")
        elif action == "excuse":
            reason = request.POST.get("reason", "")
            if reason not in shown.VALID_REASONS:
                error = _("Select the valid reason")
            else:
                services.excuse(actor, number, reason, now=now)
                done = _("Valid reason recorded for summons %(number)s. Its restrictions are lifted.")
        else:
            reason = request.POST.get("reason", "").strip()
            if not reason:
                error = _("Enter why the summons is cancelled")
            else:
                services.cancel(actor, number, reason, now=now)
                done = _("Summons %(number)s cancelled. Its restrictions are lifted.")
    except services.Refused as exc:
        error = shown.refusal_message(exc, shown.label(shown.SUMMONS_STATES, s.state))
    if error:
        return _refused(
            request,
            person,
            purpose,
            errors=[(field, error)],
            action_errors={number: {action: error}},
        )
    messages.success(request, done % {"number": number})
    return redirect(_card_url(person.national_id, purpose))
