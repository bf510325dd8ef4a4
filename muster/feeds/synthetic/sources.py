"""Agency feeds derived from a synthetic population, with realistic identity noise."""

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from muster.registry.regions import REGIONS

from . import dates
from .dates import YEAR_DAYS, add_months, add_years, from_ymd, ymd
from .population import (
    NONE,
    Population,
    categorical,
    draw_addresses,
    inn10,
    region_geo,
    unique_ints,
)

REGION_CODES = np.array([r.code for r in REGIONS], object)


@dataclass(frozen=True)
class Noise:
    """Shares of non-population records with each kind of error."""

    missing_id: float = 0.08
    wrong_id: float = 0.005  # valid checksum, another person's or nobody's
    typo: float = 0.03  # one edit in surname or given name
    yo: float = 0.25  # of names containing ё: spelt the other way than in the population
    swap: float = 0.01  # given name and patronymic exchanged
    day_month: float = 0.01  # birth date with day and month transposed
    stale_address: float = 0.05  # interior only


NO_NOISE = Noise(0, 0, 0, 0, 0, 0, 0)


@dataclass
class Table:
    source: str
    prefix: str
    person: np.ndarray
    changed: np.ndarray  # days
    fields: list[tuple[str, list]] = field(default_factory=list)  # None values are omitted


def _u(rng, lo, hi):
    """Uniform integer days in [lo, hi] elementwise (hi < lo gives lo)."""
    lo = np.asarray(lo, np.int64)
    span = np.maximum(np.asarray(hi, np.int64) - lo, 0)
    return lo + (rng.random(np.shape(lo)) * (span + 1)).astype(np.int64)


def _dates(values: np.ndarray) -> list:
    values = np.asarray(values, np.int64)
    out = dates.iso(np.where(values == NONE, 0, values))
    if (values == NONE).any():
        for i in np.flatnonzero(values == NONE):
            out[i] = None
    return out


def _alive(pop: Population) -> np.ndarray:
    return pop.death == NONE


# ---------------------------------------------------------------- sources


def interior(pop: Population, rng, noise: Noise) -> Table:
    h = pop.horizon
    p = np.flatnonzero(_alive(pop) & (pop.citizenship == 0) & (pop.age >= 14))
    b = pop.birth[p]
    k = len(p)
    issue = add_years(b, 14) + rng.integers(0, 60, size=k)
    for years in (20, 45):
        again = add_years(b, years) + rng.integers(0, 60, size=k)
        issue = np.where(again <= h, again, issue)
    # A new surname on marriage means a new passport.
    m = pop.marriage[p]
    renamed = pop.took_name[p] & (m > issue) & (m + 60 <= h)
    issue[renamed] = m[renamed] + rng.integers(7, 60, size=renamed.sum())
    lost = rng.random(k) < 0.04
    issue[lost] = _u(rng, issue[lost], np.full(lost.sum(), h))
    issue = np.minimum(issue, h)

    okato = np.array([g.okato for g in region_geo()], object)
    reg = pop.region[p].copy()
    elsewhere = rng.random(k) < 0.1
    reg[elsewhere] = rng.integers(0, len(REGIONS), size=elsewhere.sum())
    iy, _, _ = ymd(issue)
    yy = (iy - (rng.random(k) < 0.2)) % 100
    numbers = unique_ints(rng, 0, 1_000_000, k) if k <= 500_000 else None
    if numbers is None:
        numbers = rng.integers(0, 1_000_000, size=k)
    series = np.array([int(o) for o in okato[reg]]) * 100 + yy
    passport = series * 1_000_000 + numbers
    # Series and number together must be unique.
    while True:
        _, first = np.unique(passport, return_index=True)
        dup = np.ones(k, bool)
        dup[first] = False
        if not dup.any():
            break
        passport[dup] = series[dup] * 1_000_000 + rng.integers(0, 1_000_000, size=dup.sum())

    region = pop.region[p].copy()
    district = pop.district[p].copy()
    address = pop.address[p].copy()
    moved = pop.moved_in[p]
    changed = np.maximum(issue + rng.integers(0, 5, size=k), moved + rng.integers(0, 10, size=k))
    # Stale: the ministry has not yet heard of the latest move.
    eligible = np.flatnonzero(issue < moved - 60)
    if noise.stale_address and len(eligible):
        share = min(1.0, noise.stale_address * k / len(eligible))
        stale = eligible[rng.random(len(eligible)) < share]
        old_region = region[stale].copy()
        away = rng.random(len(stale)) < 0.3
        old_region[away] = categorical(rng, np.array([r.population_k for r in REGIONS], float), away.sum())
        old = draw_addresses(rng, old_region)
        region[stale] = old_region
        district[stale] = old["district"]
        address[stale] = old["address"]
        changed[stale] = _u(rng, issue[stale], (issue[stale] + moved[stale]) // 2)
    changed = np.minimum(changed, h)

    male = pop.male[p]
    age = pop.age[p]
    adult_m = male & (age >= 18) & (age <= 60)
    p_unexp = np.where(adult_m, 0.02, np.where(age >= 18, 0.003, 0.002))
    p_exp = np.where(adult_m, 0.03, np.where(age >= 18, 0.005, 0.001))
    r = rng.random(k)
    conviction = np.where(r < p_unexp, "unexpunged", np.where(r < p_unexp + p_exp, "expunged", "none"))
    until = np.full(k, NONE, np.int64)
    une = (conviction == "unexpunged") & (rng.random(k) < 0.8)
    until[une] = h + rng.integers(30, int(8 * YEAR_DAYS), size=une.sum())
    exp = (conviction == "expunged") & (rng.random(k) < 0.8)
    until[exp] = np.maximum(h - rng.integers(30, int(10 * YEAR_DAYS), size=exp.sum()), add_years(b[exp], 16))
    until[exp] = np.minimum(until[exp], h)
    young_m = male & (age >= 18) & (age <= 50)
    r = rng.random(k)
    p_inv = np.where(young_m, 0.004, 0.001)
    p_court = np.where(young_m, 0.0025, 0.0005)
    case = np.where(r < p_inv, "investigation", np.where(r < p_inv + p_court, "court", "none"))
    return Table(
        "interior",
        "INT",
        p,
        changed,
        [
            ("passport_number", [f"{v:010d}" for v in passport.tolist()]),
            ("passport_issued_on", _dates(issue)),
            ("region", REGION_CODES[region].tolist()),
            ("district", [f"{d + 1:03d}" for d in district.tolist()]),
            ("address", address.tolist()),
            ("conviction", conviction.tolist()),
            ("conviction_until", _dates(until)),
            ("criminal_case", case.tolist()),
        ],
    )


FITNESS = np.array(["A", "B", "V", "G", "D"], object)
FITNESS_P = np.array([0.35, 0.45, 0.10, 0.07, 0.03])


def health(pop: Population, rng, noise: Noise) -> Table:
    h = pop.horizon
    k_all = pop.n
    sel = _alive(pop) & (pop.citizenship == 0) & pop.male & (pop.age >= 17) & (pop.age <= 30)
    p = np.flatnonzero(sel & (rng.random(k_all) < 0.85))
    by, _, _ = ymd(pop.birth[p])
    lo = np.minimum(np.maximum(from_ymd(by + 17, 1, 10), h - int(3 * YEAR_DAYS)), h)
    exam = _u(rng, lo, np.full(len(p), h))
    cat = FITNESS[categorical(rng, FITNESS_P, len(p))]
    until = np.full(len(p), NONE, np.int64)
    g = cat == "G"
    months = np.where(rng.random(g.sum()) < 0.5, 6, 12)
    until[g] = np.minimum(add_months(exam[g], months), exam[g] + 365)
    changed = np.minimum(exam + rng.integers(0, 14, size=len(p)), h)
    return Table(
        "health",
        "HLT",
        p,
        changed,
        [
            ("fitness_category", cat.tolist()),
            ("examined_on", _dates(exam)),
            ("valid_until", _dates(until)),
        ],
    )


@lru_cache(maxsize=1)
def _institutions(seed: int):
    """Per region: ids and accreditation of schools, colleges and universities (fixed)."""
    rng_fixed = np.random.default_rng(seed)
    out = {}
    kinds = (("school", 5, 5, 0.995), ("college", 30, 2, 0.96), ("uni", 150, 1, 0.92))
    for ri, r in enumerate(REGIONS):
        sizes = [max(minimum, r.population_k // per_k) for _, per_k, minimum, _ in kinds]
        # Distinct serials within the region keep every institution's id unique.
        serials = rng_fixed.choice(4_000_000, size=sum(sizes), replace=False)
        start = 0
        for (kind, _, _, acc), n in zip(kinds, sizes, strict=True):
            body9 = int(r.code) * 10**7 + serials[start : start + n]
            start += n
            ids = np.array([f"{v:010d}" for v in inn10(body9)], object)
            out[(ri, kind)] = (ids, rng_fixed.random(n) < acc)
    return out


def _institution(rng, region, kind):
    table = _institutions(4242)
    ids = np.empty(len(region), object)
    acc = np.zeros(len(region), bool)
    for ri in np.unique(region):
        sel = np.flatnonzero(region == ri)
        pool_ids, pool_acc = table[(int(ri), kind)]
        # A few large institutions take most students.
        w = 1.0 / np.arange(1, len(pool_ids) + 1) ** 0.7
        j = categorical(rng, w, len(sel))
        ids[sel] = pool_ids[j]
        acc[sel] = pool_acc[j]
    return ids, acc


_FORMS = np.array(["full_time", "part_time", "extramural"], object)


def education(pop: Population, rng, noise: Noise) -> Table:
    """Study careers of 15-30-year-olds: school, college, university, then beyond."""
    h = pop.horizon
    base = np.flatnonzero(_alive(pop) & (pop.age >= 15) & (pop.age <= 30))
    base = base[(pop.citizenship[base] == 0) | (rng.random(len(base)) < 0.5)]
    k = len(base)
    by, bm, _ = ymd(pop.birth[base])
    school_start = by + 7 + (bm >= 9)
    rows = []  # (person positions, level, start_year, years, form, kind, expel_p)

    def prog(idx, level, start_year, years, form, kind, expel):
        rows.append((idx, level, start_year, years, form, kind, expel))

    college9 = rng.random(k) < 0.32
    full = np.zeros(k, np.int64)
    allk = np.arange(k)
    prog(allk, "school", school_start, np.where(college9, 9, 11), full, "school", 0.0)
    gap = (rng.random(k) < 0.08).astype(np.int64)
    c9 = allk[college9]
    c9_years = np.where(rng.random(len(c9)) < 0.55, 4, 3)
    c9_start = school_start[c9] + 9 + gap[c9]
    prog(
        c9,
        "secondary_vocational",
        c9_start,
        c9_years,
        np.where(rng.random(len(c9)) < 0.93, 0, 1),
        "college",
        0.12,
    )
    g11 = allk[~college9]
    r = rng.random(len(g11))
    after11 = school_start[g11] + 11 + gap[g11]
    uni = g11[r < 0.62]
    col11 = g11[(r >= 0.62) & (r < 0.77)]
    col11_years = np.where(rng.random(len(col11)) < 0.5, 2, 3)
    col11_start = after11[(r >= 0.62) & (r < 0.77)]
    prog(
        col11,
        "secondary_vocational",
        col11_start,
        col11_years,
        np.where(rng.random(len(col11)) < 0.85, 0, 2),
        "college",
        0.12,
    )
    # Some college graduates go on to university, usually by correspondence.
    col_all = np.concatenate([c9, col11])
    col_end = np.concatenate([c9_start + c9_years, col11_start + col11_years])
    onward = rng.random(len(col_all)) < 0.25
    later = col_all[onward]
    later_start = col_end[onward] + rng.integers(0, 3, size=onward.sum())
    prog(
        later,
        "bachelor",
        later_start,
        np.full(len(later), 4),
        categorical(rng, np.array([0.15, 0.25, 0.6]), len(later)),
        "uni",
        0.15,
    )

    uni_start = after11[r < 0.62]
    spec = rng.random(len(uni)) < 0.28
    medic = spec & (rng.random(len(uni)) < 0.2)
    years = np.where(spec, np.where(medic, 6, 5), 4)
    form = categorical(rng, np.array([0.70, 0.08, 0.22]), len(uni))
    form[medic] = 0
    expelled_uni = rng.random(len(uni)) < 0.14
    rows.append((uni, np.where(spec, "specialist", "bachelor"), uni_start, years, form, "uni", expelled_uni))
    done = ~expelled_uni
    end = uni_start + years
    master = done & ~spec & (rng.random(len(uni)) < 0.35)
    prog(
        uni[master],
        "master",
        end[master],
        np.full(master.sum(), 2),
        categorical(rng, np.array([0.6, 0.1, 0.3]), master.sum()),
        "uni",
        0.08,
    )
    resid = done & medic & (rng.random(len(uni)) < 0.7)
    prog(
        uni[resid],
        "residency",
        end[resid],
        np.full(resid.sum(), 2),
        np.zeros(resid.sum(), np.int64),
        "uni",
        0.03,
    )
    pg_from = np.concatenate([uni[master], uni[done & spec & ~medic]])
    pg_start = np.concatenate([end[master] + 2, end[done & spec & ~medic]])
    pg = rng.random(len(pg_from)) < 0.07
    prog(
        pg_from[pg],
        "postgraduate",
        pg_start[pg],
        np.full(pg.sum(), 4),
        np.where(rng.random(pg.sum()) < 0.6, 0, 2),
        "uni",
        0.25,
    )

    people, levels, starts, ends, forms, ids, accs, status, changed = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    home_region = pop.region[base]
    pop_w = np.array([r.population_k for r in REGIONS], float)
    capitals = np.array([ri for ri, r in enumerate(REGIONS) if r.code in ("77", "78")])
    for idx, level, start_year, yrs, frm, kind, expel in rows:
        if len(idx) == 0:
            continue
        start_year = np.asarray(start_year)
        frm = np.asarray(frm)
        start = np.where(frm == 2, from_ymd(start_year, 10, 1), from_ymd(start_year, 9, 1))
        planned = from_ymd(start_year + yrs, 6, 30)
        # Only careers still visible: started by the horizon, ended within six years.
        keep = (start <= h) & (planned >= h - int(6 * YEAR_DAYS))
        if isinstance(level, str) and level == "school":
            keep &= planned > h  # schools report their current pupils only
        idx, start, planned, frm = idx[keep], start[keep], planned[keep], frm[keep]
        lev = np.broadcast_to(np.asarray(level, object), keep.shape)[keep]
        out = expel[keep] if isinstance(expel, np.ndarray) else rng.random(len(idx)) < expel
        expel_day = _u(rng, start + 30, planned - 30)
        out &= expel_day <= h
        st = np.where(
            out,
            "expelled",
            np.where(
                planned < h,
                "graduated",
                np.where(rng.random(len(idx)) < 0.04, "academic_leave", "enrolled"),
            ),
        )
        lev = np.asarray(lev, object)
        st = np.where(lev == "school", "enrolled", st)
        ch = np.where(
            st == "expelled",
            expel_day,
            np.where(
                st == "graduated",
                planned + rng.integers(0, 20, size=len(idx)),
                np.where(
                    st == "academic_leave",
                    _u(rng, start, np.full(len(idx), h)),
                    start + rng.integers(0, 20, size=len(idx)),
                ),
            ),
        )
        reg = home_region[idx].copy()
        if kind == "uni":
            rr = rng.random(len(idx))
            to_cap = rr < 0.18
            reg[to_cap] = capitals[rng.integers(0, len(capitals), size=to_cap.sum())]
            anywhere = (rr >= 0.18) & (rr < 0.3)
            reg[anywhere] = categorical(rng, pop_w, anywhere.sum())
        iid, acc = _institution(rng, reg, kind)
        people.append(base[idx])
        levels.append(lev)
        starts.append(start)
        ends.append(planned)
        forms.append(_FORMS[frm])
        ids.append(iid)
        accs.append(acc)
        status.append(st.astype(object))
        changed.append(np.minimum(ch, h))
    if not people:
        return Table("education", "EDU", np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    person = np.concatenate(people)
    return Table(
        "education",
        "EDU",
        person,
        np.concatenate(changed),
        [
            ("institution_id", np.concatenate(ids).tolist()),
            ("institution_accredited", np.concatenate(accs).tolist()),
            ("level", np.concatenate(levels).tolist()),
            ("study_form", np.concatenate(forms).tolist()),
            ("status", np.concatenate(status).tolist()),
            ("start_date", _dates(np.concatenate(starts))),
            ("planned_end_date", _dates(np.concatenate(ends))),
        ],
    )


def elections(pop: Population, rng, noise: Noise) -> Table:
    h = pop.horizon
    hy = int(ymd(np.array([h]))[0][0])
    p = np.flatnonzero(_alive(pop) & (pop.citizenship == 0) & (pop.age >= 21) & (rng.random(pop.n) < 0.001))
    k = len(p)
    deputy = rng.random(k) < 0.75
    level = np.where(
        deputy,
        np.array(["federal", "regional", "municipal"], object)[categorical(rng, np.array([0.005, 0.1, 0.895]), k)],
        np.array(["federal", "regional", "municipal"], object)[categorical(rng, np.array([0.03, 0.17, 0.8]), k)],
    )
    voting_days = []
    for y in range(hy - 5, hy + 1):
        d = dates.to_days(dates.second_sunday_of_september(y))
        if d <= h:
            voting_days.append(d)
    voting_days = np.array(voting_days[-5:], np.int64)
    elected = voting_days[rng.integers(0, len(voting_days), size=k)]
    term_start = np.minimum(elected + rng.integers(7, 30, size=k), h)
    term_end = add_years(term_start, 5) - 1
    # Candidates: registered for an election within the next ten weeks.
    ahead = h + rng.integers(7, 75, size=k)
    weekday = (ahead + 3) % 7  # 0 = Monday for days since 1970-01-01 (a Thursday)
    election_date = ahead + (6 - weekday)
    registered = np.minimum(election_date - rng.integers(20, 55, size=k), h)
    changed = np.where(deputy, term_start + rng.integers(0, 10, size=k), registered)
    return Table(
        "elections",
        "ELE",
        p,
        np.minimum(changed, h),
        [
            ("role", np.where(deputy, "deputy", "candidate").tolist()),
            ("level", level.tolist()),
            ("term_start", _dates(np.where(deputy, term_start, NONE))),
            ("term_end", _dates(np.where(deputy, term_end, NONE))),
            ("election_date", _dates(np.where(deputy, NONE, election_date))),
        ],
    )


_IT_REGIONS = {
    "77": 30,
    "78": 12,
    "50": 6,
    "16": 4,
    "54": 4,
    "66": 3,
    "52": 3,
    "63": 2,
    "61": 2,
    "23": 2,
}


def _employers(rng_fixed, n=3000):
    codes = [r.code for r in REGIONS]
    w = np.array([_IT_REGIONS.get(c, 0.3) for c in codes], float)
    reg = categorical(rng_fixed, w, n)
    body9 = np.array([int(codes[r]) for r in reg]) * 10**7 + (1 + rng_fixed.integers(0, 40, size=n)) * 10**5
    body9 += rng_fixed.permutation(100_000)[:n]
    return np.array([f"{v:010d}" for v in inn10(body9)], object), rng_fixed.random(n) < 0.92


def digital(pop: Population, rng, noise: Noise) -> Table:
    h = pop.horizon
    ok = _alive(pop) & (pop.citizenship == 0) & (pop.age >= 18) & (pop.age <= 35)
    rate = np.where(pop.male, 0.015, 0.005)
    p = np.flatnonzero(ok & (rng.random(pop.n) < rate))
    k = len(p)
    ids, acc = _employers(np.random.default_rng(777))
    j = categorical(rng, 1.0 / np.arange(1, len(ids) + 1) ** 0.9, k)
    lo = np.maximum(add_years(pop.birth[p], 18), h - int(10 * YEAR_DAYS))
    since = _u(rng, lo, np.full(k, h - 1))
    changed = np.minimum(since + rng.integers(0, 30, size=k), h)
    return Table(
        "digital",
        "DIG",
        p,
        changed,
        [
            ("employer_tax_id", ids[j].tolist()),
            ("employer_accredited", acc[j].tolist()),
            ("employed_since", _dates(since)),
            ("listed_specialty_degree", (rng.random(k) < 0.65).tolist()),
        ],
    )


CIVIL_FROM = dates.to_days(dates.dt.date(1995, 1, 1))


def civil(pop: Population, rng, noise: Noise) -> Table:
    """Acts since 1995 about a person: their marriages, divorces, children, and deaths."""
    h = pop.horizon
    person, event, day, child_birth, disabled = [], [], [], [], []

    def add(who, what, when, cb=None, dis=None):
        person.append(who)
        event.append(np.full(len(who), what, object))
        day.append(when)
        child_birth.append(np.full(len(who), NONE, np.int64) if cb is None else cb)
        disabled.append(np.full(len(who), None, object) if dis is None else dis)

    wives = np.flatnonzero((pop.husband >= 0) & (pop.marriage >= CIVIL_FROM))
    for who in (wives, pop.husband[wives]):
        add(who, "marriage", pop.marriage[wives])
    div = np.flatnonzero((pop.husband >= 0) & (pop.divorce != NONE) & (pop.divorce >= CIVIL_FROM))
    for who in (div, pop.husband[div]):
        add(who, "divorce", pop.divorce[div])
    kids = np.flatnonzero((pop.mother >= 0) & (pop.birth >= CIVIL_FROM))
    dis = (rng.random(len(kids)) < 0.02).astype(object)
    add(pop.mother[kids], "child_birth", pop.birth[kids], pop.birth[kids], dis)
    fk = pop.father[kids] >= 0
    add(pop.father[kids][fk], "child_birth", pop.birth[kids][fk], pop.birth[kids][fk], dis[fk])
    dead_kids = np.flatnonzero((pop.mother >= 0) & (pop.death != NONE))
    for parent in (pop.mother, pop.father):
        who = parent[dead_kids]
        ok = who >= 0
        add(who[ok], "child_death", pop.death[dead_kids][ok], pop.birth[dead_kids][ok])
    dead = np.flatnonzero(pop.death != NONE)
    add(dead, "death", pop.death[dead])

    person = np.concatenate(person)
    day = np.concatenate(day)
    cb = np.concatenate(child_birth)
    changed = np.minimum(day + rng.integers(0, 10, size=len(day)), h)
    return Table(
        "civil",
        "CIV",
        person,
        changed,
        [
            ("event", np.concatenate(event).tolist()),
            ("event_date", _dates(day)),
            ("child_birth_date", _dates(cb)),
            ("child_disabled", np.concatenate(disabled).tolist()),
        ],
    )


_RELATIONS = np.array(["mother", "father", "grandmother", "grandfather", "sibling", "spouse", "child"], object)
_RELATION_P = np.array([0.35, 0.2, 0.15, 0.07, 0.1, 0.08, 0.05])


def social(pop: Population, rng, noise: Noise) -> Table:
    h = pop.horizon
    ok = _alive(pop) & (pop.citizenship == 0) & (pop.age >= 18) & (pop.age <= 75)
    # Guardians of minor siblings: young adults whose mother has a child under 18.
    youngest = np.full(pop.n, -(10**9), np.int64)
    kids = np.flatnonzero(pop.mother >= 0)
    np.maximum.at(youngest, pop.mother[kids], pop.birth[kids])
    has_minor_sibling = np.zeros(pop.n, bool)
    m = np.maximum(pop.mother, 0)
    has_minor_sibling[kids] = (pop.mother[kids] >= 0) & (youngest[m[kids]] > add_years(np.array([h]), -18)[0])
    guardian = np.flatnonzero(ok & has_minor_sibling & (pop.age <= 35) & (rng.random(pop.n) < 0.01))
    carers = np.flatnonzero(ok & (rng.random(pop.n) < 0.0045))
    carers = carers[~np.isin(carers, guardian)]
    p = np.concatenate([carers, guardian])
    k = len(p)
    care = np.array(["disabled_relative"] * len(carers) + ["minor_sibling_guardian"] * len(guardian), object)
    relation = _RELATIONS[categorical(rng, _RELATION_P, k)]
    relation[care == "minor_sibling_guardian"] = "sibling"
    lo = np.maximum(add_years(pop.birth[p], 18), h - int(10 * YEAR_DAYS))
    start = _u(rng, lo, np.full(k, h - 1))
    end = np.full(k, NONE, np.int64)
    ended = rng.random(k) < 0.25
    end[ended] = _u(rng, start[ended] + 1, np.full(ended.sum(), h))
    changed = np.minimum(np.where(ended, end, start) + rng.integers(0, 10, size=k), h)
    return Table(
        "social",
        "SOC",
        p,
        changed,
        [
            ("care_type", care.tolist()),
            ("relation", relation.tolist()),
            ("start_date", _dates(start)),
            ("end_date", _dates(end)),
            ("other_carers", (rng.random(k) < 0.35).tolist()),
        ],
    )


BUILDERS = (interior, health, education, elections, digital, civil, social)


# ---------------------------------------------------------------- identity noise

_ROWS = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
_KEYPOS = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
_PHONETIC = {
    "а": "о",
    "о": "а",
    "е": "и",
    "и": "е",
    "ы": "и",
    "т": "д",
    "д": "т",
    "с": "з",
    "з": "с",
    "п": "б",
    "б": "п",
    "ш": "щ",
    "щ": "ш",
    "в": "ф",
    "ф": "в",
    "г": "к",
    "к": "г",
    "ж": "ш",
    "э": "е",
    "я": "е",
    "ю": "у",
    "й": "и",
    "л": "д",
    "н": "м",
    "м": "н",
}


def _neighbours(c: str) -> str:
    if c not in _KEYPOS:
        return ""
    r, i = _KEYPOS[c]
    out = []
    for dr, di in ((0, -1), (0, 1), (-1, 0), (-1, 1), (1, 0), (1, -1)):
        rr, ii = r + dr, i + di
        if 0 <= rr < 3 and 0 <= ii < len(_ROWS[rr]):
            out.append(_ROWS[rr][ii])
    return "".join(ch for ch in out if ch not in "ъь")


def typo(s: str, u: np.ndarray) -> str:
    """One substitution, deletion, transposition or doubling; u: five uniforms."""
    if len(s) < 3:
        return s
    pos = 1 + int(u[1] * (len(s) - 1))  # first letters are rarely mistyped
    low = s.lower()
    op = u[0]
    if op < 0.45:
        c = low[pos]
        if c in _PHONETIC and u[2] < 0.5:
            rep = _PHONETIC[c]
        else:
            nb = _neighbours(c)
            if not nb:
                return s[:pos] + s[pos + 1 :]
            rep = nb[int(u[3] * len(nb))]
        return s[:pos] + rep + s[pos + 1 :]
    if op < 0.7:
        return s[:pos] + s[pos + 1 :]
    if op < 0.9 and pos < len(s) - 1 and s[pos] != s[pos + 1]:
        return s[:pos] + s[pos + 1] + s[pos] + s[pos + 2 :]
    return s[:pos] + s[pos] + s[pos:]


def _yo_other(true: str, pop: str) -> str:
    """The spelling of `true` that the population register did not use."""
    return true if pop != true else true.replace("ё", "е")


def identity(pop: Population, person: np.ndarray, rng, noise: Noise) -> dict[str, list]:
    k = len(person)
    sur = pop.surname_pop[person].copy()
    giv = pop.given_pop[person].copy()
    pat = pop.patronymic_pop[person].copy()
    if noise.yo:
        for pop_col, true_col in ((sur, pop.surname), (giv, pop.given), (pat, pop.patronymic)):
            true = true_col[person]
            flip = np.flatnonzero(rng.random(k) < noise.yo)
            for i in flip:
                t = true[i]
                if t is not None and "ё" in t:
                    pop_col[i] = _yo_other(t, pop_col[i])
    if noise.typo:
        hit = np.flatnonzero(rng.random(k) < noise.typo)
        u = rng.random((len(hit), 6))
        for j, i in enumerate(hit):
            if u[j, 5] < 0.6:
                sur[i] = typo(sur[i], u[j])
            else:
                giv[i] = typo(giv[i], u[j])
    if noise.swap:
        hit = np.flatnonzero(rng.random(k) < noise.swap)
        for i in hit:
            if pat[i] is not None:
                giv[i], pat[i] = pat[i], giv[i]
    birth = pop.birth[person].copy()
    if noise.day_month:
        y, m, d = ymd(birth)
        eligible = np.flatnonzero((d <= 12) & (d != m))
        if len(eligible):
            share = min(1.0, noise.day_month * k / len(eligible))
            hit = eligible[rng.random(len(eligible)) < share]
            birth[hit] = from_ymd(y[hit], d[hit], m[hit])
    nid = pop.national_id[person].copy()
    if noise.missing_id or noise.wrong_id:
        r = rng.random(k)
        wrong = np.flatnonzero((r >= noise.missing_id) & (r < noise.missing_id + noise.wrong_id))
        other = rng.integers(0, pop.n, size=len(wrong))
        spare = rng.integers(0, len(pop.spare_ids), size=len(wrong))
        someone = rng.random(len(wrong)) < 0.5
        for j, i in enumerate(wrong):
            if someone[j] and other[j] != person[i]:
                nid[i] = pop.national_id[other[j]]
            else:
                nid[i] = pop.spare_ids[spare[j]]
        nid[r < noise.missing_id] = None
    return {
        "national_id": nid.tolist(),
        "surname": sur.tolist(),
        "given_name": giv.tolist(),
        "patronymic": pat.tolist(),
        "birth_date": dates.iso(birth),
    }
