"""The exchange page: per peer backlog, lag, last confirmation, unreconciled differences, alerts.

It shows counts and times only, no personal data, so system administrators and national
staff may see it."""

import datetime as dt
import statistics

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from muster.accounts.models import Role
from muster.measures.models import Measure

from .models import OutboxMessage, Peer, Reconciliation

UNCONFIRMED_ALERT = dt.timedelta(minutes=10)


def peer_status(now: dt.datetime) -> list[dict]:
    out = []
    counts = {
        r["peer_id"]: r
        for r in OutboxMessage.objects.values("peer_id").annotate(
            pending=Count("id", filter=Q(state="pending")), rejected=Count("id", filter=Q(state="rejected"))
        )
    }
    for peer in Peer.objects.order_by("name"):
        c = counts.get(peer.name, {"pending": 0, "rejected": 0})
        oldest = (
            OutboxMessage.objects.filter(peer=peer, state="pending")
            .order_by("seq")
            .values_list("created_at", flat=True)
            .first()
        )
        confirmed = list(
            Measure.objects.filter(kind__in=peer.kinds, confirmed_at__isnull=False)
            .order_by("-confirmed_at")
            .values_list("created_at", "confirmed_at")[:1000]
        )
        lags = [(b - a).total_seconds() for a, b in confirmed]
        unconfirmed = (
            Measure.objects.filter(
                kind__in=peer.kinds, state="active", confirmed_at__isnull=True, created_at__lt=now - UNCONFIRMED_ALERT
            ).count()
            if peer.url
            else 0
        )
        last = Reconciliation.objects.filter(peer=peer).order_by("-at").first()
        alerts = []
        if c["rejected"]:
            alerts.append(f"{c['rejected']} message(s) rejected by the peer")
        if unconfirmed:
            alerts.append(f"{unconfirmed} restriction(s) unconfirmed for more than 10 minutes")
        if not peer.url:
            alerts.append("no address configured: messages wait")
        out.append(
            {
                "peer": peer.name,
                "title": peer.title,
                "url": peer.url,
                "kinds": peer.kinds,
                "backlog": c["pending"],
                "rejected": c["rejected"],
                "oldest_pending_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
                "last_delivered_seq": peer.last_delivered_seq,
                "next_seq": peer.next_seq,
                "lag_p50_s": round(statistics.median(lags), 3) if lags else None,
                "last_confirmation_at": peer.last_confirmation_at.isoformat() if peer.last_confirmation_at else None,
                "reconciled_at": last.at.isoformat() if last else None,
                "unreconciled": (len(last.missing) + len(last.extra)) if last else None,
                "alerts": alerts,
            }
        )
    return out


@login_required
def exchange_page(request):
    if request.user.role not in (Role.ADMIN, Role.NATIONAL):
        raise Http404
    return render(request, "exchange/status.html", {"peers": peer_status(timezone.now())})
