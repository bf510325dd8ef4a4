"""Field checkers shared by every source adapter.

A checker takes the raw value (a JSON value, or a CSV string) and returns the
normalised value, or raises `Invalid` with the reason suffix; the framework turns it
into a reason code `<field>.<suffix>` (e.g. `national_id.checksum`).
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from muster.registry import identifiers


class Invalid(Exception):
    def __init__(self, suffix: str):
        self.suffix = suffix


Checker = Callable[[object], object]

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = {n: re.compile(rf"\d{{{n}}}") for n in (2, 3, 6, 10, 11, 12)}
_PHONE_RE = re.compile(r"\+[1-9]\d{7,14}")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ALPHA2_RE = re.compile(r"[A-Z]{2}")
EARLIEST = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Field:
    name: str
    check: Checker
    required: bool = True


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid("type")
    return value


# The checkers below test `isinstance(value, str)` inline rather than calling `_string`:
# they run once per field of every feed line, where a call is a measurable share.


def text(max_len: int = 200) -> Checker:
    def check(value):
        if not isinstance(value, str):
            raise Invalid("type")
        value = value.strip()
        if not value:
            raise Invalid("missing")
        if len(value) > max_len:
            raise Invalid("too_long")
        return value

    return check


def enum(*allowed: str) -> Checker:
    allowed_set = frozenset(allowed)

    def check(value):
        if not isinstance(value, str):
            raise Invalid("type")
        if value not in allowed_set:
            raise Invalid("enum")
        return value

    return check


def pattern(regex: re.Pattern) -> Checker:
    fullmatch = regex.fullmatch

    def check(value):
        if not isinstance(value, str):
            raise Invalid("type")
        if not fullmatch(value):
            raise Invalid("format")
        return value

    return check


def digits(n: int) -> Checker:
    return pattern(_DIGITS[n])


def _checksummed(n: int, valid: Callable[[str], bool]) -> Checker:
    fullmatch = _DIGITS[n].fullmatch

    def check(value):
        if not isinstance(value, str):
            raise Invalid("type")
        if not fullmatch(value):
            raise Invalid("format")
        if not valid(value):
            raise Invalid("checksum")
        return value

    return check


snils = _checksummed(11, identifiers.snils_valid)
inn12 = _checksummed(12, identifiers.inn12_valid)
inn10 = _checksummed(10, identifiers.inn10_valid)
phone = pattern(_PHONE_RE)
email = pattern(_EMAIL_RE)
alpha2 = pattern(_ALPHA2_RE)


_DATE_CACHE_MAX = 100_000


def date(today: dt.date, allow_future: bool = False) -> Checker:
    # A feed has far fewer distinct dates than lines (birth dates repeat across a
    # population), so the valid ones are remembered; the cache is bounded.
    valid: dict[str, dt.date] = {}
    fullmatch = _DATE_RE.fullmatch

    def check(value):
        if not isinstance(value, str):
            raise Invalid("type")
        day = valid.get(value)
        if day is not None:
            return day
        if not fullmatch(value):
            raise Invalid("format")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise Invalid("format") from None
        if day < EARLIEST:
            raise Invalid("too_old")
        if not allow_future and day > today:
            raise Invalid("future")
        if len(valid) >= _DATE_CACHE_MAX:
            valid.clear()
        valid[value] = day
        return day

    return check


def timestamp(latest: dt.datetime) -> Checker:
    """An ISO 8601 timestamp with offset, not later than `latest`."""

    def check(value):
        try:
            moment = dt.datetime.fromisoformat(_string(value))
        except ValueError:
            raise Invalid("format") from None
        if moment.tzinfo is None:
            raise Invalid("offset_missing")
        if moment > latest:
            raise Invalid("future")
        return moment

    return check


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise Invalid("type")


def record_id(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    value = _string(value).strip()
    if not value:
        raise Invalid("missing")
    if len(value) > 64:
        raise Invalid("too_long")
    return value


FieldsCheck = Callable[[dict], tuple[dict, list[str]]]


def compile_fields(fields: tuple[Field, ...]) -> FieldsCheck:
    """`check_fields` for one source's fields, with what does not depend on the record
    (names, reason codes) worked out once rather than per line."""
    plan = tuple((f.name, f.check, f.required, f"{f.name}.missing", f"{f.name}.") for f in fields)

    def check(record: dict) -> tuple[dict, list[str]]:
        out: dict = {}
        reasons: list[str] = []
        get = record.get
        for name, checker, required, missing, prefix in plan:
            value = get(name)
            if value is None or value == "":
                if required:
                    reasons.append(missing)
                continue
            try:
                out[name] = checker(value)
            except Invalid as exc:
                reasons.append(prefix + exc.suffix)
        return out, reasons

    return check


def check_fields(record: dict, fields: tuple[Field, ...]) -> tuple[dict, list[str]]:
    """Validate the declared fields; undeclared fields are dropped (never stored)."""
    return compile_fields(fields)(record)
