"""The whole path on the legal clock: placement, exit restriction, delivery, non-appearance,
further measures, appearance; and the same with portal delivery, a valid reason, cancellation."""

import pytest

from muster.accounts.services import add_user
from muster.exchange.models import OutboxMessage
from muster.measures.models import Measure, Notification
from muster.summons import clock, services
from muster.summons.models import SummonsEvent
from tests.summons.conftest import at

pytestmark = pytest.mark.django_db
FURTHER = {"entrepreneur", "real_estate", "driving", "vehicle", "loans"}


def active(person):
    return {m.kind for m in Measure.objects.filter(person=person, state="active")}


def test_placement_to_appearance(liable, actor):
    s = services.issue(actor, liable.national_id, "call_up", at("2026-06-20"), now=at("2026-06-01"))
    assert s.state == "issued"
    assert s.number[:2] == liable.region
    assert len(s.number) == 12
    # The exit restriction starts on the day of placement, and is on its way to the border.
    assert active(liable) == {"exit"}
    exit_m = Measure.objects.get(person=liable, kind="exit")
    assert exit_m.start.isoformat() == "2026-06-01"
    assert OutboxMessage.objects.filter(peer_id="border", type="restriction.add", measure_id=exit_m.id).exists()
    # Not yet deemed delivered on day 6; deemed delivered on day 7.
    clock.tick(at("2026-06-08", 9), rights=False)
    s.refresh_from_db()
    assert s.state == "issued"
    clock.tick(at("2026-06-08", 11), rights=False)
    s.refresh_from_db()
    assert (s.state, s.delivery_channel) == ("delivered", "deemed")
    assert s.delivered_at == at("2026-06-08")
    # No appearance: failed to appear, but the further measures only 20 days after the appearance date.
    clock.tick(at("2026-07-09"), rights=False)
    s.refresh_from_db()
    assert s.state == "failed_to_appear"
    assert active(liable) == {"exit"}
    clock.tick(at("2026-07-10", 0), rights=False)
    assert active(liable) == {"exit"} | FURTHER
    assert {m.start.isoformat() for m in Measure.objects.filter(kind__in=FURTHER)} == {"2026-07-10"}
    peers = set(OutboxMessage.objects.filter(type="restriction.add").values_list("peer_id", flat=True))
    assert peers == {"border", "traffic_police", "tax_service", "property_registry", "credit_bureaux"}
    # He appears: everything is lifted the same day.
    services.appear(actor, s.number, at=at("2026-07-15"), now=at("2026-07-15"))
    assert active(liable) == set()
    lifted = Measure.objects.filter(person=liable)
    assert {(m.lift_reason, m.ended_on.isoformat()) for m in lifted} == {("appeared", "2026-07-15")}
    assert OutboxMessage.objects.filter(type="restriction.lift").count() == 6
    kinds = list(SummonsEvent.objects.filter(summons=s).order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["placed", "delivered", "failed_to_appear", "appeared"]
    notified = set(Notification.objects.filter(person=liable).values_list("kind", flat=True))
    assert notified == {"summons.placed", "measure.started", "measure.lifted"}


def test_portal_delivery_is_immediate(liable, actor, now):
    add_user("me", "citizen", "correct horse battery", actor=actor, now=now, national_id=liable.national_id)
    s = services.issue(actor, liable.national_id, "medical", at("2026-06-10"), now=at("2026-06-01"))
    assert (s.state, s.delivery_channel, s.delivered_at) == ("delivered", "portal", at("2026-06-01"))
    clock.tick(at("2026-06-11"), rights=False)
    s.refresh_from_db()
    assert s.state == "failed_to_appear"


def test_valid_reason_stops_the_clock_and_lifts(liable, actor):
    s = services.issue(actor, liable.national_id, "call_up", at("2026-06-20"), now=at("2026-06-01"))
    clock.tick(at("2026-07-01"), rights=False)
    services.excuse(actor, s.number, "illness", now=at("2026-07-02"))
    assert active(liable) == set()
    clock.tick(at("2026-08-30"), rights=False)
    assert active(liable) == set()
    assert not Measure.objects.filter(kind__in=FURTHER).exists()


def test_cancellation_lifts(liable, actor):
    s = services.issue(actor, liable.national_id, "call_up", at("2026-06-20"), now=at("2026-06-01"))
    services.cancel(actor, s.number, "issued in error", now=at("2026-06-02"))
    assert active(liable) == set()
    assert Measure.objects.get(kind="exit").lift_reason == "cancelled"
    clock.tick(at("2026-08-30"), rights=False)
    assert active(liable) == set()


def test_in_person_delivery(liable, actor):
    s = services.issue(actor, liable.national_id, "clarification", at("2026-06-20"), now=at("2026-06-01"))
    services.deliver(actor, s.number, "in_person", at=at("2026-06-03"), now=at("2026-06-03"))
    s.refresh_from_db()
    assert (s.state, s.delivery_channel) == ("delivered", "in_person")
    with pytest.raises(services.Refused, match="not issued"):
        services.deliver(actor, s.number, "post", at=at("2026-06-03"), now=at("2026-06-03"))
