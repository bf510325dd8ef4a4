"""Which source's value the golden record follows, attribute by attribute.

Source authority first, then the newest `changed_at` among sources of equal authority.
The population register is the authority for identity and the registered address
(the interior ministry's address and the citizen's own report are kept and shown as
conflicts, never silently taken); for phone and email the register and the citizen's own
correction are of equal authority, so the newest change wins.
"""

from .models import Fact, Person, SourceRecord

# attribute -> tiers of sources, strongest first; sources in one tier are of equal authority.
PRECEDENCE: dict[str, tuple[tuple[str, ...], ...]] = {
    "address": (("population",), ("interior",), ("citizen",)),
    "region": (("population",), ("interior",)),
    "district": (("population",), ("interior",)),
    "phone": (("population", "citizen"),),
    "email": (("population", "citizen"),),
}


def current_facts(person: Person) -> list[Fact]:
    """The version in force of every source record of the person (plus citizen reports)."""
    ids = SourceRecord.objects.filter(person=person).values_list("fact_id", flat=True)
    facts = list(Fact.objects.filter(id__in=list(ids)))
    latest_citizen = Fact.objects.filter(person=person, source="citizen").order_by("-changed_at").first()
    return facts + ([latest_citizen] if latest_citizen else [])


def conflicts(person: Person) -> dict[str, list[dict]]:
    """Attributes on which the sources currently disagree, with every source's value."""
    out: dict[str, list[dict]] = {}
    facts = current_facts(person)
    for attr, tiers in PRECEDENCE.items():
        sources = {s for tier in tiers for s in tier}
        values = [
            {
                "source": f.source,
                "record_id": f.record_id,
                "value": f.payload[attr],
                "changed_at": f.changed_at.isoformat(),
            }
            for f in facts
            if f.source in sources and f.payload.get(attr) not in (None, "")
        ]
        if len({_norm(v["value"]) for v in values}) > 1:
            out[attr] = sorted(values, key=lambda v: v["changed_at"], reverse=True)
    return out


def _norm(value) -> str:
    return " ".join(str(value).casefold().replace("ё", "е").split())
