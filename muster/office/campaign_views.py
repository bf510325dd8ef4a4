"""Campaigns: a clerk prepares (criteria and a preview), an office head approves, staff issue;
and the data clarification campaigns an office head launches.

The four eyes are the summons service's: the pages show its refusals, never decide alone.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from muster.accounts.models import Role
from muster.feeds import clarification
from muster.portal import summons_views as shown
from muster.registry.models import RegistrationStatus
from muster.registry.scoping import office_q
from muster.summons import services
from muster.summons.models import Campaign

from .summons_views import appointment
from .views import _staff

CAMPAIGN_STATES = {
    "prepared": gettext_lazy("Prepared, waiting for approval"),
    "approved": gettext_lazy("Approved, ready to issue"),
    "issued": gettext_lazy("Issued"),
    "rejected": gettext_lazy("Rejected"),
}
AGE_LIMITS = (16, 70)


def _may_prepare(user) -> bool:
    return user.role in (Role.CLERK, Role.OFFICE_HEAD) and bool(user.office_id)


def _campaigns(user):
    return Campaign.objects.filter(office_q(user))


def _state(code: str) -> str:
    return str(CAMPAIGN_STATES.get(code, code))


@login_required
def campaign_list(request):
    _staff(request)
    campaigns = _campaigns(request.user).order_by("-prepared_at", "-id")[:100]
    rows = [
        {
            "c": c,
            "purpose": shown.label(shown.SUMMONS_PURPOSES, c.purpose),
            "state": _state(c.state),
        }
        for c in campaigns
    ]
    return render(request, "office/campaigns.html", {"rows": rows, "may_prepare": _may_prepare(request.user)})


def _age(text: str, field: str, errors: dict) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not AGE_LIMITS[0] <= int(text) <= AGE_LIMITS[1]:
        errors[field] = _("Age must be a whole number from %(lo)s to %(hi)s") % {
            "lo": AGE_LIMITS[0],
            "hi": AGE_LIMITS[1],
        }
        return None
    return int(text)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_prepare(request):
    _staff(request)
    if not _may_prepare(request.user):
        raise Http404
    statuses = list(RegistrationStatus.choices)
    form = {
        "purpose": "",
        "age_min": "",
        "age_max": "",
        "statuses": [],
        "date": "",
        "time": "10:00",
        "place": request.user.office.name if request.user.office_id else "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in ("purpose", "age_min", "age_max", "date", "time", "place")}
        form["statuses"] = [s for s in request.POST.getlist("statuses") if s in RegistrationStatus.values]
        if form["purpose"] not in shown.SUMMONS_PURPOSES:
            errors["purpose"] = _("Select the purpose of the summonses")
        age_min = _age(form["age_min"], "age_min", errors)
        age_max = _age(form["age_max"], "age_max", errors)
        if age_min is not None and age_max is not None and age_min > age_max:
            errors["age_max"] = _("The highest age must not be lower than the lowest age")
        appear_at, time_errors = appointment(form["date"], form["time"], "appear_date", "appear_time")
        errors |= time_errors
        if not form["place"]:
            errors["place"] = _("Enter where the persons must appear")
        if not errors:
            criteria = {"age_min": age_min, "age_max": age_max, "statuses": form["statuses"]}
            try:
                c = services.prepare_campaign(
                    request.user,
                    purpose=form["purpose"],
                    criteria=criteria,
                    appear_at=appear_at,
                    place=form["place"],
                    now=timezone.now(),
                )
            except services.Refused as exc:
                field = "appear_date" if exc.code.startswith("appear_at") else "purpose"
                errors[field] = shown.refusal_message(exc)
            else:
                messages.success(
                    request,
                    _("Campaign prepared. An office head who did not prepare it approves it before it is issued."),
                )
                return redirect("office:campaign", campaign_id=c.id)
    return render(
        request,
        "office/campaign_prepare.html",
        {
            "form": form,
            "errors": list(errors.items()),
            "field_errors": errors,
            "statuses": statuses,
            "purposes": list(shown.SUMMONS_PURPOSES.items()),
        },
    )


def _detail(request, c: Campaign, error: str = "", field: str = ""):
    preview = c.preview or {}
    excluded = [{"reason": shown.exclusion_label(r), "count": n} for r, n in (preview.get("excluded") or {}).items()]
    crit = c.criteria or {}
    user = request.user
    statuses = dict(RegistrationStatus.choices)
    return render(
        request,
        "office/campaign.html",
        {
            "c": c,
            "purpose": shown.label(shown.SUMMONS_PURPOSES, c.purpose),
            "state": _state(c.state),
            "preview": preview,
            "excluded": excluded,
            "statuses": [statuses.get(s, s) for s in crit.get("statuses") or []],
            "age_min": crit.get("age_min"),
            "age_max": crit.get("age_max"),
            "may_approve": c.state == Campaign.State.PREPARED and user.role == Role.OFFICE_HEAD,
            "may_issue": c.state == Campaign.State.APPROVED and _may_prepare(user),
            "errors": [(field, error)] if error else [],
        },
        status=200,
    )


def _campaign(request, campaign_id: int) -> Campaign:
    _staff(request)
    c = _campaigns(request.user).filter(id=campaign_id).first()
    if c is None:
        raise Http404
    return c


@login_required
def campaign_detail(request, campaign_id: int):
    return _detail(request, _campaign(request, campaign_id))


@login_required
@require_POST
def campaign_approve(request, campaign_id: int):
    c = _campaign(request, campaign_id)
    try:
        services.approve_campaign(request.user, c.id, now=timezone.now())
    except services.Refused as exc:
        return _detail(request, c, shown.refusal_message(exc, _state(c.state)), "approve")
    messages.success(request, _("Campaign approved. It can be issued now."))
    return redirect("office:campaign", campaign_id=c.id)


@login_required
@require_POST
def campaign_issue(request, campaign_id: int):
    c = _campaign(request, campaign_id)
    try:
        c = services.issue_campaign(request.user, c.id, now=timezone.now())
    except services.Refused as exc:
        return _detail(request, c, shown.refusal_message(exc, _state(c.state)), "issue")
    messages.success(
        request,
        ngettext(
            "Campaign issued: %(n)s summons placed in the registry.",
            "Campaign issued: %(n)s summonses placed in the registry.",
            c.issued,
        )
        % {"n": c.issued},
    )
    return redirect("office:campaign", campaign_id=c.id)


CLARIFICATION_REFUSALS = {
    "criteria.empty": ("missing_phone", gettext_lazy("Choose at least one reason to ask")),
    "criteria.months": ("months", gettext_lazy("The age of an address is at least 1 month")),
    "role.office_head": (
        "missing_phone",
        gettext_lazy("Only the head of an office asks persons to check their data"),
    ),
}


@login_required
@require_http_methods(["GET", "POST"])
def clarification_launch(request):
    """An office head asks the office's persons whose data is missing, stale or in conflict."""
    _staff(request)
    if request.user.role != Role.OFFICE_HEAD:
        raise Http404
    form = {"missing_phone": False, "conflicts": False, "months": ""}
    preview, errors = None, {}
    if request.method == "POST":
        form = {
            "missing_phone": bool(request.POST.get("missing_phone")),
            "conflicts": bool(request.POST.get("conflicts")),
            "months": request.POST.get("months", "").strip(),
        }
        if form["months"] and not form["months"].isdigit():
            errors["months"] = _("Enter the number of months as a whole number, for example 24")
        else:
            criteria = {
                "missing_phone": form["missing_phone"],
                "conflicts": form["conflicts"],
                "address_older_than_months": form["months"] or None,
            }
            try:
                if request.POST.get("action") == "launch":
                    campaign = clarification.launch(request.user, criteria, now=timezone.now())
                    messages.success(
                        request,
                        ngettext(
                            "%(n)s person was asked to check their data in their account.",
                            "%(n)s persons were asked to check their data in their account.",
                            campaign.selected,
                        )
                        % {"n": campaign.selected},
                    )
                    return redirect("office:campaigns")
                preview = clarification.preview(request.user, criteria, now=timezone.now())
            except clarification.CampaignRefused as exc:
                field, text = CLARIFICATION_REFUSALS.get(exc.code, ("missing_phone", str(exc)))
                errors[field] = str(text)
    reasons = {
        "missing_phone": _("No phone number"),
        "stale_address": _("Address not changed for long"),
        "conflict": _("Agencies hold different addresses"),
    }
    return render(
        request,
        "office/clarification.html",
        {
            "form": form,
            "preview": preview,
            "errors": list(errors.items()),
            "field_errors": errors,
            "by_reason": [(reasons.get(k, k), n) for k, n in (preview or {}).get("by_reason", {}).items()],
        },
    )
