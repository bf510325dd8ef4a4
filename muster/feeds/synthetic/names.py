"""Name tables for the generator: given names by cohort, patronymics, surname pools.

Everything here is deterministic and independent of the generator's seed: the
same pool of surnames and the same frequencies serve every run, as a country's
naming stock does.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import names_other, names_ru

GROUPS = ("ru", "ua", "tt", "cau", "ca", "am")
_POOL_SEED = 20260101


def _unique(words):
    return list(dict.fromkeys(words))


def _zipf(n: int, s: float = 1.0, offset: float = 1.0) -> np.ndarray:
    w = 1.0 / (np.arange(n) + offset) ** s
    return w / w.sum()


def feminine(surname: str) -> str:
    """The feminine form of a surname (Иванов → Иванова; -енко, -ян, -ых unchanged)."""
    if "-" in surname:
        return "-".join(feminine(part) for part in surname.split("-"))
    for ending in ("ов", "ев", "ёв", "ин", "ын"):
        if surname.endswith(ending):
            return surname + "а"
    for ending in ("ский", "цкий", "ской", "цкой"):
        if surname.endswith(ending):
            return surname[:-2] + "ая"
    if surname.endswith(("ый", "ой")) and len(surname) > 4:
        return surname[:-2] + "ая"
    return surname


def cohort_of(birth_year: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(names_ru.COHORT_BOUNDS), birth_year, side="left")


@dataclass
class GivenNames:
    names: list[str]  # all names of one sex, Russian lists first
    # probability over `names` for each (group, cohort): shape (groups, cohorts, names)
    probs: np.ndarray


def _parse_cohort_table(text: str) -> tuple[list[str], np.ndarray]:
    names, rows = [], []
    for line in text.strip().splitlines():
        parts = line.split()
        names.append(parts[0])
        rows.append([float(x) for x in parts[1:]])
    return names, np.array(rows)


@lru_cache(maxsize=1)
def given_names() -> dict[str, GivenNames]:
    out = {}
    ncoh = len(names_ru.COHORT_BOUNDS) + 1
    for sex, table in (("M", names_ru.MALE), ("F", names_ru.FEMALE)):
        ru_names, ru_w = _parse_cohort_table(table)
        # A floor keeps every name possible in every cohort, as in real registers.
        ru_w = ru_w + 0.02
        ru_p = ru_w / ru_w.sum(axis=0, keepdims=True)  # (names, cohorts)
        all_names = list(ru_names)
        extra = {}
        for g, data in names_other.GROUPS.items():
            own = _unique(data["male" if sex == "M" else "female"].split())
            idx = []
            for n in own:
                if n not in all_names:
                    all_names.append(n)
                idx.append(all_names.index(n))
            extra[g] = (np.array(idx), _zipf(len(idx), 0.9), data["slavic_share"])
        probs = np.zeros((len(GROUPS), ncoh, len(all_names)))
        for gi, g in enumerate(GROUPS):
            for c in range(ncoh):
                p = np.zeros(len(all_names))
                if g in extra:
                    idx, zp, slavic = extra[g]
                    p[: len(ru_names)] += slavic * ru_p[:, c]
                    np.add.at(p, idx, (1 - slavic) * zp)
                else:
                    p[: len(ru_names)] = ru_p[:, c]
                probs[gi, c] = p / p.sum()
        out[sex] = GivenNames(all_names, probs)
    return out


@lru_cache(maxsize=1)
def patronymics() -> tuple[list[str], list[str]]:
    """Male and female patronymic for every male given name, aligned with given_names()['M']."""
    males = given_names()["M"].names
    ru = set(_parse_cohort_table(names_ru.MALE)[0])
    pm, pf = [], []
    for n in males:
        m, f = names_ru.patronymic(n, russian=n in ru)
        pm.append(m)
        pf.append(f)
    return pm, pf


# ---------------------------------------------------------------- surnames

_MUTATE = {"к": "ч", "г": "ж", "х": "ш", "ц": "ч"}
_VOWEL_LETTERS = set("аеёиоуыэюя")
_SIBILANT = set("жшчщ")


def _base(stem: str) -> tuple[str, str, str]:
    """(kind, stem without the final ь/й/vowel, base surname) of a tail stem."""
    last = stem[-1]
    if last in "ая":
        s = stem[:-1]
        return "a", s, s + ("ын" if s[-1] == "ц" else "ин")
    if last in "ьй":
        s = stem[:-1]
        return "soft", s, s + "ев"
    if last in "ео":
        s = stem[:-1]
        return "hard", s, s + ("ев" if s[-1] in _SIBILANT else "ов")
    if last in _SIBILANT:
        return "hard", stem, stem + "ев"
    return "hard", stem, stem + "ов"


def _derived(stem: str) -> list[tuple[str, float]]:
    """Surnames derived from one stem with a relative weight each."""
    kind, s, base = _base(stem)
    last = s[-1]
    if last in "аеёиоуыэюяь":
        return [(base, 1.0)]
    mut = s[:-1] + _MUTATE[last] if last in _MUTATE else s
    out = [(base, 1.0), (base + "ский", 0.15)]
    out.append((mut + "енко", 0.15))
    if kind == "a":
        out.append((s + ("ев" if last in _SIBILANT or last == "ц" else "ов"), 0.35))
        vowel_before = s[-2:-1] in _VOWEL_LETTERS
        if last == "к" and s[-2:-1] == "ь":
            out.append((s[:-2] + "еч" + "кин", 0.3))  # Ванька → Ванечкин
        elif last == "к":
            out.append((s[:-1] + ("еч" if s[-2:-1] in _SIBILANT else "оч") + "кин", 0.3))
        elif last in "гхц" and vowel_before:
            out.append((mut + "кин", 0.3))
        elif last not in _SIBILANT and vowel_before:
            out.append((s + "кин", 0.3))
        out.append((s + "ович", 0.05))
        out.append((mut + "ук", 0.05))
    elif kind == "soft":
        if stem[-1] == "ь":
            out.append((s + "евич", 0.06))
            out.append((s + "юк", 0.06))
            if last in "сзнлтд":
                out.append((s + "ьков", 0.3))
    else:
        if last in "кгх":
            out.append((mut + "ков", 0.35))
        elif last not in _SIBILANT and last != "ц":
            out.append((s + "иков", 0.12))
            out.append((s + "ышев", 0.03))
        out.append((s + ("евич" if last in _SIBILANT else "ович"), 0.06))
        out.append((mut + "ук", 0.06))
        out.append((mut + "енков", 0.04))
    return out


def _adjective_forms(s: str) -> list[tuple[str, float]]:
    last = s[-1]
    out = [(s + "ов", 1.0), (s + ("их" if last in "кгхжшчщ" else "ых"), 0.35)]
    if last not in "кгх":
        out += [(s + "енко", 0.15), (s + "ецкий", 0.08), (s + "ышев", 0.12)]
        out.append((s + ("яков" if last in "лнтдсзр" else "аков"), 0.15))
    if len(s) <= 4 and last not in "кгхжшчщ":
        out.append((s + "кин", 0.2))
    return out


def _toponymic() -> list[str]:
    from .geo import VILLAGES

    church = (
        "Преображенский Вознесенский Успенский Богоявленский Рождественский Троицкий "
        "Введенский Никольский Архангельский Благовещенский Космодемьянский Сретенский "
        "Покровский Воскресенский Знаменский Петропавловский Спасский Георгиевский Ильинский "
        "Дмитриевский Флоренский Крестовоздвиженский Богословский Лебединский Поспелов "
        "Добромыслов Гиацинтов Кипарисов Бенедиктов Беневоленский Смарагдов"
    )
    out = church.split()
    for v in VILLAGES:
        if v.endswith("ка") and len(v) > 5:
            out.append(v[:-2] + "ский")
        elif v.endswith(("ское", "цкое")):
            out.append(v[:-2] + "ий")
    return out


# Syllables of the deep tail: rare surnames from obscure dialect words, which we
# imitate with Russian-like stems (Брылов, Шмаров, Гомзин are real ones).
_ONSETS = tuple(
    (o, w)
    for group, w in (
        ("б в г д з к л м н п р с т х ч ш", 10.0),
        ("ж ф ц щ", 2.0),
        ("бр гр др кр пр тр гл кл пл сл ст ск шм хл", 2.5),
        ("бл вл зв кв мл св сн сп хр шп шв", 0.8),
    )
    for o in group.split()
)
_VOWELS = (
    ("а", 30),
    ("о", 28),
    ("у", 14),
    ("и", 14),
    ("е", 12),
    ("ы", 6),
    ("я", 3),
    ("ю", 1.5),
    ("ё", 1.5),
)
_CODAS = tuple(
    (c, w)
    for group, w in (
        ("л н р с т к ш ж з д б п м в ч", 10.0),
        ("рк лк нк ст шк ск рт рд лт рш рм рз нд мк", 1.5),
    )
    for c in group.split()
)
_MID = ("л", "н", "р", "к", "ш", "т", "в", "д", "м", "с")


def _valid(onset: str, vowel: str) -> bool:
    c = onset[-1]
    if vowel == "ы" and c in "кгхжшчщ":
        return False
    if vowel in "яюё" and c in "жшчщцкгх":
        return False
    return not (vowel in "яюё" and len(onset) > 1)


def _pick(rng, items, k):
    w = np.array([x[1] for x in items], float)
    return rng.choice(len(items), size=k, p=w / w.sum())


def _deep_tail(rng: np.random.Generator, n: int, taken: set[str]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    seen = set(taken)
    while len(out) < n:
        k = 2 * (n - len(out))
        ons, v1, cod = _pick(rng, _ONSETS, k), _pick(rng, _VOWELS, k), _pick(rng, _CODAS, k)
        v2, mid = _pick(rng, _VOWELS[:6], k), rng.integers(0, len(_MID), size=k)
        two, suf = rng.random(k) < 0.4, rng.random(k)
        for i in range(k):
            onset, vowel, coda = _ONSETS[ons[i]][0], _VOWELS[v1[i]][0], _CODAS[cod[i]][0]
            if not _valid(onset, vowel):
                continue
            stem = onset + vowel + coda
            if two[i]:
                vowel2 = _VOWELS[v2[i]][0]
                # A second syllable only after a single consonant: Гом-з-ин, Бул-ы-гин.
                if len(coda) > 1 or not _valid(coda, vowel2):
                    continue
                stem += vowel2 + _MID[mid[i]]
            last = stem[-1]
            mutated = stem[:-1] + _MUTATE[last] if last in _MUTATE else stem
            r = suf[i]
            if r < 0.62:
                name = stem + ("ев" if last in _SIBILANT else "ов")
            elif r < 0.86:
                name = stem + ("ын" if last == "ц" else "ин")
            elif r < 0.92:
                name = mutated + "енко"
            elif r < 0.96:
                name = stem + ("ев" if last in _SIBILANT else "ов") + "ский"
            elif r < 0.98:
                name = mutated + "ук"
            else:
                name = stem + ("их" if last in "кгхжшчщ" else "ых")
            name = name[0].upper() + name[1:]
            if name in seen:
                continue
            seen.add(name)
            out.append((name, 1.0))
            if len(out) >= n:
                break
    return out


def _rank_weights(n_top: int, n_tail: int) -> np.ndarray:
    """Frequency by rank: flat among the most common surnames, steeper in the tail."""
    r = np.arange(1, n_top + n_tail + 1, dtype=float)
    w = r**-0.7
    tail = r > n_top
    w[tail] = n_top**-0.7 * (r[tail] / n_top) ** -0.88
    return w


@dataclass
class SurnamePool:
    names: list[str]  # masculine forms
    probs: np.ndarray


def _ordered_tail(rng, forms: list[tuple[str, float]], taken: set[str]) -> list[str]:
    """Tail surnames ordered by a random commonness that favours heavier forms."""
    forms = [(n, w) for n, w in dict(forms).items() if n not in taken]
    w = np.array([w for _, w in forms])
    key = np.log(w) + rng.gumbel(size=len(forms)) * 0.8
    order = np.argsort(-key, kind="stable")
    return [forms[i][0] for i in order]


@lru_cache(maxsize=1)
def surname_pools() -> dict[str, SurnamePool]:
    rng = np.random.default_rng(_POOL_SEED)
    pools: dict[str, SurnamePool] = {}

    top = _unique(names_ru.TOP_SURNAMES.split())
    forms: list[tuple[str, float]] = []
    for stem in _unique(names_ru.TAIL_STEMS.split()):
        forms += _derived(stem)
    for s in _unique(names_ru.ADJ_STEMS.split()):
        forms += _adjective_forms(s)
    roots = _unique(names_ru.COMPOUND_ROOTS.split())
    for p in _unique(names_ru.COMPOUND_PREFIXES.split()):
        for root in roots:
            if root.endswith("ин"):
                forms.append((p + root, 0.15))
            elif root.endswith("ь"):
                forms.append((p + root[:-1] + "ев", 0.15))
            else:
                forms.append((p + root + "ов", 0.15))
    forms += [(t, 0.5) for t in _toponymic()]
    tail = _ordered_tail(rng, forms, set(top))
    deep = [n for n, _ in _deep_tail(rng, 32000, set(top) | set(tail))]
    ru_names = top + tail + deep
    ru_w = _rank_weights(len(top), len(tail) + len(deep))
    pools["ru"] = SurnamePool(ru_names, ru_w / ru_w.sum())

    ua = _unique(names_other.UKRAINIAN_SURNAMES.split())
    ua_w = _zipf(len(ua), 0.6)
    # Ukrainian and Belarusian families mostly bear their own surnames, some Russian ones.
    pools["ua"] = SurnamePool(ua + ru_names, np.concatenate([0.7 * ua_w, 0.3 * pools["ru"].probs]))

    for g, data in names_other.GROUPS.items():
        own = _unique(data["surnames"].split())
        gen: list[tuple[str, float]] = []
        for stem in _unique(data["stems"].split()):
            vowel_end = stem[-1] in "аеиоуыэюя"
            if g == "am":
                gen += [(stem + "ян", 1.0), (stem + "янц", 0.02)]
            elif g == "tt":
                if vowel_end:
                    gen += [(stem + "ев", 1.0), (stem + "уллин", 0.4)]
                else:
                    gen += [
                        (stem + "ов", 1.0),
                        (stem + "ин", 0.3),
                        (stem + "уллин", 0.3),
                        (stem + "зянов", 0.12),
                        (stem + "шин", 0.15),
                        (stem + "етдинов", 0.1),
                    ]
            elif g == "cau":
                suffix = "ев" if vowel_end else "ов"
                gen += [
                    (stem + suffix, 1.0),
                    (stem + "беков", 0.1),
                    (stem + "ханов", 0.08),
                    ("Гаджи" + stem.lower() + suffix, 0.06),
                ]
            else:
                suffix = "ев" if vowel_end else "ов"
                gen += [
                    (stem + suffix, 1.0),
                    (stem + "баев", 0.12),
                    (stem + "беков", 0.12),
                    (stem + "жанов", 0.08),
                ]
        gen_tail = _ordered_tail(rng, gen, set(own))
        names = own + gen_tail
        w = _rank_weights(len(own), len(gen_tail))
        pools[g] = SurnamePool(names, w / w.sum())
    return pools
