"""`population`: the unified population register, the only source that creates persons."""

import datetime as dt
from functools import cache

from muster.feeds import validation as v
from muster.feeds.linkage import normalise_name
from muster.registry import status
from muster.registry.attributes import ATTRIBUTES
from muster.registry.models import Fact, OfficeArea, Person, SourceRecord
from muster.registry.regions import REGIONS, districts

from .base import ChunkContext, Source, mark_unchanged, next_id_sql, upsert_source_records, write_facts

P = Person._meta.db_table
SR = SourceRecord._meta.db_table
F = Fact._meta.db_table

GOLDEN = ATTRIBUTES
CONTACT = ("phone", "email")
IDENTITY = tuple(c for c in GOLDEN[1:] if c not in CONTACT)
_BEFORE_BIRTH, _AFTER_BIRTH = GOLDEN[:6], GOLDEN[7:14]  # the stage columns around birth_date
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

    def prepare(self) -> None:
        self._offices = {(r, d): o for r, d, o in OfficeArea.objects.values_list("region", "district", "office_id")}

    def stage_values(self, payload: dict, adapt) -> tuple:
        if self._offices is None:
            self.prepare()
        get = payload.get
        return (
            *map(get, _BEFORE_BIRTH),
            adapt(payload["birth_date"]),
            *map(get, _AFTER_BIRTH),
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
        # One pass settles every pending row: an existing person by national_id or a new id,
        # and the id of its fact, so that the facts, source records and each new person's one
        # INSERT (with every value final) follow without further updates of the stage.
        new_person = "CASE WHEN x.pid IS NULL THEN 1 ELSE 0 END"
        pending = f"FROM {{stage}} s LEFT JOIN {P} p ON p.national_id = s.national_id WHERE s.outcome IS NULL"
        if ctx.vendor == "postgresql":
            ctx.execute(
                f"UPDATE {{stage}} SET person_id = COALESCE(x.pid, {next_id_sql(P)}), is_new = {new_person}, "
                f"fact_id = {next_id_sql(F)}, outcome = 'applied' "
                f"FROM (SELECT s.line_no, p.id AS pid {pending}) x WHERE {{stage}}.line_no = x.line_no"
            )
        else:  # SQLite writers are serialised, so max(id) is safe here
            ctx.execute(
                "UPDATE {stage} SET person_id = COALESCE(x.pid, x.person_base + x.new_rn), "
                f"is_new = {new_person}, fact_id = x.fact_base + x.rn, outcome = 'applied' "
                "FROM (SELECT s.line_no, p.id AS pid, ROW_NUMBER() OVER (ORDER BY s.line_no) AS rn, "
                "ROW_NUMBER() OVER (PARTITION BY p.id IS NULL ORDER BY s.line_no) AS new_rn, "
                f"(SELECT COALESCE(MAX(id), 0) FROM {P}) AS person_base, "
                f"(SELECT COALESCE(MAX(id), 0) FROM {F}) AS fact_base {pending}) x "
                "WHERE {stage}.line_no = x.line_no"
            )
        write_facts(ctx, self.name)
        upsert_source_records(ctx, self.name)
        cols = ", ".join((*GOLDEN, "surname_norm", "given_norm", "patronymic_norm", "office_id"))
        ctx.execute(
            f"INSERT INTO {P} (id, {cols}, population_fact_id, population_changed_at, contact_fact_id, "
            "contact_changed_at, registration_status, created_at, updated_at) "
            f"SELECT person_id, {cols}, fact_id, changed_at, fact_id, changed_at, {status.status_case(None)}, "
            "%(now)s, %(now)s FROM {stage} WHERE outcome = 'applied' AND is_new = 1",
            status.sql_params(ctx.as_of),
        )
        # An existing person: the identity when this version is newer than the one in force;
        # contact data (equal authority with the citizen's own corrections) when newer than
        # theirs. One UPDATE with both, so that a person changed in both gets one new row
        # version (and one entry in each of the table's indexes), not two.
        identity_newer = f"s.changed_at > {P}.population_changed_at"
        contact_newer = f"({P}.contact_changed_at IS NULL OR s.changed_at > {P}.contact_changed_at)"
        identity = (*IDENTITY, "office_id", "surname_norm", "given_norm", "patronymic_norm")
        sets = [(c, c, identity_newer) for c in identity]
        sets += [
            ("population_fact_id", "fact_id", identity_newer),
            ("population_changed_at", "changed_at", identity_newer),
        ]
        sets += [(c, c, contact_newer) for c in CONTACT]
        sets += [("contact_fact_id", "fact_id", contact_newer), ("contact_changed_at", "changed_at", contact_newer)]
        assignments = ", ".join(f"{col} = CASE WHEN {cond} THEN s.{val} ELSE {P}.{col} END" for col, val, cond in sets)
        ctx.execute(
            f"UPDATE {P} SET {assignments}, updated_at = %(now)s FROM {{stage}} s "
            f"WHERE {P}.id = s.person_id AND s.outcome = 'applied' AND s.is_new = 0 "
            f"AND ({identity_newer} OR {contact_newer})"
        )
        status.refresh(
            ctx.as_of,
            where=status.ids_in(f"SELECT person_id FROM {ctx.stage} WHERE outcome = 'applied' AND is_new = 0"),
        )
