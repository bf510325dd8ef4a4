"""Rights decisions, summonses and measures as a person reads them; the citizen's pages for them.

The helpers that turn a decision, a summons or a refusal into plain language serve the
office's person card too, so a clerk and the citizen read the same words.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_http_methods

from muster.accounts.models import Role
from muster.audit.models import AuditEntry
from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.feeds import clarification
from muster.measures.models import Measure, Notification
from muster.registry import services as registry
from muster.registry.models import Fact
from muster.rules import engine
from muster.rules import services as rules
from muster.summons import services as summonses
from muster.summons.models import Summons

SUMMONS_PURPOSES = {
    "registration": gettext_lazy("Military registration"),
    "medical": gettext_lazy("Medical examination"),
    "clarification": gettext_lazy("Checking registry data"),
    "call_up": gettext_lazy("Call-up for military service"),
}
SUMMONS_STATES = {
    "issued": gettext_lazy("Issued"),
    "delivered": gettext_lazy("Delivered"),
    "appeared": gettext_lazy("Appeared"),
    "cancelled": gettext_lazy("Cancelled"),
    "failed_to_appear": gettext_lazy("Did not appear"),
}
CHANNELS = {
    "portal": gettext_lazy("posted to the personal account"),
    "in_person": gettext_lazy("handed over in person"),
    "post": gettext_lazy("by post against signature"),
    "deemed": gettext_lazy("deemed delivered"),
}
MEASURES = {
    "exit": gettext_lazy("Ban on leaving the country"),
    "entrepreneur": gettext_lazy("No registration as an entrepreneur or self-employed"),
    "real_estate": gettext_lazy("No registration of real estate"),
    "driving": gettext_lazy("Driving licence suspended"),
    "vehicle": gettext_lazy("No registration of vehicles"),
    "loans": gettext_lazy("No new loans or credit"),
}
MEASURE_STATES = {"active": gettext_lazy("In force"), "lifted": gettext_lazy("Lifted")}
LIFT_REASONS = {
    "appeared": gettext_lazy("the person appeared"),
    "cancelled": gettext_lazy("the summons was cancelled"),
    "valid_reason": gettext_lazy("a valid reason was accepted"),
}
VALID_REASONS = {
    "illness": gettext_lazy("Illness or injury"),
    "relative_death": gettext_lazy("Death of a close relative"),
    "relative_illness": gettext_lazy("Serious illness of a close relative"),
    "force_majeure": gettext_lazy("Circumstances beyond the person's control"),
}
# The labels must name exactly the reasons the summons service accepts.
assert set(VALID_REASONS) == set(summonses.VALID_REASONS)
STATUSES = {
    "liable": gettext_lazy("Liable for call-up"),
    "deferred": gettext_lazy("Deferred"),
    "exempt": gettext_lazy("Exempt from call-up"),
    "not_liable": gettext_lazy("Not liable for call-up"),
    "not_called_up": gettext_lazy("Not called up"),
}
KINDS = {
    "not_liable": gettext_lazy("Not liable"),
    "exempt": gettext_lazy("Exemption"),
    "not_called_up": gettext_lazy("Not called up"),
    "deferral": gettext_lazy("Deferral"),
}
# The facts the reference grounds read, named as a person would.
FACTS = {
    "sex": gettext_lazy("Sex"),
    "citizenship": gettext_lazy("Citizenship"),
    "birth_date": gettext_lazy("Date of birth"),
    "death_date": gettext_lazy("Date of death"),
    "fitness_category": gettext_lazy("Fitness category"),
    "fitness_valid_until": gettext_lazy("Fitness category valid until"),
    "conviction": gettext_lazy("Conviction"),
    "conviction_until": gettext_lazy("Conviction expunged on"),
    "criminal_case": gettext_lazy("Criminal case"),
    "study_end": gettext_lazy("End of full-time study"),
    "deputy_term_end": gettext_lazy("End of the deputy's term"),
    "candidate_election_date": gettext_lazy("Election day (candidate)"),
    "it_employed_since": gettext_lazy("In accredited IT employment since"),
    "children": gettext_lazy("Children"),
    "disabled_child_birth": gettext_lazy("Disabled child born on"),
    "carer_until": gettext_lazy("Care of a relative until"),
    "sibling_guardian_until": gettext_lazy("Guardian of a brother or sister until"),
    "wife_pregnancy_weeks": gettext_lazy("Wife's pregnancy, weeks"),
    "wife_pregnancy_due": gettext_lazy("Expected birth"),
    "motherless_child_birth": gettext_lazy("Child raised without the mother, born on"),
}
# The reference rule pack's summaries and citations, so that makemessages finds them; they
# are translated when shown. A text the pack changes shows in English until translated.
RULE_PACK_TEXTS = (
    gettext_noop("The person has died."),
    gettext_noop("Only men are called up for military service."),
    gettext_noop("Only citizens are called up for military service."),
    gettext_noop("Men are called up from their 18th birthday."),
    gettext_noop(
        "Men are called up until the day before their 30th birthday (27th before 2024; who "
        "turned 27 by 2023-12-31 stays in the reserve)."
    ),
    gettext_noop("Found unfit for military service (category D)."),
    gettext_noop("Found of limited fitness for military service (category V)."),
    gettext_noop("An unexpunged conviction."),
    gettext_noop("A criminal case is being investigated or is before a court."),
    gettext_noop("Temporarily unfit (category G), for at most one year."),
    gettext_noop("Full-time study in an accredited programme, for its standard period."),
    gettext_noop("Constant care of a close relative, with no one else obliged by law."),
    gettext_noop("Guardian of a minor brother or sister, with no one else obliged by law."),
    gettext_noop("Two or more children."),
    gettext_noop("Raising a child without the mother."),
    gettext_noop("A disabled child under three."),
    gettext_noop("A child, and a wife at least 22 weeks pregnant."),
    gettext_noop("An elected deputy, for the term of office."),
    gettext_noop("A registered candidate, until the election result is published."),
    gettext_noop("An employee of an accredited IT company with a degree in a listed specialty."),
    gettext_noop("53-FZ Art. 22 part 1"),
    gettext_noop("53-FZ Art. 22 part 1 item a"),
    gettext_noop("53-FZ Art. 22 part 1; Art. 1"),
    gettext_noop("53-FZ Art. 22 part 1 item a (664-FZ of 04.08.2023)"),
    gettext_noop("53-FZ Art. 23 part 1 item a"),
    gettext_noop("53-FZ Art. 23 part 3 item b"),
    gettext_noop("53-FZ Art. 23 part 3 item v"),
    gettext_noop("53-FZ Art. 24 part 1 item a"),
    gettext_noop("53-FZ Art. 24 part 2 item a"),
    gettext_noop("53-FZ Art. 24 part 1 item b"),
    gettext_noop("53-FZ Art. 24 part 1 item v"),
    gettext_noop("53-FZ Art. 24 part 1 item d"),
    gettext_noop("53-FZ Art. 24 part 1 item g"),
    gettext_noop("53-FZ Art. 24 part 1 item e"),
    gettext_noop("53-FZ Art. 24 part 1 item zh"),
    gettext_noop("53-FZ Art. 24 part 3"),
    gettext_noop("53-FZ Art. 24 part 1 item z"),
    gettext_noop("Presidential Decree 83 of 02.03.2022 item 2; Government Resolution 490"),
)
CLARIFICATION_REASONS = {
    "missing_phone": gettext_lazy("We have no phone number for you."),
    "stale_address": gettext_lazy("Your registered address has not changed for a long time."),
    "conflict": gettext_lazy("Two agencies hold different addresses for you."),
}
CONTEST_ACTION = "decision.contest"
CONTEST_LIMIT = 2000


def label(mapping: dict, code: str | None):
    return mapping.get(code, code) if code else ""


# -- decisions -------------------------------------------------------------------


def _ground_texts(code: str | None) -> tuple[str, str]:
    """A ground's summary and citation, translated, from the rule pack in force."""
    ground = next((g for g in engine.current_pack().grounds if g.code == code), None)
    return (_(ground.summary), _(ground.citation)) if ground else (code or "", "")


def _fact_value(name: str, value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name == "sex":
        from .views import SEX

        return SEX.get(value, value)
    return value


def decision_view(person, today: dt.date) -> dict:
    """The person's rights today with every ground considered, ready to show."""
    result = rules.explain(person, today)
    fact_ids = {i for g in result["explanation"] for i in g["sources"].values() if i}
    facts = {f["id"]: f for f in Fact.objects.filter(id__in=fact_ids).values("id", "source", "record_id", "changed_at")}
    grounds = []
    for g in result["explanation"]:
        # Several facts of one ground often come from one agency record: name it once.
        sources = [facts[i] for i in dict.fromkeys(g["sources"].values()) if i in facts]
        grounds.append(
            {
                "code": g["ground"],
                "kind": label(KINDS, g["kind"]),
                "fired": g["fired"],
                "until": _date(g["until"]),
                "summary": _(g["summary"]),
                "citation": _(g["citation"]),
                "facts": [{"name": FACTS.get(n, n), "value": _fact_value(n, v)} for n, v in g["facts"].items()],
                "sources": sources,
                "parameters": [{"name": n, **v} for n, v in g["parameters"].items()],
            }
        )
    applied = next((g for g in grounds if g["code"] == result["ground"]), None)
    return {
        "status": result["status"],
        "status_label": label(STATUSES, result["status"]),
        "ground": applied,
        "until": _date(result["until"]),
        "as_of": today,
        "grounds": grounds,
        "pack": engine.current_pack().version,
    }


def _date(value):
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


# -- refusals --------------------------------------------------------------------


def refusal_text(code: str, ground: str | None = None, detail: str = "") -> str:
    """Why a summons service refused, in plain language (and the ground, with its citation)."""
    summary, citation = _ground_texts(ground)
    because = f" {summary} {_('Law')}: {citation}." if ground else ""
    texts = {
        "not_liable": _("This person is not liable for call-up.") + because,
        "exempt": _("This person is exempt from call-up.") + because,
        "not_called_up": _("This person is not called up.") + because,
        "deferred": _("This person has a valid deferral.") + because,
        "decision.missing": _("There is no decision on this person's rights yet."),
        "summons.open": _(
            "This person already has an open summons for this purpose. "
            "Record the appearance or cancel that summons first."
        ),
        "appear_at.past": _("The appearance must be later than now"),
        "appear_at.too_late": _("The appearance must be at most %(days)s days from today") % {"days": _max_days()},
        "purpose.unknown": _("Select the purpose of the summons"),
        "person.not_found": _("The registry has no such person"),
        "summons.not_found": _("The registry has no such summons"),
        "summons.state": _("This summons can no longer be changed this way: it is %(state)s") % {"state": detail},
        "at.invalid": _("The time must be between the summons being placed and now"),
        "channel.unknown": _("Select how the summons was handed over"),
        "reason.missing": _("Enter why the summons is cancelled"),
        "reason.unknown": _("Select a valid reason"),
        "role": _("Only a clerk or the head of the campaign's office may do this"),
        "four_eyes.role": _("Only the head of the campaign's office approves it"),
        "four_eyes.same_person": _(
            "You prepared this campaign, so you may not approve it. Another office head approves it."
        ),
        "campaign.state": _("The campaign is %(state)s, so this step is not possible") % {"state": detail},
    }
    return texts.get(code, code)


def refusal_message(exc: summonses.Refused, state: str = "") -> str:
    return refusal_text(exc.code, exc.ground, state)


def _max_days() -> int:
    from muster.rules import parameters

    return parameters.get("summons.max_appearance_days", timezone.localdate()).value


def exclusion_label(reason: str) -> str:
    """A campaign preview's reason for leaving persons out ("deferred:study"), in plain words."""
    code, _sep, ground = reason.partition(":")
    if code == "summons.open":
        return _("Already have an open summons for this purpose")
    if code == "decision.missing":
        return _("No decision on their rights yet")
    status = "deferred" if code == "deferred" else code
    if ground and status in STATUSES:
        summary, citation = _ground_texts(ground)
        return f"{label(STATUSES, status)}: {summary} {_('Law')}: {citation}."
    return refusal_text(code, ground or None)


# -- summonses and measures --------------------------------------------------------


def measure_row(m: Measure) -> dict:
    return {
        "m": m,
        "kind": label(MEASURES, m.kind),
        "state": label(MEASURE_STATES, m.state),
        "lift_reason": label(LIFT_REASONS, m.lift_reason),
        "basis": m.summons.number,
    }


def summons_rows(person) -> list[dict]:
    """The person's summonses, newest first, each with its measures and what may be done next."""
    rows = []
    measures: dict[int, list] = {}
    for m in Measure.objects.filter(person=person).select_related("summons").order_by("start", "id"):
        measures.setdefault(m.summons_id, []).append(measure_row(m))
    for s in Summons.objects.filter(person=person).order_by("-placed_at", "-id"):
        is_open = s.state in summonses.OPEN
        rows.append(
            {
                "s": s,
                "purpose": label(SUMMONS_PURPOSES, s.purpose),
                "state": label(SUMMONS_STATES, s.state),
                "channel": label(CHANNELS, s.delivery_channel),
                "excuse": label(VALID_REASONS, s.excuse),
                "measures": measures.get(s.id, []),
                "open": is_open,
                "may_deliver": s.state == Summons.State.ISSUED,
                "may_excuse": is_open and not s.excused_at,
                "errors": {},
            }
        )
    return rows


def measure_rows(person) -> list[dict]:
    return [
        measure_row(m)
        for m in Measure.objects.filter(person=person).select_related("summons").order_by("-start", "-id")
    ]


def notification_rows(person, limit: int = 50) -> list[dict]:
    rows = []
    for n in Notification.objects.filter(person=person).order_by("-at", "-id")[:limit]:
        d = n.data if isinstance(n.data, dict) else {}
        values = {
            "summons": d.get("summons", ""),
            "measure": label(MEASURES, d.get("measure")),
            "purpose": label(SUMMONS_PURPOSES, d.get("purpose")),
            "start": d.get("start") or "",
            "end": d.get("end") or "",
            "reason": label(LIFT_REASONS, d.get("reason")),
        }
        if n.kind == "summons.placed":
            text = _("Summons %(summons)s was placed in the registry: %(purpose)s.") % values
        elif n.kind == "measure.started":
            text = _("%(measure)s, from %(start)s, because of summons %(summons)s.") % values
        elif n.kind == "measure.lifted":
            text = _("%(measure)s lifted on %(end)s: %(reason)s (summons %(summons)s).") % values
        else:
            text = n.kind
        rows.append({"at": n.at, "text": text})
    return rows


# -- the citizen's pages -------------------------------------------------------------


def _own(request, purpose: str = "own record"):
    """The signed-in citizen's person, or None when the registry holds no record for them."""
    if request.user.role != Role.CITIZEN:
        raise Http404
    try:
        return registry.read_person(request.user, request.user.national_id, now=timezone.now(), purpose=purpose)
    except registry.NotVisible:
        return None


def _no_record(request):
    return render(request, "portal/no_record.html", status=404)


@login_required
def my_decision(request):
    person = _own(request)
    if person is None:
        return _no_record(request)
    contests = (
        AuditEntry.objects.filter(person_id=person.pk, action=CONTEST_ACTION)
        .order_by("-at", "-id")
        .values("at", "detail")[:20]
    )
    return render(
        request,
        "portal/decision.html",
        {
            "person": person,
            "decision": decision_view(person, timezone.localdate()),
            "contests": contests,
        },
    )


def contest_decision(user, person, text: str, decision: dict, *, now: dt.datetime) -> AuditEntry:
    """The citizen's objection to their decision, kept in the audit trail for the office."""
    return audit(
        Actor.of(user),
        CONTEST_ACTION,
        at=now,
        object_type="decision",
        object_id=person.national_id,
        person_id=person.pk,
        detail={
            "status": decision["status"],
            "ground": decision["ground"]["code"] if decision["ground"] else None,
            "as_of": decision["as_of"].isoformat(),
            "text": text,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contest(request):
    person = _own(request)
    if person is None:
        return _no_record(request)
    decision = decision_view(person, timezone.localdate())
    text, error = "", ""
    if request.method == "POST":
        text = request.POST.get("text", "").strip()
        if not text:
            error = _("Enter what is wrong with the decision")
        elif len(text) > CONTEST_LIMIT:
            error = _("What is wrong must be %(n)s characters or fewer") % {"n": CONTEST_LIMIT}
        else:
            contest_decision(request.user, person, text, decision, now=timezone.now())
            messages.success(
                request,
                _(
                    "Your objection was sent to the recruitment office. "
                    "It will review the decision and answer in your account."
                ),
            )
            return redirect("portal:decision")
    return render(
        request,
        "portal/contest.html",
        {
            "decision": decision,
            "text": text,
            "error": error,
            "limit": CONTEST_LIMIT,
            "errors": [("text", error)] if error else [],
        },
    )


@login_required
def my_summonses(request):
    person = _own(request)
    if person is None:
        return _no_record(request)
    rows = summons_rows(person)
    in_force = [m for m in measure_rows(person) if m["m"].state == "active"]
    return render(
        request,
        "portal/summonses.html",
        {
            "person": person,
            "rows": rows,
            "in_force": in_force,
            "notifications": notification_rows(person),
        },
    )


def summons_pdf_document(s: Summons, *, now: dt.datetime):
    """The summons' signed PDF, made now if it has none yet (summonses of a campaign)."""
    from muster.documents import services as documents
    from muster.documents.models import Document

    with transaction.atomic():
        s = Summons.objects.select_for_update(of=("self",)).select_related("person", "office").get(id=s.id)
        if s.document_id is None:
            doc = documents.summons_document(
                summonses.summons_dict(s),
                now=now,
                created_by="system:portal",
                owner=s.person,
                office=s.office,
            )
            Summons.objects.filter(id=s.id).update(document_id=doc.id)
            return doc
    return Document.objects.get(id=s.document_id)


@login_required
def summons_pdf(request, number: str):
    if request.user.role != Role.CITIZEN or not request.user.national_id:
        raise Http404
    s = Summons.objects.filter(number=number, person__national_id=request.user.national_id).first()
    if s is None:
        raise Http404
    from muster.documents.services import open_document

    content = open_document(summons_pdf_document(s, now=timezone.now()))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="summons-{s.number}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def clarification_request(request, request_id: int):
    person = _own(request)
    if person is None:
        return _no_record(request)
    req = clarification.pending_for(person).filter(id=request_id).first()
    if req is None:
        raise Http404
    values = {k: request.POST.get(k, "").strip() for k in ("phone", "email", "address")}
    # People write phone numbers with spaces, dashes and brackets; the registry keeps digits.
    values["phone"] = "".join(c for c in values["phone"] if c.isdigit() or c == "+")
    errors = []
    if request.method == "POST":
        answer = request.POST.get("answer", "")
        if answer == "correct" and not any(values.values()):
            errors.append(("phone", _("Enter the phone, email or address that is correct")))
        elif answer not in ("confirm", "correct"):
            errors.append(("answer-confirm", _("Choose whether your data is correct")))
        else:
            try:
                clarification.respond(
                    request.user,
                    req.id,
                    now=timezone.now(),
                    **(values if answer == "correct" else {}),
                )
            except clarification.CampaignRefused as exc:
                errors.append(_clarification_error(exc.code))
            else:
                messages.success(
                    request,
                    _("Thank you. Your answer was recorded.")
                    if answer == "confirm"
                    else _("Thank you. Your corrections were recorded."),
                )
                return redirect("portal:my_record")
    return render(
        request,
        "portal/clarification.html",
        {
            "person": person,
            "req": req,
            "values": values,
            "errors": errors,
            "field_errors": dict(errors),
            "reasons": [label(CLARIFICATION_REASONS, r) for r in req.reason_codes],
        },
    )


def _clarification_error(code: str) -> tuple[str, str]:
    field = code.partition(".")[0]
    texts = {
        "phone": _("Enter a phone number with its country code, for example +7 912 345 67 89"),
        "email": _("Enter an email address in the correct format, like name@example.com"),
        "address": _("Enter the address in 300 characters or fewer"),
    }
    if field in texts:
        return field, texts[field]
    return "answer-confirm", _("This request was answered already")


def pending_requests(person) -> list:
    return list(clarification.pending_for(person).order_by("sent_at", "id"))
