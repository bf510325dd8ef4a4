"""Small builders for test data: valid population records and feed files."""

import datetime as dt
import itertools
from pathlib import Path

import orjson

from muster.audit.services import Actor
from muster.feeds import services as feeds
from muster.registry.identifiers import snils_check

_counter = itertools.count(1)


def snils(n: int) -> str:
    body = f"{200_000_000 + n:09d}"
    return body + snils_check(body)


def population(n: int | None = None, **overrides) -> dict:
    n = next(_counter) if n is None else n
    rec = {
        "record_id": f"POP-{n}",
        "changed_at": "2026-01-10T09:00:00+03:00",
        "national_id": snils(n),
        "surname": "Смирнов",
        "given_name": "Алексей",
        "patronymic": "Петрович",
        "sex": "M",
        "birth_date": "2004-03-27",
        "citizenship": "RU",
        "region": "77",
        "district": "001",
        "address": "г. Москва, ул. Тверская, д. 1, кв. 5",
        "postcode": "125009",
        "phone": "+79161234567",
    }
    rec.update(overrides)
    return {k: v for k, v in rec.items() if v is not None}


class FeedWriter:
    def __init__(self, folder: Path):
        self.folder = folder
        self.n = 0

    def __call__(self, lines, name: str | None = None, raw: bytes | None = None) -> Path:
        self.n += 1
        path = self.folder / (name or f"feed{self.n}.jsonl")
        if raw is None:
            raw = b"".join(
                (line.encode() if isinstance(line, str) else line if isinstance(line, bytes) else orjson.dumps(line))
                + b"\n"
                for line in lines
            )
        path.write_bytes(raw)
        return path


def ingest(path: Path, now: dt.datetime, source: str = "population", **kw) -> dict:
    return feeds.ingest(source, path, actor=Actor.system("test"), now=now, **kw)


IDENTITY = ("national_id", "surname", "given_name", "patronymic", "birth_date")


def agency(source: str, person: dict, row: dict, suffix: str = "") -> dict:
    """A line of an agency feed about a population record's person (exact identity)."""
    return {
        "record_id": f"{source}-{person['record_id']}{suffix}",
        "changed_at": "2026-01-01T00:00:00+03:00",
        **{k: person[k] for k in IDENTITY},
        **row,
    }
