"""Identity linkage of records that carry no usable national_id: Splink scores, thresholds decide.

Candidates are fetched from the registry with indexed joins (national_id; birth date
with given name or surname; the day-month transposed birth date with surname; surname,
given name and a birth year close by), so that a chunk links against a registry of tens
of millions without reading it. The model is trained once on the registry's own data,
kept as a versioned artefact under MUSTER_HOME/models and reused between batches.
"""

import datetime as dt
import logging
import random
from functools import cache
from pathlib import Path

import orjson
from django.conf import settings

from muster.registry.models import Person

from .linkage import LinkageModel
from .models import LinkageModelVersion

log = logging.getLogger(__name__)
P = Person._meta.db_table
TRAINING_PERSONS = 200_000


def transposed(day: dt.date | None) -> dt.date | None:
    if day is None or day.day > 12 or day.day == day.month:
        return None
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


@cache
def _load(path: str) -> LinkageModel:
    return LinkageModel.load(Path(path))


def active_model() -> LinkageModel | None:
    row = LinkageModelVersion.objects.filter(active=True).order_by("-trained_at").first()
    if row is None or not Path(row.path).exists():
        return None
    return _load(row.path)


def _sample_persons(limit: int) -> list[dict]:
    total = Person.objects.count()
    step = max(1, total // limit)
    qs = Person.objects.all() if step == 1 else Person.objects.extra(where=[f"{P}.id %% {step} = 0"])  # noqa: S610
    return [
        {
            "person_id": p["id"],
            "national_id": p["national_id"],
            "surname": p["surname"],
            "given_name": p["given_name"],
            "patronymic": p["patronymic"],
            "birth_date": p["birth_date"],
            "region": p["region"],
            "district": p["district"],
        }
        for p in qs.values(
            "id", "national_id", "surname", "given_name", "patronymic", "birth_date", "region", "district"
        )[:limit].iterator()
    ]


def train(records: list[dict], now: dt.datetime, persons_limit: int = TRAINING_PERSONS) -> LinkageModel:
    """Train on a sample of the registry and of incoming records; store and activate the artefact.

    A small first batch is topped up with registry persons as records, so that expectation
    maximisation always has pairs to learn from (a small registry, a first small file)."""
    persons = _sample_persons(persons_limit)
    rng = random.Random(1)  # noqa: S311 - sampling, not security
    if len(records) > 50_000:
        records = rng.sample(records, 50_000)
    if len(records) < 5_000:
        extra = rng.sample(persons, min(len(persons), 5_000 - len(records)))
        records = records + [{**p, "key": f"p{p['person_id']}"} for p in extra]
    model = LinkageModel.train(persons, records, registry_size=Person.objects.count(), trained_at=now)
    folder = Path(settings.MUSTER_HOME) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"linkage-{model.version}.json"
    model.save(path)
    LinkageModelVersion.objects.filter(active=True).exclude(version=model.version).update(active=False)
    LinkageModelVersion.objects.update_or_create(
        version=model.version,
        defaults={
            "path": str(path),
            "trained_at": now,
            "persons": len(persons),
            "records": len(records),
            "active": True,
        },
    )
    _load.cache_clear()
    return model


def _candidates(cur, stage: str, pending: str) -> list[dict]:
    """Registry persons that the model's blocking rules can pair with the pending records
    (feeds.linkage.BLOCKING_RULES), each fetched by an indexed join."""
    cols = "p.id, p.national_id, p.surname, p.given_name, p.patronymic, p.birth_date, p.region, p.district"
    joins = [
        "p.national_id = s.national_id",
        "p.birth_date = s.birth_date AND p.surname_norm = s.surname_norm",
        "p.birth_date = s.birth_date AND p.given_norm = s.given_norm",
        "p.birth_date = s.birth_date AND p.patronymic_norm = s.patronymic_norm",
        "p.birth_date = s.birth_swapped AND p.surname_norm = s.surname_norm",
        "p.birth_date = s.birth_swapped AND p.given_norm = s.given_norm",
        "p.surname_norm = s.surname_norm AND p.given_norm = s.given_norm AND p.patronymic_norm = s.patronymic_norm",
    ]
    sql = " UNION ".join(f"SELECT {cols} FROM {P} p JOIN {stage} s ON {j} WHERE {pending}" for j in joins)
    cur.execute(sql)
    return [
        {
            "person_id": r[0],
            "national_id": r[1],
            "surname": r[2],
            "given_name": r[3],
            "patronymic": r[4],
            "birth_date": r[5],
            "region": r[6],
            "district": r[7],
        }
        for r in cur.fetchall()
    ]


def link_pending(ctx) -> None:
    """Settle every pending stage row without a person: linked, review, or identity.no_match."""
    pending = "s.outcome IS NULL AND s.person_id IS NULL"
    cur = ctx.cursor
    cur.execute(
        f"SELECT line_no, national_id, surname, given_name, patronymic, birth_date, region, district "
        f"FROM {ctx.stage} s WHERE {pending}"
    )
    records = [
        {
            "key": r[0],
            "national_id": r[1],
            "surname": r[2],
            "given_name": r[3],
            "patronymic": r[4],
            "birth_date": r[5],
            "region": r[6],
            "district": r[7],
        }
        for r in cur.fetchall()
    ]
    if not records:
        return
    model = active_model() or train(records, ctx.now)
    persons = _candidates(cur, ctx.stage, pending)
    scored = model.score(records, persons) if persons else {}
    by_id = {p["person_id"]: p for p in persons}
    updates = []
    for rec in records:
        cands = scored.get(rec["key"], [])
        outcome, best = model.decide(cands)
        if outcome == "link":
            updates.append((best.person_id, None, None, None, rec["key"]))
        elif outcome == "review":
            payload = [
                {
                    "person_id": c.person_id,
                    "national_id": by_id[c.person_id]["national_id"],
                    "probability": round(c.probability, 6),
                    "weight": round(c.weight, 3),
                    "field_weights": {k: round(v, 3) for k, v in c.field_weights.items()},
                }
                for c in cands
            ]
            updates.append((None, "review", None, orjson.dumps(payload).decode(), rec["key"]))
        else:
            updates.append((None, "quarantined", "identity.no_match", None, rec["key"]))
    ph = "%s"
    cur.executemany(
        f"UPDATE {ctx.stage} SET person_id = {ph}, outcome = {ph}, reason = {ph}, candidates = {ph} "
        f"WHERE line_no = {ph}",
        updates,
    )
    ctx.params["model_version"] = model.version
