"""`population`: the unified population register, the only source that creates persons."""

import datetime as dt
from functools import cache

from muster.feeds import validation as v
from muster.feeds.linkage import normalise_name
from muster.registry import status
from muster.registry.attributes import ATTRIBUTES
from muster.registry.models import OfficeArea, Person, SourceRecord
from muster.registry.regions import REGIONS, districts

from .base import ChunkContext, Source, insert_facts, mark_unchanged, upsert_source_records

P = Person._meta.db_table
SR = SourceRecord._meta.db_table

GOLDEN = ATTRIBUTES
CONTACT = ("phone", "email")
IDENTITY = tuple(c for c in GOLDEN[1:] if c not in CONTACT)
_REGION_CODES = tuple(r.code for r in REGIONS)


@cache
def _known_districts() -> frozenset[tuple[str, str]]:
    return frozenset((r, d) for r in _REGION_CODES for d in districts(r))


class Population(Source):
    name = "population"
    unique_in_batch = ("record_id", "national_id")
    stage_columns = (
        ("national_id", "text"),
        ("tax_id", "text"),
        ("surname", "text"),
        ("given_name", "text"),
        ("patronymic", "text"),
        ("sex", "text"),
        ("birth_date", "date"),
        ("citizenship", "text"),
        ("region", "text"),
        ("district", "text"),
        ("address", "text"),
        ("postcode", "text"),
        ("phone", "text"),
        ("email", "text"),
        ("death_date", "date"),
        ("office_id", "text"),
        ("surname_norm", "text"),
        ("given_norm", "text"),
        ("patronymic_norm", "text"),
        ("is_new", "integer"),
    )

    def __init__(self):
        self._offices: dict[tuple[str, str], str] | None = None

    def fields(self, today: dt.date) -> tuple[v.Field, ...]:
        return (
            v.Field("national_id", v.snils),
            v.Field("tax_id", v.inn12, required=False),
            v.Field("surname", v.text(100)),
            v.Field("given_name", v.text(100)),
            v.Field("patronymic", v.text(100), required=False),
            v.Field("sex", v.enum("M", "F")),
            v.Field("birth_date", v.date(today)),
            v.Field("citizenship", v.alpha2),
            v.Field("region", v.enum(*_REGION_CODES)),
            v.Field("district", v.digits(3)),
            v.Field("address", v.text(300)),
            v.Field("postcode", v.digits(6), required=False),
            v.Field("phone", v.phone, required=False),
            v.Field("email", v.email, required=False),
            v.Field("death_date", v.date(today), required=False),
        )

    def cross_check(self, payload: dict, reasons: list[str]) -> None:
        region, district = payload.get("region"), payload.get("district")
        if region and district and (region, district) not in _known_districts():
            reasons.append("district.unknown")
        birth, death = payload.get("birth_date"), payload.get("death_date")
        if birth and death and death < birth:
            reasons.append("death_date.before_birth")

    def stage_values(self, payload: dict, adapt) -> tuple:
        if self._offices is None:
            self._offices = {(r, d): o for r, d, o in OfficeArea.objects.values_list("region", "district", "office_id")}
        get = payload.get
        return (
            *(get(k) for k in GOLDEN[:6]),
            adapt(payload["birth_date"]),
            *(get(k) for k in GOLDEN[7:14]),
            adapt(get("death_date")),
            self._offices.get((payload["region"], payload["district"])),
            normalise_name(payload["surname"]),
            normalise_name(payload["given_name"]),
            normalise_name(get("patronymic")) or "",
            0,
        )

    def merge(self, ctx: ChunkContext) -> None:
        src = {"src": self.name}
        mark_unchanged(ctx, self.name)
        # A record id may not move to another person: that is an error at the source.
        ctx.execute(
            f"UPDATE {{stage}} SET outcome = 'quarantined', reason = 'national_id.conflict' "
            f"FROM {SR} sr CROSS JOIN {P} p "  # CROSS JOIN: SQLite keeps the stage as the outer loop
            "WHERE p.id = sr.person_id AND {stage}.outcome IS NULL AND sr.source = %(src)s "
            "AND sr.record_id = {stage}.record_id AND p.national_id <> {stage}.national_id",
            src,
        )
        # Existing persons by national_id; new ones get their id now, so that their facts and
        # their one INSERT (with every value final) follow without updates.
        ctx.execute(
            f"UPDATE {{stage}} SET person_id = p.id FROM {P} p "
            "WHERE {stage}.outcome IS NULL AND p.national_id = {stage}.national_id"
        )
        ctx.execute("UPDATE {stage} SET is_new = CASE WHEN person_id IS NULL THEN 1 ELSE 0 END WHERE outcome IS NULL")
        if ctx.vendor == "postgresql":
            ctx.execute(
                f"UPDATE {{stage}} SET person_id = nextval(pg_get_serial_sequence('{P}', 'id')) "
                "WHERE outcome IS NULL AND person_id IS NULL"
            )
        else:  # SQLite writers are serialised, so max(id) is safe here
            ctx.execute(
                f"UPDATE {{stage}} SET person_id = x.base + x.rn FROM (SELECT line_no, "
                f"ROW_NUMBER() OVER (ORDER BY line_no) AS rn, (SELECT COALESCE(MAX(id), 0) FROM {P}) AS base "
                "FROM {stage} WHERE outcome IS NULL AND person_id IS NULL) x WHERE {stage}.line_no = x.line_no"
            )
        insert_facts(ctx, self.name)
        upsert_source_records(ctx, self.name)
        cols = ", ".join((*GOLDEN, "surname_norm", "given_norm", "patronymic_norm", "office_id"))
        ctx.execute(
            f"INSERT INTO {P} (id, {cols}, population_fact_id, population_changed_at, contact_fact_id, "
            "contact_changed_at, registration_status, created_at, updated_at) "
            f"SELECT person_id, {cols}, fact_id, changed_at, fact_id, changed_at, {status.status_case(None)}, "
            "%(now)s, %(now)s FROM {stage} WHERE outcome = 'applied' AND is_new = 1",
            status.sql_params(ctx.as_of),
        )
        sets = ", ".join(
            f"{c} = s.{c}" for c in (*IDENTITY, "office_id", "surname_norm", "given_norm", "patronymic_norm")
        )
        ctx.execute(
            f"UPDATE {P} SET {sets}, population_fact_id = s.fact_id, "
            "population_changed_at = s.changed_at, updated_at = %(now)s FROM {stage} s "
            f"WHERE {P}.id = s.person_id AND s.outcome = 'applied' AND s.is_new = 0 "
            f"AND s.changed_at > {P}.population_changed_at"
        )
        # Contact data: equal authority with the citizen's own corrections, so the newest wins.
        ctx.execute(
            f"UPDATE {P} SET phone = s.phone, email = s.email, contact_fact_id = s.fact_id, "
            "contact_changed_at = s.changed_at, updated_at = %(now)s FROM {stage} s "
            f"WHERE {P}.id = s.person_id AND s.outcome = 'applied' AND s.is_new = 0 "
            f"AND ({P}.contact_changed_at IS NULL OR s.changed_at > {P}.contact_changed_at)"
        )
        status.refresh(
            ctx.as_of,
            where=f"id IN (SELECT person_id FROM {ctx.stage} WHERE outcome = 'applied' AND is_new = 0)",
        )
