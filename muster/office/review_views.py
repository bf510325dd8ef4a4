"""Back-office review queue: uncertain identity matches of the clerk's office."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.accounts.models import STAFF_ROLES
from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.feeds import review
from muster.feeds.models import ReviewItem
from muster.registry.models import Person
from muster.registry.scoping import visible_reviews

IDENTITY = ("national_id", "surname", "given_name", "patronymic", "birth_date")


def _staff(request):
    if request.user.role not in STAFF_ROLES:
        raise Http404


@login_required
def queue(request):
    _staff(request)
    items = visible_reviews(request.user).filter(state=ReviewItem.State.OPEN).order_by("created_at", "id")[:200]
    return render(request, "office/reviews.html", {"items": items})


@login_required
def item(request, item_id: int):
    _staff(request)
    obj = review.open_item(request.user, item_id)
    error = ""
    if request.method == "POST" and obj.state == ReviewItem.State.OPEN:
        choice = request.POST.get("decision", "")
        try:
            person_id = None if choice == "reject" else int(choice)
        except ValueError:
            error = _("Choose a person, or that the record matches none of them")
        else:
            try:
                review.decide(request.user, obj.id, person_id=person_id, now=timezone.now())
            except review.ReviewRefused as exc:
                error = str(exc)
            else:
                messages.success(request, _("Decision recorded."))
                return redirect("office:reviews")
    ids = [c["person_id"] for c in obj.candidates]
    persons = {p.id: p for p in Person.objects.filter(id__in=ids)}
    # Showing candidates is a read of their data: audited like any staff read.
    audit(
        Actor.of(request.user),
        "review.read",
        at=timezone.now(),
        object_type="review",
        object_id=obj.id,
        detail={"candidates": [persons[i].national_id for i in ids if i in persons]},
    )
    candidates = [
        {
            "c": c,
            "p": persons.get(c["person_id"]),
            "fields": [
                (f, (obj.payload.get(f)), getattr(persons.get(c["person_id"]), f, None), c["field_weights"].get(f))
                for f in IDENTITY
            ],
        }
        for c in obj.candidates
    ]
    return render(
        request, "office/review.html", {"item": obj, "candidates": candidates, "error": error, "identity": IDENTITY}
    )
