"""A synthetic population: people, families, homes, names and identifiers.

Built column-wise with numpy. The marginals follow Russia's: the age pyramid
(the 1990s birth slump, the 1980s and 2010s peaks), sex ratio by age, people by
region in proportion to the regions' populations. Families are explicit: couples
share a home and (mostly) a surname, children carry their father's surname and a
patronymic from his given name, adult children leave home over their twenties.
"""

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from muster.registry.regions import FEDERAL_CITIES, REGIONS

from . import geo, names
from .dates import add_years, age_at, from_ymd, ymd

NONE = np.int64(-(10**9))  # "no date" in date columns

# Birth year -> people alive (thousands); Rosstat's pyramid, smoothed.
_PYRAMID = (
    (1920, 0),
    (1926, 30),
    (1930, 80),
    (1935, 170),
    (1940, 380),
    (1942, 250),
    (1944, 220),
    (1946, 500),
    (1950, 900),
    (1955, 1500),
    (1960, 1900),
    (1965, 1950),
    (1970, 1800),
    (1975, 1900),
    (1980, 2150),
    (1985, 2450),
    (1987, 2500),
    (1989, 2200),
    (1991, 1800),
    (1993, 1450),
    (1995, 1350),
    (1999, 1200),
    (2003, 1400),
    (2007, 1550),
    (2010, 1800),
    (2014, 1950),
    (2016, 1850),
    (2018, 1600),
    (2020, 1450),
    (2022, 1300),
    (2024, 1220),
    (2026, 1200),
)
# Age -> share of men (more boys are born; men die earlier).
_MALE_SHARE = (
    (0, 0.513),
    (20, 0.51),
    (30, 0.50),
    (40, 0.48),
    (50, 0.46),
    (60, 0.43),
    (70, 0.37),
    (80, 0.28),
    (90, 0.22),
    (110, 0.15),
)

# Shares of naming traditions among the regions' citizens; the rest are "ru".
_REGION_GROUPS = {
    "16": {"tt": 0.53},
    "02": {"tt": 0.55},
    "05": {"cau": 0.93},
    "20": {"cau": 0.97},
    "06": {"cau": 0.96},
    "07": {"cau": 0.70},
    "09": {"cau": 0.60},
    "01": {"cau": 0.28},
    "15": {"cau": 0.20},
    "26": {"cau": 0.05, "am": 0.04},
    "23": {"am": 0.05, "ua": 0.05},
    "61": {"am": 0.02, "ua": 0.04},
    "73": {"tt": 0.12},
    "58": {"tt": 0.06},
    "56": {"tt": 0.08},
    "74": {"tt": 0.08},
    "72": {"tt": 0.07},
    "86": {"tt": 0.08, "cau": 0.04},
    "89": {"tt": 0.06, "cau": 0.04},
    "18": {"tt": 0.07},
    "21": {"tt": 0.03},
    "77": {"tt": 0.02, "cau": 0.02, "am": 0.02, "ua": 0.03},
    "78": {"ua": 0.03, "tt": 0.01},
    "50": {"ua": 0.03, "am": 0.01},
    "91": {"ua": 0.15, "tt": 0.10},
    "92": {"ua": 0.15},
}
_DEFAULT_GROUPS = {"ua": 0.015}

# Foreign citizens: country, share among foreigners, naming traditions.
_FOREIGN = (
    ("UZ", 0.25, {"ca": 1.0}),
    ("TJ", 0.20, {"ca": 1.0}),
    ("KZ", 0.12, {"ca": 0.6, "ru": 0.4}),
    ("UA", 0.12, {"ua": 0.75, "ru": 0.25}),
    ("AM", 0.10, {"am": 1.0}),
    ("KG", 0.08, {"ca": 1.0}),
    ("AZ", 0.07, {"cau": 1.0}),
    ("BY", 0.06, {"ua": 0.6, "ru": 0.4}),
)
CITIZENSHIPS = ("RU", *(c for c, _, _ in _FOREIGN))
# Migrants concentrate in the capitals and the richest regions.
_FOREIGN_REGION_BIAS = {"77": 3.0, "50": 3.0, "78": 3.0, "23": 1.5, "66": 1.5, "54": 1.5, "16": 1.5}

# A wife takes her husband's surname with this probability, by naming tradition.
_TAKES_NAME = {"ru": 0.9, "ua": 0.9, "tt": 0.85, "cau": 0.5, "ca": 0.6, "am": 0.7}
# Patronymic left blank: for foreign citizens / for citizens of the tradition.
_NO_PATRONYMIC_CITIZEN = {"cau": 0.02, "ca": 0.05, "am": 0.05}

YEAR = 365.25
_DEATH_YEARS = 2


def categorical(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    cum = np.cumsum(p)
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(size), side="right"), len(p) - 1)


@dataclass
class District:
    urban: bool
    city: str  # city, or name of the rural district
    villages: tuple[str, ...]
    village_p: np.ndarray
    postcode: int  # first three digits


@dataclass
class RegionGeo:
    code: str
    address_prefix: str  # "Тульская обл., " ("" for federal cities)
    okato: str
    districts: list[District]
    weights: np.ndarray


@lru_cache(maxsize=1)
def region_geo() -> list[RegionGeo]:
    """Fixed geography (the same for every seed): districts, their cities and villages."""
    rng = np.random.default_rng(7919)
    out = []
    for r in REGIONS:
        okato, (lo, hi), cities = geo.REGION_GEO[r.code]
        k = r.districts
        prefix = "" if r.code in FEDERAL_CITIES else r.name_ru.replace("область", "обл.") + ", "
        dists: list[District] = []
        if r.code in FEDERAL_CITIES:
            w = rng.uniform(0.6, 1.4, size=k)
            for _ in range(k):
                dists.append(District(True, cities[0], (), np.ones(1), int(rng.integers(lo, hi + 1))))
        else:
            n_city = min(len(cities), k - 1)
            rural = k - n_city
            names_pick = rng.permutation(len(geo.RURAL_DISTRICTS))[:rural]
            w_city = 0.72 * names._zipf(n_city, 1.0)
            w_rural = rng.uniform(0.5, 1.5, size=rural)
            w = np.concatenate([w_city, 0.28 * w_rural / w_rural.sum()])
            for i in range(n_city):
                dists.append(District(True, cities[i], (), np.ones(1), int(rng.integers(lo, hi + 1))))
            for j in range(rural):
                vk = int(rng.integers(4, 12))
                vill = tuple(geo.VILLAGES[v] for v in rng.permutation(len(geo.VILLAGES))[:vk])
                dists.append(
                    District(
                        False,
                        geo.RURAL_DISTRICTS[names_pick[j]],
                        vill,
                        names._zipf(vk, 0.8),
                        int(rng.integers(lo, hi + 1)),
                    )
                )
        out.append(RegionGeo(r.code, prefix, okato, dists, w / w.sum()))
    return out


_STREET_NAMES = tuple(s for s, _ in geo.STREETS)
_STREET_P = np.array([w for _, w in geo.STREETS], float)
_STREET_P /= _STREET_P.sum()
# Adjectival street names ("Садовая") agree with "улица" only; others take any kind.
_STREET_ADJ = np.array([s.endswith(("ая", "яя")) for s in _STREET_NAMES])
_CITY_STREET_TYPES = ("ул.", "пр-кт", "пер.", "б-р")
_CITY_STREET_TYPE_P = np.array([0.78, 0.09, 0.1, 0.03])
_SETTLEMENT = tuple(t for t, _ in geo.SETTLEMENT_TYPES)
_SETTLEMENT_P = np.array([p for _, p in geo.SETTLEMENT_TYPES])


def draw_addresses(rng: np.random.Generator, region_idx: np.ndarray) -> dict[str, np.ndarray | list]:
    """District, address string and postcode for homes in the given regions."""
    n = len(region_idx)
    rg = region_geo()
    district = np.zeros(n, np.int64)
    urban = np.zeros(n, bool)
    city = np.empty(n, object)
    village = np.empty(n, object)
    postcode = np.zeros(n, np.int64)
    for ri in np.unique(region_idx):
        sel = np.flatnonzero(region_idx == ri)
        g = rg[ri]
        d = categorical(rng, g.weights, len(sel))
        district[sel] = d
        for di in np.unique(d):
            s2 = sel[d == di]
            dd = g.districts[di]
            urban[s2] = dd.urban
            city[s2] = dd.city
            if dd.urban:
                postcode[s2] = dd.postcode * 1000 + rng.integers(1, 100, size=len(s2))
            else:
                v = categorical(rng, dd.village_p, len(s2))
                village[s2] = np.array(dd.villages, object)[v]
                postcode[s2] = dd.postcode * 1000 + 100 + v * 7 + di % 7
    street = categorical(rng, _STREET_P, n)
    stype = categorical(rng, _CITY_STREET_TYPE_P, n)
    stype[_STREET_ADJ[street] | ~urban] = 0
    house = np.where(
        urban, np.clip(rng.lognormal(2.8, 0.9, n), 1, 250), np.clip(rng.geometric(0.05, n), 1, 120)
    ).astype(np.int64)
    korpus = urban & (rng.random(n) < 0.07)
    korpus_n = rng.integers(1, 5, size=n)
    letter = rng.random(n) < 0.03
    flat = np.where(urban & (rng.random(n) < 0.85), np.clip(rng.lognormal(3.6, 1.0, n), 1, 450), 0)
    flat = flat.astype(np.int64)
    settle = categorical(rng, _SETTLEMENT_P, n)
    addr = []
    prefixes = [g.address_prefix for g in rg]
    for i in range(n):
        h = f"д. {house[i]}" + ("А" if letter[i] else "") + (f", корп. {korpus_n[i]}" if korpus[i] else "")
        if flat[i]:
            h += f", кв. {flat[i]}"
        st = f"{_CITY_STREET_TYPES[stype[i]]} {_STREET_NAMES[street[i]]}"
        if urban[i]:
            addr.append(f"{prefixes[region_idx[i]]}г. {city[i]}, {st}, {h}")
        else:
            place = f"{city[i]} р-н, {_SETTLEMENT[settle[i]]} {village[i]}"
            addr.append(f"{prefixes[region_idx[i]]}{place}, {st}, {h}")
    return {"district": district, "address": addr, "postcode": postcode}


@dataclass
class Population:
    n: int
    horizon: int  # last day with data (the day before as_of)
    birth: np.ndarray
    male: np.ndarray
    death: np.ndarray  # NONE when alive
    husband: np.ndarray  # per woman, -1
    wife: np.ndarray  # per man, -1
    mother: np.ndarray
    father: np.ndarray
    marriage: np.ndarray  # per wife
    divorce: np.ndarray  # per wife
    home: np.ndarray  # index of the person whose home this is
    moved_in: np.ndarray  # per home root
    region: np.ndarray  # index into REGIONS
    district: np.ndarray  # 0-based
    address: np.ndarray  # object, per person
    postcode: np.ndarray  # int, 0 when absent
    citizenship: np.ndarray  # index into CITIZENSHIPS
    group: np.ndarray  # index into names.GROUPS
    surname: np.ndarray  # object: true spelling (with ё)
    given: np.ndarray
    given_idx: np.ndarray
    patronymic: np.ndarray  # object, None when absent
    surname_pop: np.ndarray  # spelling in the population register
    given_pop: np.ndarray
    patronymic_pop: np.ndarray
    national_id: np.ndarray  # object
    spare_ids: list[str]  # valid SNILS that belong to nobody
    tax_id: np.ndarray  # object, None when absent
    phone: np.ndarray
    email: np.ndarray
    changed: np.ndarray  # day of the last change of the population record
    took_name: np.ndarray  # wife bears her husband's surname
    age: np.ndarray = field(default=None)


def _interp(table, x):
    xs, ys = zip(*table, strict=True)
    return np.interp(x, xs, ys)


def _birth_dates(rng, n, horizon):
    hy, _, _ = ymd(np.array([horizon]))
    hy = int(hy[0])
    years = np.arange(1920, hy + 1)
    w = _interp(_PYRAMID, np.minimum(years, 2026)).astype(float)
    start = from_ymd(years, 1, 1)
    length = from_ymd(years + 1, 1, 1) - start
    length[-1] = horizon - start[-1] + 1
    w = w * length / 365.0
    y = categorical(rng, w, n)
    return start[y] + (rng.random(n) * length[y]).astype(np.int64)


def _gumbel_top(rng, weights, k):
    """k indices drawn without replacement with probability proportional to weights."""
    keys = np.log(np.maximum(weights, 1e-300)) + rng.gumbel(size=len(weights))
    keys[weights <= 0] = -np.inf
    k = min(k, int((weights > 0).sum()))
    return np.argpartition(-keys, k - 1)[:k] if k > 0 else np.zeros(0, np.int64)


def _couples(rng, birth, male, age):
    n = len(birth)
    p_men = np.interp(age, [19, 20, 24, 29, 34, 44, 59, 69, 80], [0, 0.12, 0.3, 0.5, 0.62, 0.68, 0.72, 0.72, 0.62])
    men = np.flatnonzero(male & (rng.random(n) < p_men))
    w_women = np.where(
        ~male,
        np.interp(
            age,
            [17, 18, 22, 27, 35, 50, 65, 80, 100],
            [0, 0.05, 0.35, 0.6, 0.7, 0.7, 0.6, 0.35, 0.1],
        ),
        0,
    )
    women = _gumbel_top(rng, w_women, len(men))
    men = rng.permutation(men)[: len(women)]
    # Pair by noisy birth order so that husbands are ~2.5 years older, with spread.
    mk = birth[men] + 2.5 * YEAR + rng.normal(0, 2.5 * YEAR, len(men))
    wk = birth[women] + rng.normal(0, 1.0 * YEAR, len(women))
    men, women = men[np.argsort(mk)], women[np.argsort(wk)]
    husband = np.full(n, -1, np.int64)
    wife = np.full(n, -1, np.int64)
    husband[women] = men
    wife[men] = women
    return husband, wife


def _link_children(rng, birth, male, age, husband):
    n = len(birth)
    p_link = np.interp(age, [0, 17, 18, 30, 31, 45, 46, 60, 61], [0.93, 0.93, 0.85, 0.85, 0.6, 0.6, 0.3, 0.3, 0])
    cand = np.flatnonzero(rng.random(n) < p_link)
    couple_kind = rng.random(n) < 0.82
    married = np.flatnonzero(husband >= 0)
    single = np.flatnonzero((husband < 0) & ~male & (age >= 18))
    pools = []
    for pool in (married, single):
        pool = pool[np.argsort(birth[pool], kind="stable")]
        pools.append((pool, birth[pool]))
    mother = np.full(n, -1, np.int64)
    pending = cand
    by, _, _ = ymd(birth)
    for _ in range(5):
        if len(pending) == 0:
            break
        mean_age = np.clip(24.5 + 0.17 * (by[pending] - 1995), 24.0, 30.0)
        a = np.clip(rng.normal(mean_age, 5.0), 18, 44)
        target = birth[pending] - (a * YEAR).astype(np.int64)
        chosen = np.full(len(pending), -1, np.int64)
        for kind, (pool, pb) in zip((True, False), pools, strict=True):
            sel = np.flatnonzero(couple_kind[pending] == kind)
            if len(pool) == 0 or len(sel) == 0:
                continue
            pos = np.searchsorted(pb, target[sel]) + rng.integers(-3, 4, size=len(sel))
            chosen[sel] = pool[np.clip(pos, 0, len(pool) - 1)]
        ok = chosen >= 0
        m = np.where(ok, chosen, 0)
        gap = (birth[pending] - birth[m]) / YEAR
        ok &= (gap >= 17) & (gap <= 46) & (m != pending)
        f = np.where(ok, husband[m], -1)
        has_f = f >= 0
        fgap = (birth[pending] - birth[np.where(has_f, f, 0)]) / YEAR
        ok &= ~has_f | ((fgap >= 18) & (fgap <= 65) & (f != pending))
        mother[pending[ok]] = chosen[ok]
        failed = pending[~ok]
        # Siblings at least ~10 months apart; a later clash is re-drawn.
        kids = np.flatnonzero(mother >= 0)
        order = kids[np.lexsort((birth[kids], mother[kids]))]
        same = mother[order[1:]] == mother[order[:-1]]
        clash = order[1:][same & ((birth[order[1:]] - birth[order[:-1]]) < 300)]
        mother[clash] = -1
        pending = np.concatenate([failed, clash])
    father = np.where(mother >= 0, husband[np.maximum(mother, 0)], -1)
    father[mother < 0] = -1
    return mother, father


def _propagate(values, parent, rounds=8):
    """values[i] = values[parent[i]] where parent >= 0, through the generations."""
    has = parent >= 0
    idx = np.flatnonzero(has)
    par = parent[idx]
    for _ in range(rounds):
        new = values[par]
        if np.array_equal(new, values[idx]):
            break
        values[idx] = new
    return values


def _snils_check(body: np.ndarray) -> np.ndarray:
    digits = (body[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    total = (digits * np.arange(9, 0, -1)).sum(axis=1)
    total = np.where(total > 101, total % 101, total)
    return np.where(total >= 100, 0, total)


def _inn_digit(digits: np.ndarray, weights) -> np.ndarray:
    return (digits * np.array(weights)).sum(axis=1) % 11 % 10


def inn12(body10: np.ndarray) -> np.ndarray:
    digits = (body10[:, None] // 10 ** np.arange(9, -1, -1)) % 10
    d11 = _inn_digit(digits, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    d12 = _inn_digit(np.column_stack([digits, d11]), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    return body10 * 100 + d11 * 10 + d12


def inn10(body9: np.ndarray) -> np.ndarray:
    digits = (body9[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    return body9 * 10 + _inn_digit(digits, (2, 4, 10, 3, 5, 9, 4, 6, 8))


def unique_ints(rng, low, high, k, exclude=None):
    """k distinct random integers in [low, high), none of them in `exclude`."""
    out = np.zeros(0, np.int64)
    while len(out) < k:
        draw = rng.integers(low, high, size=int((k - len(out)) * 1.1) + 16)
        out = np.concatenate([out, draw])
        _, first = np.unique(out, return_index=True)
        out = out[np.sort(first)]
        if exclude is not None and len(exclude):
            out = out[~np.isin(out, exclude)]
    return out[:k]


_TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "-": "-",
        " ": "",
    }
)
_MAIL_DOMAINS = (
    "mail.ru",
    "yandex.ru",
    "gmail.com",
    "rambler.ru",
    "bk.ru",
    "list.ru",
    "inbox.ru",
    "ya.ru",
)
_MAIL_P = np.array([0.33, 0.27, 0.2, 0.04, 0.05, 0.04, 0.04, 0.03])


def _emails(rng, idx, surname, given, birth_year):
    dom = categorical(rng, _MAIL_P, len(idx))
    pat = rng.integers(0, 5, size=len(idx))
    num = rng.integers(1, 999, size=len(idx))
    seen: dict[str, int] = {}
    out = []
    for j, i in enumerate(idx):
        s = surname[i].lower().translate(_TRANSLIT)
        g = given[i].lower().translate(_TRANSLIT)
        yy = birth_year[i] % 100
        p = pat[j]
        if p == 0:
            local = f"{g}.{s}"
        elif p == 1:
            local = f"{g[0]}.{s}{yy:02d}"
        elif p == 2:
            local = f"{s}.{g}{yy:02d}"
        elif p == 3:
            local = f"{s}{num[j]}"
        else:
            local = f"{g}_{s}{birth_year[i]}"
        email = f"{local}@{_MAIL_DOMAINS[dom[j]]}"
        if email in seen:
            seen[email] += 1
            email = f"{local}{seen[email]}@{_MAIL_DOMAINS[dom[j]]}"
        seen[email] = 1
        out.append(email)
    return out


def _deaths(rng, birth, male, age, horizon, lower):
    q = 0.0005 + 0.00005 * np.exp(0.09 * age)
    q = q * np.where(male, 1.8, 0.7)
    q[age < 1] = 0.005
    # The register keeps the dead of the last two years: about 2% of its records.
    p = np.minimum(1 - (1 - np.minimum(q, 0.9)) ** _DEATH_YEARS, 0.6)
    dead = rng.random(len(birth)) < p
    lo = np.maximum.reduce([birth + 1, np.full(len(birth), horizon - int(_DEATH_YEARS * YEAR)), lower])
    dead &= lo <= horizon
    death = np.full(len(birth), NONE, np.int64)
    span = np.maximum(horizon - lo, 0)
    death[dead] = lo[dead] + (rng.random(dead.sum()) * (span[dead] + 1)).astype(np.int64)
    return death


def build(n: int, rng: np.random.Generator, horizon: int) -> Population:
    birth = _birth_dates(rng, n, horizon)
    age = age_at(birth, horizon)
    male = rng.random(n) < _interp(_MALE_SHARE, age)

    husband, wife = _couples(rng, birth, male, age)
    mother, father = _link_children(rng, birth, male, age, husband)

    # Marriage: usually shortly before the first child, both partners adults.
    is_wife = husband >= 0
    first_child = np.full(n, np.iinfo(np.int64).max, np.int64)
    couple_kid = father >= 0
    np.minimum.at(first_child, mother[couple_kid], birth[couple_kid])
    last_child = np.full(n, NONE, np.int64)
    linked = mother >= 0
    np.maximum.at(last_child, mother[linked], birth[linked])
    np.maximum.at(last_child, father[couple_kid], birth[couple_kid])
    has_kid = first_child < np.iinfo(np.int64).max
    before = rng.random(n) < 0.85
    m_kid = np.where(
        before,
        first_child - (rng.uniform(0.3, 3.5, n) * YEAR).astype(np.int64),
        np.where(has_kid, first_child, 0) + (rng.uniform(0.1, 2.0, n) * YEAR).astype(np.int64),
    )
    m_nokid = birth + (np.clip(rng.normal(24, 4, n), 18, 45) * YEAR).astype(np.int64)
    late = m_nokid > horizon - 30
    m_nokid[late] = horizon - rng.integers(30, 3 * 365, size=late.sum())
    marriage = np.where(has_kid, m_kid, m_nokid)
    h = np.maximum(husband, 0)
    lb = np.maximum(add_years(birth, 18), add_years(birth[h], 18))
    marriage = np.clip(np.maximum(marriage, lb), None, horizon)
    marriage[~is_wife] = NONE
    my, _, _ = ymd(marriage)
    can_divorce = is_wife & (my >= 1990) & (horizon - marriage > 2 * 365)
    divorced = can_divorce & (rng.random(n) < 0.22)
    divorce = np.full(n, NONE, np.int64)
    span = horizon - marriage - 365
    divorce[divorced] = marriage[divorced] + 365 + (rng.random(divorced.sum()) * span[divorced]).astype(np.int64)

    # Death cannot precede one's own children's births, marriage or divorce.
    lower = np.maximum.reduce([last_child, np.where(is_wife, np.maximum(marriage, divorce), NONE)])
    w = np.maximum(wife, 0)
    lower = np.maximum(lower, np.where(wife >= 0, np.maximum(marriage[w], divorce[w]), NONE))
    death = _deaths(rng, birth, male, age, horizon, lower)

    # Homes: wives live with husbands, minors with their mother, young adults leave over time.
    home = np.arange(n)
    living_wife = is_wife & ~divorced
    home[living_wife] = husband[living_wife]
    stay = (
        linked
        & (wife < 0)
        & ~is_wife
        & ((age < 18) | (rng.random(n) < np.interp(age, [18, 22, 26, 30, 40], [0.8, 0.5, 0.25, 0.12, 0.05])))
    )
    home[stay] = mother[stay]
    for _ in range(8):
        home = home[home]
    root = home == np.arange(n)

    # Citizenship per household; migrants are mostly working-age adults.
    p_foreign = np.interp(age, [0, 17, 18, 50, 51, 100], [0.02, 0.02, 0.055, 0.055, 0.012, 0.012])
    cit = np.zeros(n, np.int64)
    foreign = rng.random(n) < p_foreign
    fshare = np.array([s for _, s, _ in _FOREIGN])
    cit[foreign] = 1 + categorical(rng, fshare, foreign.sum())
    movers = root & linked
    inherit = movers & (rng.random(n) < 0.85)
    parent_home = np.where(linked, home[np.maximum(mother, 0)], -1)
    parent_home[~inherit] = -1
    cit = _propagate(cit, parent_home)
    cit = cit[home]

    # Region per household; young adults who leave home mostly stay in the region.
    pop_w = np.array([r.population_k for r in REGIONS], float)
    fw = pop_w * np.array([_FOREIGN_REGION_BIAS.get(r.code, 1.0) for r in REGIONS])
    region = np.where(cit > 0, categorical(rng, fw, n), categorical(rng, pop_w, n))
    same_region = movers & (rng.random(n) < 0.75)
    parent_home = np.where(same_region, home[np.maximum(mother, 0)], -1)
    region = _propagate(region, parent_home)
    region = region[home]

    roots = np.flatnonzero(root)
    addr = draw_addresses(rng, region[roots])
    district = np.zeros(n, np.int64)
    district[roots] = addr["district"]
    district = district[home]
    address = np.empty(n, object)
    address[roots] = addr["address"]
    address = address[home]
    postcode = np.zeros(n, np.int64)
    postcode[roots] = addr["postcode"]
    postcode = postcode[home]
    postcode[rng.random(n) < 0.1] = 0
    adult_day = np.maximum(birth, add_years(birth, 18))
    lo = np.maximum(np.where(age >= 18, adult_day, birth), horizon - int(12 * YEAR))
    moved_in = lo + (rng.random(n) * (horizon - lo + 1)).astype(np.int64)
    moved_in = moved_in[home]
    moved_in = np.maximum(moved_in, birth)

    # Naming tradition of a household, then inherited along the father's line.
    group = np.zeros(n, np.int64)
    gidx = {g: i for i, g in enumerate(names.GROUPS)}
    codes = [r.code for r in REGIONS]
    u = rng.random(n)
    for ri, code in enumerate(codes):
        sel = np.flatnonzero((region == ri) & (cit == 0))
        if len(sel) == 0:
            continue
        shares = _REGION_GROUPS.get(code, _DEFAULT_GROUPS)
        acc = 0.0
        for g, s in shares.items():
            hit = (u[sel] >= acc) & (u[sel] < acc + s)
            group[sel[hit]] = gidx[g]
            acc += s
    for ci, (_, _, shares) in enumerate(_FOREIGN, start=1):
        sel = np.flatnonzero(cit == ci)
        acc = 0.0
        for g, s in shares.items():
            hit = (u[sel] >= acc) & (u[sel] < acc + s)
            group[sel[hit]] = gidx[g]
            acc += s
    group = group[home]
    lineage = np.where(father >= 0, father, np.where(linked, mother, -1))
    group = _propagate(group, lineage)

    # Surnames: drawn per family line, feminine forms for women.
    pools = names.surname_pools()
    all_names: list[str] = []
    offsets = {}
    for g in names.GROUPS:
        offsets[g] = len(all_names)
        all_names += pools[g].names
    masc = np.array(all_names, object)
    fem = np.array([names.feminine(s) for s in all_names], object)
    sidx = np.zeros(n, np.int64)
    for g, gi in gidx.items():
        sel = np.flatnonzero(group == gi)
        sidx[sel] = offsets[g] + categorical(rng, pools[g].probs, len(sel))
    sidx = _propagate(sidx, lineage)
    current = sidx.copy()
    takes = np.array([_TAKES_NAME[g] for g in names.GROUPS])[group]
    took = is_wife & (rng.random(n) < takes)
    took &= ~(divorced & (rng.random(n) < 0.2))
    current[took] = sidx[husband[took]]
    surname = np.where(male, masc[current], fem[current])

    # Given names by tradition, sex and birth cohort.
    gn = names.given_names()
    by, _, _ = ymd(birth)
    cohort = names.cohort_of(by)
    given_idx = np.zeros(n, np.int64)
    vfather = np.zeros(n, np.int64)
    fcohort = names.cohort_of(by - 28)
    for sex, mask in (("M", male), ("F", ~male)):
        for gi in range(len(names.GROUPS)):
            for c in range(len(names.names_ru.COHORT_BOUNDS) + 1):
                sel = np.flatnonzero(mask & (group == gi) & (cohort == c))
                if len(sel):
                    given_idx[sel] = categorical(rng, gn[sex].probs[gi, c], len(sel))
                if sex == "M":
                    sel = np.flatnonzero((group == gi) & (fcohort == c))
                    if len(sel):
                        vfather[sel] = categorical(rng, gn["M"].probs[gi, c], len(sel))
    male_names = np.array(gn["M"].names, object)
    female_names = np.array(gn["F"].names, object)
    given = np.where(male, male_names[given_idx], female_names[np.minimum(given_idx, len(female_names) - 1)])
    fname = np.where(father >= 0, given_idx[np.maximum(father, 0)], vfather)
    pm, pf = names.patronymics()
    patronymic = np.where(male, np.array(pm, object)[fname], np.array(pf, object)[fname])
    no_patr = np.zeros(n)
    for g, gi in gidx.items():
        foreign_rate = names.names_other.GROUPS[g]["no_patronymic"] if g in names.names_other.GROUPS else 0.0
        sel = group == gi
        no_patr[sel] = np.where(cit[sel] > 0, foreign_rate, _NO_PATRONYMIC_CITIZEN.get(g, 0.0))
    patronymic[rng.random(n) < no_patr] = None

    # Registers often write е for ё; the population register does so for some people.
    def plain(col, p):
        out = col.copy()
        for i in np.flatnonzero(rng.random(n) < p):
            if out[i] is not None and "ё" in out[i]:
                out[i] = out[i].replace("ё", "е")
        return out

    surname_pop, given_pop, patronymic_pop = (
        plain(surname, 0.3),
        plain(given, 0.3),
        plain(patronymic, 0.3),
    )

    # Identifiers.
    bodies = unique_ints(rng, 1_001_999, 1_000_000_000, n + max(1000, n // 50))
    snils = bodies * 100 + _snils_check(bodies)
    national_id = np.array([f"{v:011d}" for v in snils[:n]], object)
    spare = [f"{v:011d}" for v in snils[n:]]

    p_inn = np.where(
        cit > 0,
        np.where(age >= 18, 0.4, 0.05),
        np.interp(age, [0, 13, 14, 17, 18], [0.15, 0.15, 0.5, 0.5, 0.92]),
    ).astype(float)
    has_inn = np.flatnonzero(rng.random(n) < p_inn)
    inn_region = region[has_inn].copy()
    moved = rng.random(len(has_inn)) < 0.15
    inn_region[moved] = categorical(rng, pop_w, moved.sum())
    rcode = np.array([int(r.code) for r in REGIONS])[inn_region]
    inspect = 1 + (rng.random(len(has_inn)) * np.clip(pop_w[inn_region] / 150, 2, 40)).astype(np.int64)
    serial = rng.integers(0, 1_000_000, size=len(has_inn))
    body10 = rcode * 10**8 + inspect * 10**6 + serial
    _, first = np.unique(body10, return_index=True)
    keep = np.zeros(len(body10), bool)
    keep[first] = True
    tax_id = np.full(n, None, object)
    tax_id[has_inn[keep]] = [f"{v:012d}" for v in inn12(body10[keep])]

    p_phone = np.interp(age, [0, 9, 10, 13, 14, 18, 75, 90], [0, 0, 0.3, 0.3, 0.8, 0.88, 0.88, 0.6])
    has_phone = rng.random(n) < p_phone
    phone = np.full(n, None, object)
    ph = rng.integers(0, 1_000_000_000, size=has_phone.sum())
    phone[has_phone] = [f"+79{v:09d}" for v in ph]
    p_mail = np.interp(age, [0, 13, 14, 16, 17, 60, 70, 80], [0, 0, 0.3, 0.3, 0.58, 0.58, 0.3, 0.15])
    has_mail = np.flatnonzero(rng.random(n) < p_mail)
    email = np.full(n, None, object)
    email[has_mail] = _emails(rng, has_mail, surname, given, by)

    changed = np.maximum(birth + rng.integers(3, 30, size=n), moved_in)
    dead = death != NONE
    changed[dead] = np.maximum(changed[dead], death[dead] + rng.integers(1, 14, size=dead.sum()))
    changed = np.minimum(changed, horizon)

    return Population(
        n=n,
        horizon=horizon,
        birth=birth,
        male=male,
        death=death,
        husband=husband,
        wife=wife,
        mother=mother,
        father=father,
        marriage=marriage,
        divorce=divorce,
        home=home,
        moved_in=moved_in,
        region=region,
        district=district,
        address=address,
        postcode=postcode,
        citizenship=cit,
        group=group,
        surname=surname,
        given=given,
        given_idx=given_idx,
        patronymic=patronymic,
        surname_pop=surname_pop,
        given_pop=given_pop,
        patronymic_pop=patronymic_pop,
        national_id=national_id,
        spare_ids=spare,
        tax_id=tax_id,
        phone=phone,
        email=email,
        changed=changed,
        took_name=took,
        age=age,
    )
