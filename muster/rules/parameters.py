"""Dated law parameters, read "as of" a date (the OpenFisca idea, in a few lines).

A rule pack keeps `parameters/*.yaml`; every leaf is
`{description, reference, values: {EFFECTIVE_DATE: VALUE, ...}}` and a parameter's
value on a date is the one with the latest effective date not after it.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from django.conf import settings


@dataclass(frozen=True)
class Value:
    name: str
    value: object
    effective: dt.date
    reference: str


class UnknownParameter(KeyError):
    pass


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    reference: str
    values: tuple[tuple[dt.date, object], ...]  # sorted by date

    def at(self, as_of: dt.date) -> Value:
        chosen = None
        for effective, value in self.values:
            if effective <= as_of:
                chosen = (effective, value)
        if chosen is None:
            raise UnknownParameter(f"{self.name}: no value in force on {as_of.isoformat()}")
        return Value(self.name, chosen[1], chosen[0], self.reference)

    def changes(self, until: dt.date) -> list[tuple[dt.date, object, object]]:
        """(date, old, new) for every change that took effect on or before `until`."""
        return [(eff, self.values[i - 1][1], val) for i, (eff, val) in enumerate(self.values) if i and eff <= until]


def _flatten(prefix: str, node: dict, out: dict[str, Parameter]) -> None:
    if "values" in node:
        values = tuple(sorted((as_date(k), v) for k, v in node["values"].items()))
        out[prefix] = Parameter(prefix, node.get("description", ""), node.get("reference", ""), values)
        return
    for key, child in node.items():
        _flatten(f"{prefix}.{key}" if prefix else key, child, out)


def as_date(key) -> dt.date:
    return key if isinstance(key, dt.date) else dt.date.fromisoformat(str(key))


@cache
def load(pack: str | None = None) -> dict[str, Parameter]:
    pack = pack or settings.MUSTER_RULEPACK
    folder = resources.files(f"muster.rulepacks.{pack}") / "parameters"
    out: dict[str, Parameter] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            _flatten("", yaml.safe_load(entry.read_text(encoding="utf-8")) or {}, out)
    return out


def get(name: str, as_of: dt.date, pack: str | None = None) -> Value:
    try:
        return load(pack)[name].at(as_of)
    except KeyError as exc:
        if isinstance(exc, UnknownParameter):
            raise
        raise UnknownParameter(f"unknown parameter {name!r}") from None


def years_before(day: dt.date, years: int) -> dt.date:
    """The date `years` before `day`; 29 February falls back to the 28th.

    Whoever was born on or before this date has turned `years` on `day`, so age
    tests compile to one date comparison, identical in SQL and in Python (a person
    born on 29 February comes of age on 1 March in common years).
    """
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
