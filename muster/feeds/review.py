"""The review queue: a clerk decides uncertain identity matches, one service call each."""

import datetime as dt

from django.db import transaction
from django.http import Http404

from muster.audit.services import Actor
from muster.audit.services import record as audit
from muster.registry.models import Fact, Person, SourceRecord
from muster.registry.scoping import visible_reviews

from .models import ReviewItem


class ReviewRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def open_item(user, item_id: int) -> ReviewItem:
    item = visible_reviews(user).select_related("batch").filter(id=item_id).first()
    if item is None:
        raise Http404
    return item


def decide(user, item_id: int, *, person_id: int | None, now: dt.datetime) -> ReviewItem:
    """Accept the record for one of its candidates (`person_id`), or reject it (`None`).

    Accepting applies the held facts exactly once and decides the person's rights again; a
    rejected item keeps the record as it came. Either way the decision is audited.
    """
    actor = Actor.of(user)
    with transaction.atomic():
        item = visible_reviews(user).select_for_update().filter(id=item_id).first()
        if item is None:
            raise Http404
        if item.state != ReviewItem.State.OPEN:
            raise ReviewRefused("review.decided", f"this record was already {item.state} by {item.decided_by}")
        if person_id is None:
            # The item itself keeps the record and its payload: nothing is lost.
            item.state = ReviewItem.State.REJECTED
        else:
            if person_id not in {c["person_id"] for c in item.candidates}:
                raise ReviewRefused("review.not_a_candidate", "choose one of the candidate persons shown")
            person = Person.objects.get(id=person_id)
            existing = (
                SourceRecord.objects.select_for_update().filter(source=item.source, record_id=item.record_id).first()
            )
            if existing and existing.person_id != person_id:
                raise ReviewRefused(
                    "review.record_linked", f"record {item.record_id} is already linked to another person"
                )
            fact = Fact.objects.create(
                person=person,
                source=item.source,
                record_id=item.record_id,
                batch_id=item.batch_id,
                line_no=item.line_no,
                received_at=now,
                changed_at=item.changed_at,
                payload=item.payload,
                payload_hash=item.payload_hash,
            )
            if existing is None:
                SourceRecord.objects.create(
                    source=item.source,
                    record_id=item.record_id,
                    person=person,
                    fact_id=fact.id,
                    changed_at=item.changed_at,
                    payload_hash=item.payload_hash,
                )
            elif item.changed_at > existing.changed_at:
                existing.fact_id, existing.changed_at, existing.payload_hash = (
                    fact.id,
                    item.changed_at,
                    item.payload_hash,
                )
                existing.save(update_fields=["fact_id", "changed_at", "payload_hash"])
            item.state, item.person = ReviewItem.State.ACCEPTED, person
            # The new fact may change the person's rights: decided again in this transaction.
            from django.utils import timezone

            from muster.rules.services import evaluate

            evaluate(now=now, as_of=timezone.localdate(now), actor=actor, scope=str(person.pk))
        item.decided_by, item.decided_at = user.username, now
        item.save(update_fields=["state", "person", "decided_by", "decided_at"])
        audit(
            actor,
            f"review.{item.state}",
            at=now,
            object_type="review",
            object_id=item.id,
            person_id=person_id,
            detail={"batch": item.batch_id, "line": item.line_no, "source": item.source, "record_id": item.record_id},
        )
    return item
