"""The auditor's page: is the chain intact, and what happened, without personal data.

Person identifiers are shown as the registry's internal id, never the insurance number:
an audit needs to follow one person's trail, not to know who they are."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from muster.accounts.models import Role

from .models import AuditEntry, Checkpoint
from .services import verify


@login_required
def audit_page(request):
    if request.user.role != Role.AUDITOR:
        raise Http404
    action = request.GET.get("action", "").strip()
    entries = AuditEntry.objects.order_by("-id")
    if action:
        entries = entries.filter(action=action)
    rows = [
        {
            "id": e.id,
            "at": e.at,
            "actor_role": e.actor_role,
            "actor_office": e.actor_office,
            "action": e.action,
            "object_type": e.object_type,
            "object": "" if e.object_type == "person" else e.object_id,
            "person": e.person_id,
            "hash": e.hash[:16],
        }
        for e in entries[:200]
    ]
    return render(
        request,
        "audit/page.html",
        {
            "verification": verify(),
            "rows": rows,
            "action": action,
            "checkpoint": Checkpoint.objects.order_by("-entry_id").first(),
        },
    )
