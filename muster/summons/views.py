"""Summons pages and shapes: the public check, the JSON form used by the CLI and the API."""

import hashlib

from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import numbers
from .models import Summons


def summons_json(s: Summons) -> dict:
    from muster.measures.models import Measure

    return {
        "number": s.number,
        "state": s.state,
        "purpose": s.purpose,
        "person": s.person.national_id,
        "office": s.office_id,
        "appear_at": s.appear_at.isoformat(),
        "place": s.place,
        "issued_by": s.issued_by,
        "placed_at": s.placed_at.isoformat(),
        "deemed_delivery_at": s.deemed_at.isoformat(),
        "delivered_at": s.delivered_at.isoformat() if s.delivered_at else None,
        "delivery_channel": s.delivery_channel or None,
        "appeared_at": s.appeared_at.isoformat() if s.appeared_at else None,
        "failed_at": s.failed_at.isoformat() if s.failed_at else None,
        "cancelled_at": s.cancelled_at.isoformat() if s.cancelled_at else None,
        "valid_reason": s.excuse or None,
        "further_measures_from": s.further_from.isoformat(),
        "document": s.document_id,
        "measures": [measure_json(m) for m in Measure.objects.filter(summons=s).order_by("id")],
    }


def measure_json(m) -> dict:
    return {
        "kind": m.kind,
        "state": m.state,
        "start": m.start.isoformat(),
        "basis": m.summons.number,
        "end": m.ended_on.isoformat() if m.ended_on else None,
        "lift_reason": m.lift_reason or None,
        "confirmed_at": m.confirmed_at.isoformat() if m.confirmed_at else None,
        "lifted_by_peer_at": m.peer_lifted_at.isoformat() if m.peer_lifted_at else None,
    }


def _birth(text: str):
    """A date of birth as printed on the summons (DD.MM.YYYY) or as ISO (YYYY-MM-DD)."""
    import datetime as dt

    try:
        if "." in text:
            day, month, year = (int(x) for x in text.split("."))
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


VERIFY_LIMIT = 10  # checks per client per 10 minutes


def _client(request) -> str:
    return hashlib.sha256(request.META.get("REMOTE_ADDR", "").encode()).hexdigest()[:16]


@require_http_methods(["GET", "POST"])
def verify(request):
    """Public check: number + birth date -> valid / cancelled / unknown, nothing else.

    Any mismatch (unknown number, wrong birth date) gives the same "unknown" answer, and
    each client may ask only a few times in ten minutes, so numbers cannot be enumerated."""
    number = (request.POST.get("number") or request.GET.get("number") or "").strip().replace(" ", "")
    birth = (request.POST.get("birth_date") or "").strip()
    answer, limited = None, False
    if request.method == "POST":
        key = f"verify:{_client(request)}"
        count = cache.get_or_set(key, 0, timeout=600)
        if count >= VERIFY_LIMIT:
            limited = True
        else:
            cache.incr(key)
            answer = "unknown"
            if numbers.valid(number):
                s = Summons.objects.select_related("person").filter(number=number).first()
                if s and s.person.birth_date == _birth(birth):
                    answer = "cancelled" if s.state == Summons.State.CANCELLED else "valid"
    return render(
        request,
        "summons/verify.html",
        {
            "number": number,
            "birth_date": birth,
            "answer": answer,
            "limited": limited,
            "labels": {
                "valid": _("This summons is genuine: a recruitment office issued it and has not cancelled it."),
                "cancelled": _("This summons was cancelled."),
                "unknown": _("No summons matches this number and date of birth."),
            },
            "checked_at": timezone.now(),
        },
        status=429 if limited else 200,
    )
