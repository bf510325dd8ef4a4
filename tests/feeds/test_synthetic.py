"""The synthetic population generator: determinism, contract formats, realism, noise."""

import collections
import datetime as dt
import re
import statistics

import numpy as np
import orjson
import pytest

from muster.feeds.synthetic import generate, names, population
from muster.feeds.synthetic.dates import to_days
from muster.registry import identifiers
from muster.registry.regions import REGIONS, districts

AS_OF = dt.date(2026, 12, 1)
SOURCES = ("interior", "health", "education", "elections", "digital", "civil", "social")
FILES = ("population", *SOURCES, "truth")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00")
REGION_DISTRICTS = {r.code: set(districts(r.code)) for r in REGIONS}

ENUMS = {
    "interior": {
        "conviction": {"none", "unexpunged", "expunged"},
        "criminal_case": {"none", "investigation", "court"},
    },
    "health": {"fitness_category": {"A", "B", "V", "G", "D"}},
    "education": {
        "level": {
            "school",
            "secondary_vocational",
            "bachelor",
            "specialist",
            "master",
            "postgraduate",
            "residency",
        },
        "study_form": {"full_time", "part_time", "extramural"},
        "status": {"enrolled", "academic_leave", "expelled", "graduated"},
    },
    "elections": {"role": {"deputy", "candidate"}, "level": {"federal", "regional", "municipal"}},
    "civil": {"event": {"child_birth", "child_death", "marriage", "divorce", "death"}},
    "social": {"care_type": {"disabled_relative", "minor_sibling_guardian"}},
}
REQUIRED = {
    "interior": (
        "passport_number",
        "passport_issued_on",
        "region",
        "district",
        "address",
        "conviction",
        "criminal_case",
    ),
    "health": ("fitness_category", "examined_on"),
    "education": (
        "institution_id",
        "institution_accredited",
        "level",
        "study_form",
        "status",
        "start_date",
        "planned_end_date",
    ),
    "elections": ("role", "level"),
    "digital": (
        "employer_tax_id",
        "employer_accredited",
        "employed_since",
        "listed_specialty_degree",
    ),
    "civil": ("event", "event_date"),
    "social": ("care_type", "relation", "start_date", "other_carers"),
}
BOOLS = {
    "institution_accredited",
    "employer_accredited",
    "listed_specialty_degree",
    "child_disabled",
    "other_carers",
}


def _read(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture(scope="module")
def feeds(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    summary = generate(20_000, out, seed=3, as_of=AS_OF)
    data = {name: _read(out / f"{name}.jsonl") for name in FILES}
    return summary, data


@pytest.fixture(scope="module")
def people(feeds):
    return {p["national_id"]: p for p in feeds[1]["population"]}


@pytest.fixture(scope="module")
def truth(feeds):
    return {(t["source"], t["record_id"]): t["national_id"] for t in feeds[1]["truth"]}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(3000, a, seed=11, as_of=AS_OF)
    generate(3000, b, seed=11, as_of=AS_OF)
    generate(3000, c, seed=12, as_of=AS_OF)
    for name in FILES:
        assert (a / f"{name}.jsonl").read_bytes() == (b / f"{name}.jsonl").read_bytes(), name
    assert (a / "population.jsonl").read_bytes() != (c / "population.jsonl").read_bytes()


def test_summary_counts_lines(feeds):
    summary, data = feeds
    assert summary["persons"] == 20_000
    assert summary["seconds"] > 0
    for name in FILES:
        assert summary["files"][name] == len(data[name])
    assert summary["files"]["truth"] == sum(summary["files"][s] for s in SOURCES)


def test_population_identifiers_valid_and_unique(feeds):
    pop = feeds[1]["population"]
    ids = [p["national_id"] for p in pop]
    assert len(set(ids)) == len(ids)
    assert all(identifiers.snils_valid(i) and int(i[:9]) > 1_001_998 for i in ids)
    tax = [p["tax_id"] for p in pop if "tax_id" in p]
    assert len(set(tax)) == len(tax)
    assert all(identifiers.inn12_valid(t) for t in tax)
    adults = [p for p in pop if p["birth_date"] <= "2008-11-30"]
    assert 0.8 < sum("tax_id" in p for p in adults) / len(adults) < 0.97


def test_population_record_formats(feeds):
    pop = feeds[1]["population"]
    assert len({p["record_id"] for p in pop}) == len(pop)
    for p in pop:
        assert STAMP.fullmatch(p["changed_at"])
        assert p["changed_at"] < AS_OF.isoformat()
        assert p["sex"] in ("M", "F")
        assert DATE.fullmatch(p["birth_date"])
        assert p["birth_date"] < AS_OF.isoformat()
        assert re.fullmatch(r"[A-Z]{2}", p["citizenship"])
        assert p["district"] in REGION_DISTRICTS[p["region"]]
        assert p["surname"]
        assert p["given_name"]
        assert p["address"]
        assert p.get("patronymic", "x")
        assert "postcode" not in p or re.fullmatch(r"\d{6}", p["postcode"])
        assert "phone" not in p or re.fullmatch(r"\+79\d{9}", p["phone"])
        assert "email" not in p or re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", p["email"])
        if "death_date" in p:
            assert p["birth_date"] <= p["death_date"] < AS_OF.isoformat()
    share_ru = sum(p["citizenship"] == "RU" for p in pop) / len(pop)
    assert 0.95 < share_ru < 0.99
    assert 0.005 < sum("death_date" in p for p in pop) / len(pop) < 0.04
    assert 0.65 < sum("phone" in p for p in pop) / len(pop) < 0.9
    assert 0.3 < sum("email" in p for p in pop) / len(pop) < 0.5


def test_every_source_record_meets_the_contract(feeds, people, truth):
    data = feeds[1]
    for source in SOURCES:
        records = data[source]
        assert records, source
        assert len({r["record_id"] for r in records}) == len(records)
        for r in records:
            assert STAMP.fullmatch(r["changed_at"])
            assert r["changed_at"] < AS_OF.isoformat()
            for f in ("surname", "given_name", "birth_date"):
                assert r[f], (source, f)
            assert DATE.fullmatch(r["birth_date"])
            person = people[truth[(source, r["record_id"])]]
            assert ("patronymic" in r) == ("patronymic" in person)
            assert "national_id" not in r or identifiers.snils_valid(r["national_id"])
            for f in REQUIRED[source]:
                assert f in r, (source, f)
            for f, allowed in ENUMS.get(source, {}).items():
                assert r[f] in allowed, (source, f, r[f])
            for f, value in r.items():
                if f in BOOLS:
                    assert isinstance(value, bool)
                elif f.endswith(("_date", "_on", "_since", "_until", "_start", "_end")):
                    assert DATE.fullmatch(value), (source, f, value)


def test_source_specific_rules(feeds, people, truth):
    data = feeds[1]
    one_year = dt.timedelta(days=365)
    for r in data["health"]:
        if "valid_until" in r:
            assert r["fitness_category"] == "G"
            examined = dt.date.fromisoformat(r["examined_on"])
            assert examined < dt.date.fromisoformat(r["valid_until"]) <= examined + one_year
    for r in data["education"]:
        assert r["planned_end_date"] > r["start_date"]
        assert r["start_date"] < AS_OF.isoformat()
    for r in data["interior"]:
        assert re.fullmatch(r"\d{10}", r["passport_number"])
        assert r["district"] in REGION_DISTRICTS[r["region"]]
        assert r["birth_date"] < r["passport_issued_on"] < AS_OF.isoformat()
        assert ("conviction_until" not in r) or r["conviction"] != "none"
    passports = [r["passport_number"] for r in data["interior"]]
    assert len(set(passports)) == len(passports)
    for r in data["digital"]:
        assert identifiers.inn10_valid(r["employer_tax_id"])
    for r in data["elections"]:
        if r["role"] == "deputy":
            assert r["term_start"] < r["term_end"]
            assert "election_date" not in r
        else:
            assert "election_date" in r
            assert "term_start" not in r
    for r in data["social"]:
        assert "end_date" not in r or r["end_date"] > r["start_date"]
    for r in data["civil"]:
        if r["event"] in ("child_birth", "child_death"):
            assert "child_birth_date" in r
        assert "child_disabled" not in r or r["event"] == "child_birth"
    # Deaths in the civil register are exactly the population's.
    deaths = {truth[("civil", r["record_id"])]: r["event_date"] for r in data["civil"] if r["event"] == "death"}
    assert deaths == {i: p["death_date"] for i, p in people.items() if "death_date" in p}


def test_truth_covers_every_record_once(feeds, people, truth):
    data = feeds[1]
    keys = [(t["source"], t["record_id"]) for t in data["truth"]]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(s, r["record_id"]) for s in SOURCES for r in data[s]}
    assert all(nid in people for nid in truth.values())


def test_interior_covers_adult_citizens(feeds, people, truth):
    data = feeds[1]
    covered = {truth[("interior", r["record_id"])] for r in data["interior"]}
    expected = {
        i
        for i, p in people.items()
        if p["citizenship"] == "RU" and "death_date" not in p and p["birth_date"] <= "2012-11-30"
    }
    assert covered == expected


def test_name_frequencies_are_not_uniform(feeds):
    pop = feeds[1]["population"]
    male = collections.Counter(p["given_name"] for p in pop if p["sex"] == "M")
    assert male.most_common(1)[0][1] >= 5 * statistics.median(male.values())
    assert {n for n, _ in male.most_common(10)} & {"Александр", "Сергей", "Дмитрий", "Андрей"}
    female = collections.Counter(p["given_name"] for p in pop if p["sex"] == "F")
    assert female.most_common(1)[0][1] >= 5 * statistics.median(female.values())
    assert len(male) >= 150
    assert len(female) >= 150
    surnames = collections.Counter(p["surname"] for p in pop)
    assert len(surnames) >= 2000
    top = [s for s, _ in surnames.most_common(10)]
    assert {"Смирнов", "Иванов", "Смирнова", "Иванова"} & set(top)


def test_names_follow_cohorts(feeds):
    pop = feeds[1]["population"]

    def share(name, lo, hi):
        cohort = [p for p in pop if lo <= p["birth_date"][:4] <= hi and p["sex"] == "F"]
        return sum(p["given_name"] == name for p in cohort) / len(cohort)

    assert share("София", "2012", "2026") > 5 * share("София", "1950", "1980")
    assert share("Елена", "1960", "1980") > 5 * share("Елена", "2012", "2026")


def test_women_bear_feminine_surnames(feeds):
    for p in feeds[1]["population"]:
        if p["sex"] == "F":
            assert not p["surname"].endswith(("ов", "ев", "ёв", "ин", "ский")), p["surname"]


def test_age_pyramid_and_sex_ratio(feeds):
    pop = feeds[1]["population"]
    years = collections.Counter(int(p["birth_date"][:4]) for p in pop)
    assert years[1987] > 1.5 * years[1999]  # the 1990s birth slump
    old = [p for p in pop if p["birth_date"] < "1946"]
    assert sum(p["sex"] == "M" for p in old) / len(old) < 0.4
    young = [p for p in pop if p["birth_date"] > "2010"]
    assert 0.48 < sum(p["sex"] == "M" for p in young) / len(young) < 0.55
    regions = collections.Counter(p["region"] for p in pop)
    assert regions["77"] > regions["50"] > regions["16"] > regions["87"]


def test_families_are_coherent():
    rng = np.random.default_rng(5)
    pop = population.build(8000, rng, to_days(AS_OF) - 1)
    pm, pf = names.patronymics()
    kids = np.flatnonzero(pop.father >= 0)
    assert len(kids) > 1000
    for c in kids:
        f = pop.father[c]
        assert pop.mother[c] >= 0
        assert pop.husband[pop.mother[c]] == f
        assert pop.birth[c] > pop.birth[f] + 17 * 365
        assert pop.birth[c] > pop.birth[pop.mother[c]]
        if pop.patronymic[c] is not None:
            expected = pm if pop.male[c] else pf
            assert pop.patronymic[c] == expected[pop.given_idx[f]]
        if pop.male[c]:
            assert pop.surname[c] == pop.surname[f]
        elif pop.husband[c] < 0:
            assert pop.surname[c] == names.feminine(pop.surname[f])
        if pop.age[c] < 18:
            assert pop.address[c] == pop.address[pop.mother[c]]
    wives = np.flatnonzero(pop.husband >= 0)
    took = wives[pop.took_name[wives]]
    assert len(took) > 0.75 * len(wives)
    for w in took:
        assert pop.surname[w] == names.feminine(pop.surname[pop.husband[w]])
    living = wives[pop.divorce[wives] == population.NONE]
    assert all(pop.address[w] == pop.address[pop.husband[w]] for w in living)


def test_patronymic_grammar():
    cases = {
        "Александр": ("Александрович", "Александровна"),
        "Сергей": ("Сергеевич", "Сергеевна"),
        "Илья": ("Ильич", "Ильинична"),
        "Никита": ("Никитич", "Никитична"),
        "Кузьма": ("Кузьмич", "Кузьминична"),
        "Евгений": ("Евгеньевич", "Евгеньевна"),
        "Дмитрий": ("Дмитриевич", "Дмитриевна"),
        "Игорь": ("Игоревич", "Игоревна"),
        "Лев": ("Львович", "Львовна"),
        "Пётр": ("Петрович", "Петровна"),
        "Павел": ("Павлович", "Павловна"),
        "Михаил": ("Михайлович", "Михайловна"),
        "Николай": ("Николаевич", "Николаевна"),
        "Фома": ("Фомич", "Фоминична"),
    }
    for father, expected in cases.items():
        assert names.names_ru.patronymic(father) == expected
    assert names.names_ru.patronymic("Муса", russian=False) == ("Мусаевич", "Мусаевна")
    assert names.names_ru.patronymic("Али", russian=False) == ("Алиевич", "Алиевна")
    assert names.feminine("Кузнецов") == "Кузнецова"
    assert names.feminine("Преображенский") == "Преображенская"
    for fixed in ("Шевченко", "Петросян", "Черных", "Ковальчук"):
        assert names.feminine(fixed) == fixed


def _differs(a, b):
    return (a or "").replace("ё", "е") != (b or "").replace("ё", "е")


def test_noise_shares(feeds, people, truth):
    data = feeds[1]
    counts = collections.Counter()
    total = 0
    for source in SOURCES:
        for r in data[source]:
            total += 1
            p = people[truth[(source, r["record_id"])]]
            if "national_id" not in r:
                counts["missing"] += 1
            elif r["national_id"] != p["national_id"]:
                counts["wrong"] += 1
            swapped = r["given_name"] == p.get("patronymic") and r.get("patronymic") == p["given_name"]
            counts["swap"] += swapped
            if not swapped:
                counts["typo"] += _differs(r["surname"], p["surname"]) or _differs(r["given_name"], p["given_name"])
            counts["day_month"] += r["birth_date"] != p["birth_date"]
            counts["yo"] += r["surname"] != p["surname"] and not _differs(r["surname"], p["surname"])
    share = {k: v / total for k, v in counts.items()}
    assert 0.065 < share["missing"] < 0.095
    assert 0.002 < share["wrong"] < 0.01
    assert 0.02 < share["typo"] < 0.04
    assert 0.005 < share["swap"] < 0.015
    assert 0.005 < share["day_month"] < 0.015
    assert share["yo"] > 0.003
    stale = sum(r["address"] != people[truth[("interior", r["record_id"])]]["address"] for r in data["interior"])
    assert 0.035 < stale / len(data["interior"]) < 0.065


def test_without_noise_sources_agree_with_population(tmp_path):
    generate(3000, tmp_path, seed=2, as_of=AS_OF, noise=False)
    people = {p["national_id"]: p for p in _read(tmp_path / "population.jsonl")}
    truth = {(t["source"], t["record_id"]): t["national_id"] for t in _read(tmp_path / "truth.jsonl")}
    for source in SOURCES:
        for r in _read(tmp_path / f"{source}.jsonl"):
            p = people[truth[(source, r["record_id"])]]
            assert r["national_id"] == p["national_id"]
            for f in ("surname", "given_name", "patronymic", "birth_date"):
                assert r.get(f) == p.get(f), (source, f)
            if source == "interior":
                assert (r["region"], r["district"], r["address"]) == (
                    p["region"],
                    p["district"],
                    p["address"],
                )


def test_regions_module():
    codes = [r.code for r in REGIONS]
    assert len(codes) == 85
    assert len(set(codes)) == 85
    assert {"77", "78", "50", "16", "87"} <= set(codes)
    assert all(re.fullmatch(r"\d{2}", c) for c in codes)
    assert all(4 <= r.districts <= 60 for r in REGIONS)
    assert districts("77")[0] == "001"
    assert len(districts("77")) == 60
