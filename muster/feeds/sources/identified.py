"""Sources whose records are about persons the population register created.

They identify the person by `national_id`, or else by name and birth date; they never
create persons. Each concrete source declares only its own fields and checks.
"""

import datetime as dt

from muster.feeds import validation as v
from muster.feeds.identity import link_pending, transposed
from muster.feeds.linkage import normalise_name
from muster.registry.models import Person, SourceRecord

from .base import ChunkContext, Source, insert_facts, mark_unchanged, upsert_source_records

P = Person._meta.db_table
SR = SourceRecord._meta.db_table


class IdentifiedSource(Source):
    stage_columns = (
        ("national_id", "text"),
        ("surname", "text"),
        ("given_name", "text"),
        ("patronymic", "text"),
        ("birth_date", "date"),
        ("region", "text"),
        ("district", "text"),
        ("surname_norm", "text"),
        ("given_norm", "text"),
        ("patronymic_norm", "text"),
        ("birth_swapped", "date"),
        ("candidates", "text"),
    )

    def own_fields(self, today: dt.date) -> tuple[v.Field, ...]:
        return ()

    def fields(self, today: dt.date) -> tuple[v.Field, ...]:
        return (
            v.Field("national_id", v.snils, required=False),
            v.Field("surname", v.text(100)),
            v.Field("given_name", v.text(100)),
            v.Field("patronymic", v.text(100), required=False),
            v.Field("birth_date", v.date(today)),
            *self.own_fields(today),
        )

    def stage_values(self, payload: dict, adapt) -> tuple:
        birth: dt.date = payload["birth_date"]
        return (
            payload.get("national_id"),
            payload["surname"],
            payload["given_name"],
            payload.get("patronymic"),
            adapt(birth),
            payload.get("region"),
            payload.get("district"),
            normalise_name(payload["surname"]),
            normalise_name(payload["given_name"]),
            normalise_name(payload.get("patronymic")) or "",
            adapt(transposed(birth)),
            None,
        )

    def merge(self, ctx: ChunkContext) -> None:
        mark_unchanged(ctx, self.name)
        # A record id already linked keeps its person (source record ids are stable).
        ctx.execute(
            f"UPDATE {{stage}} SET person_id = sr.person_id FROM {SR} sr "
            "WHERE {stage}.outcome IS NULL AND sr.source = %(src)s AND sr.record_id = {stage}.record_id",
            {"src": self.name},
        )
        # Exact: the national_id exists and agrees with surname, given name and birth date.
        ctx.execute(
            f"UPDATE {{stage}} SET person_id = p.id FROM {P} p "
            "WHERE {stage}.outcome IS NULL AND {stage}.person_id IS NULL "
            "AND p.national_id = {stage}.national_id AND p.surname_norm = {stage}.surname_norm "
            "AND p.given_norm = {stage}.given_norm AND p.birth_date = {stage}.birth_date"
        )
        link_pending(ctx)
        insert_facts(ctx, self.name)
        upsert_source_records(ctx, self.name)
        self.after_merge(ctx)

    def after_merge(self, ctx: ChunkContext) -> None:
        """Source-specific set-based consequences for the golden record (none by default)."""


def _after(first: str, second: str, reason: str):
    """A cross-field check: `second` must not be before `first`."""

    def check(payload: dict, reasons: list[str]) -> None:
        a, b = payload.get(first), payload.get(second)
        if a and b and b < a:
            reasons.append(reason)

    return check


class Interior(IdentifiedSource):
    name = "interior"

    def own_fields(self, today):
        return (
            v.Field("passport_number", v.digits(10)),
            v.Field("passport_issued_on", v.date(today)),
            v.Field("region", v.enum(*_regions())),
            v.Field("district", v.digits(3)),
            v.Field("address", v.text(300)),
            v.Field("conviction", v.enum("none", "unexpunged", "expunged")),
            v.Field("conviction_until", v.date(today, allow_future=True), required=False),
            v.Field("criminal_case", v.enum("none", "investigation", "court")),
        )

    def cross_check(self, payload, reasons):
        _after("birth_date", "passport_issued_on", "passport_issued_on.before_birth")(payload, reasons)
        if payload.get("conviction_until") and payload.get("conviction") == "none":
            reasons.append("conviction_until.unexpected")
        from muster.feeds.sources.population import _known_districts

        if (payload.get("region"), payload.get("district")) not in _known_districts():
            reasons.append("district.unknown")


class Health(IdentifiedSource):
    """Fitness category only: undeclared fields (diagnoses) are dropped, never stored."""

    name = "health"

    def own_fields(self, today):
        return (
            v.Field("fitness_category", v.enum("A", "B", "V", "G", "D")),
            v.Field("examined_on", v.date(today)),
            v.Field("valid_until", v.date(today, allow_future=True), required=False),
        )

    def cross_check(self, payload, reasons):
        until, examined = payload.get("valid_until"), payload.get("examined_on")
        if until is None:
            return
        if payload.get("fitness_category") != "G":
            reasons.append("valid_until.unexpected")
        elif until < examined:
            reasons.append("valid_until.before_examined")
        elif until > _one_year_after(examined):
            reasons.append("valid_until.too_long")


class Education(IdentifiedSource):
    name = "education"

    def own_fields(self, today):
        return (
            v.Field("institution_id", v.text(64)),
            v.Field("institution_accredited", v.boolean),
            v.Field(
                "level",
                v.enum(
                    "school", "secondary_vocational", "bachelor", "specialist", "master", "postgraduate", "residency"
                ),
            ),
            v.Field("study_form", v.enum("full_time", "part_time", "extramural")),
            v.Field("status", v.enum("enrolled", "academic_leave", "expelled", "graduated")),
            v.Field("start_date", v.date(today)),
            v.Field("planned_end_date", v.date(today, allow_future=True)),
        )

    def cross_check(self, payload, reasons):
        start, end = payload.get("start_date"), payload.get("planned_end_date")
        if start and end and end <= start:
            reasons.append("planned_end_date.before_start")


class Elections(IdentifiedSource):
    name = "elections"

    def own_fields(self, today):
        return (
            v.Field("role", v.enum("deputy", "candidate")),
            v.Field("level", v.enum("federal", "regional", "municipal")),
            v.Field("term_start", v.date(today, allow_future=True), required=False),
            v.Field("term_end", v.date(today, allow_future=True), required=False),
            v.Field("election_date", v.date(today, allow_future=True), required=False),
        )

    def cross_check(self, payload, reasons):
        if payload.get("role") == "deputy":
            for f in ("term_start", "term_end"):
                if not payload.get(f):
                    reasons.append(f"{f}.missing")
            _after("term_start", "term_end", "term_end.before_start")(payload, reasons)
        elif payload.get("role") == "candidate" and not payload.get("election_date"):
            reasons.append("election_date.missing")


class Digital(IdentifiedSource):
    name = "digital"

    def own_fields(self, today):
        return (
            v.Field("employer_tax_id", v.inn10),
            v.Field("employer_accredited", v.boolean),
            v.Field("employed_since", v.date(today)),
            v.Field("listed_specialty_degree", v.boolean),
        )


class Civil(IdentifiedSource):
    name = "civil"
    CHILD_EVENTS = ("child_birth", "child_death")

    def own_fields(self, today):
        return (
            v.Field("event", v.enum("child_birth", "child_death", "marriage", "divorce", "death")),
            v.Field("event_date", v.date(today)),
            v.Field("child_birth_date", v.date(today), required=False),
            v.Field("child_disabled", v.boolean, required=False),
        )

    def cross_check(self, payload, reasons):
        if payload.get("event") in self.CHILD_EVENTS and not payload.get("child_birth_date"):
            reasons.append("child_birth_date.missing")
        _after("birth_date", "event_date", "event_date.before_birth")(payload, reasons)


class Social(IdentifiedSource):
    name = "social"

    def own_fields(self, today):
        return (
            v.Field("care_type", v.enum("disabled_relative", "minor_sibling_guardian")),
            v.Field("relation", v.text(40)),
            v.Field("start_date", v.date(today)),
            v.Field("end_date", v.date(today, allow_future=True), required=False),
            v.Field("other_carers", v.boolean),
        )

    def cross_check(self, payload, reasons):
        _after("start_date", "end_date", "end_date.before_start")(payload, reasons)


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _regions() -> tuple[str, ...]:
    from muster.registry.regions import REGIONS

    return tuple(r.code for r in REGIONS)


IDENTIFIED = (Interior, Health, Education, Elections, Digital, Civil, Social)
