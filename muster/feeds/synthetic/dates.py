"""Vectorised calendar arithmetic on dates held as int64 days since 1970-01-01."""

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)
YEAR_DAYS = 365.25


def to_days(d: dt.date) -> int:
    return (d - EPOCH).days


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    y = months.astype("datetime64[Y]").astype(np.int64) + 1970
    m = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, day


def from_ymd(y, m, d) -> np.ndarray:
    """Days of (year, month, day); a day past the month's end becomes its last day."""
    y, m, d = np.broadcast_arrays(np.asarray(y, np.int64), np.asarray(m, np.int64), np.asarray(d, np.int64))
    months = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    start = months.astype("datetime64[D]").astype(np.int64)
    length = (months + 1).astype("datetime64[D]").astype(np.int64) - start
    return start + np.minimum(d, length) - 1


def add_years(days: np.ndarray, years) -> np.ndarray:
    y, m, d = ymd(days)
    return from_ymd(y + years, m, d)


def add_months(days: np.ndarray, months) -> np.ndarray:
    y, m, d = ymd(days)
    total = (y * 12 + (m - 1)) + months
    return from_ymd(total // 12, total % 12 + 1, d)


def age_at(birth: np.ndarray, ref) -> np.ndarray:
    """Completed years of age on `ref` (days, scalar or array)."""
    by, bm, bd = ymd(birth)
    ry, rm, rd = ymd(np.broadcast_to(np.asarray(ref, np.int64), np.shape(birth)))
    return ry - by - ((rm < bm) | ((rm == bm) & (rd < bd)))


def iso(days: np.ndarray) -> list[str]:
    return np.datetime_as_string(np.asarray(days, np.int64).astype("datetime64[D]")).tolist()


def timestamps(days: np.ndarray, rng: np.random.Generator, offset: str = "+03:00") -> list[str]:
    """Office-hours timestamps (08:00-20:00 local) on the given days."""
    days = np.asarray(days, np.int64)
    secs = days * 86400 + rng.integers(8 * 3600, 20 * 3600, size=days.shape)
    text = np.datetime_as_string(secs.astype("datetime64[s]"))
    return [t + offset for t in text.tolist()]


def second_sunday_of_september(year: int) -> dt.date:
    first = dt.date(year, 9, 1)
    return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7)
