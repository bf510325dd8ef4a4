"""Identity linkage model: name keys, scoring outcomes, persistence. No database."""

import datetime as dt
import json
import math

import pytest

from benchmarks.linkage_throughput import ICAO, noisy_records, synthetic_persons
from muster.feeds import linkage
from muster.feeds.linkage import Candidate, LinkageModel, normalise_name

FIELDS = {"national_id", "surname", "given_name", "patronymic", "birth_date", "address"}


@pytest.fixture(scope="module")
def persons():
    return synthetic_persons(4000, seed=7)


@pytest.fixture(scope="module")
def model(persons):
    training, _ = noisy_records(persons, 4000, seed=8)
    return LinkageModel.train(
        persons,
        training,
        seed=1,
        trained_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        u_sample_pairs=1.5e6,
    )


def as_record(person, key="r1", **changes):
    rec = {
        f: person[f]
        for f in (
            "national_id",
            "surname",
            "given_name",
            "patronymic",
            "birth_date",
            "region",
            "district",
        )
    }
    rec["key"] = key
    rec.update(changes)
    return rec


def pick(persons, test):
    return next(p for p in persons if test(p))


def best(model, persons, record):
    candidates = model.score([record], persons)[record["key"]]
    assert candidates, "no candidate"
    return candidates[0], model.decide(candidates)[0]


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Ёлкин", "елкин"),
        ("ЁЛКИН", "елкин"),
        ("  елкин ", "елкин"),
        ("Yolkin", "елкин"),
        ("Салтыков-Щедрин", "салтыковщедрин"),
        ("Салтыков - Щедрин", "салтыковщедрин"),
        ("Д'Артаньян", "дартанян"),
        ("Aleksandr", "александр"),
        ("Alexander", "александр"),
        ("ALEXANDR", "александр"),
        ("Сергей", "сергеи"),
        ("Sergey", "сергеи"),
        ("SERGEI", "сергеи"),
        ("Юлия", "юля"),
        ("IULIIA", "юля"),
        ("Yuliya", "юля"),
        ("Yulia", "юля"),
        ("Наталия", "наталя"),
        ("Julia", "юля"),
        ("Наталья", "наталя"),
        ("NATALIA", "наталя"),
        ("Щукин", "щукин"),
        ("Shchukin", "щукин"),
        ("Khrushchev", "хрущев"),
        ("Хрущёв", "хрущев"),
        ("Dmitry", "дмитрии"),
        ("Dmitriy", "дмитрии"),
        ("Дмитрий", "дмитрии"),
        ("Tsvetkov", "цветков"),
        ("Эдуард", "едуард"),
        ("Eduard", "едуард"),
        ("Zhukovskiy", "жуковскии"),
        ("Жуковский", "жуковскии"),
    ],
)
def test_normalise_name(raw, key):
    assert normalise_name(raw) == key


@pytest.mark.parametrize("raw", [None, "", "   ", "-", "'", "123"])
def test_normalise_name_empty(raw):
    assert normalise_name(raw) is None


def test_icao_passport_spellings_share_the_cyrillic_key():
    names = [
        "Фёдорова",
        "Юрьевич",
        "Ильинична",
        "Кудрявцев",
        "Щербаков",
        "Соловьёв",
        "Дарья",
        "Мария",
        "Арсений",
        "Ксения",
        "Евгеньевна",
        "Быков",
        "Черных",
    ]
    for name in names:
        latin = "".join(ICAO[c] for c in name.lower()).upper()
        assert normalise_name(latin) == normalise_name(name), (name, latin)


# ------------------------------------------------------------------ scoring outcomes


def test_exact_record_links_to_its_person(model, persons):
    p = persons[10]
    cand, outcome = best(model, persons, as_record(p))
    assert cand.person_id == p["person_id"]
    assert cand.probability >= model.upper
    assert outcome == "link"
    assert set(cand.field_weights) == FIELDS
    assert all(cand.field_weights[f] > 0 for f in FIELDS)


def test_national_id_written_with_separators_agrees(model, persons):
    p = persons[11]
    nid = p["national_id"]
    rec = as_record(p, national_id=f"{nid[:3]}-{nid[3:6]}-{nid[6:9]} {nid[9:]}")
    cand, _ = best(model, persons, rec)
    assert cand.person_id == p["person_id"]
    assert cand.field_weights["national_id"] == best(model, persons, as_record(p))[0].field_weights["national_id"]


def test_exact_link_beats_a_namesake(model, persons):
    p = persons[20]
    twin = {
        **p,
        "person_id": 999_999,
        "national_id": "99999999999",
        "birth_date": p["birth_date"] + dt.timedelta(days=1),
    }
    scored = model.score([as_record(p)], [*persons, twin])["r1"]
    assert [c.person_id for c in scored[:2]] == [p["person_id"], twin["person_id"]]
    assert scored[0].weight > scored[1].weight
    assert model.decide(scored) == ("link", scored[0])


def test_surname_typo_without_national_id_links(model, persons):
    p = pick(persons, lambda p: len(p["surname"]) >= 6 and p["patronymic"])
    typo = p["surname"][:3] + "ы" + p["surname"][4:]
    cand, outcome = best(model, persons, as_record(p, national_id=None, surname=typo))
    assert cand.person_id == p["person_id"]
    assert cand.probability >= model.upper
    assert outcome == "link"
    assert 0 < cand.field_weights["surname"] < best(model, persons, as_record(p))[0].field_weights["surname"]


def test_swapped_given_name_and_patronymic_links(model, persons):
    p = pick(persons, lambda p: p["patronymic"])
    rec = as_record(p, national_id=None, given_name=p["patronymic"], patronymic=p["given_name"])
    cand, outcome = best(model, persons, rec)
    assert cand.person_id == p["person_id"]
    assert outcome == "link"
    assert cand.field_weights["given_name"] > 0
    assert cand.field_weights["patronymic"] > 0


def test_transposed_birth_date_links(model, persons):
    p = pick(
        persons,
        lambda p: p["birth_date"].day <= 12 and p["birth_date"].day != p["birth_date"].month,
    )
    d = p["birth_date"]
    rec = as_record(p, national_id=None, birth_date=f"{d.year}-{d.day:02d}-{d.month:02d}")
    cand, outcome = best(model, persons, rec)
    assert cand.person_id == p["person_id"]
    assert outcome == "link"
    assert cand.field_weights["birth_date"] > 0


def test_latin_spelt_record_links(model, persons):
    p = pick(persons, lambda p: p["surname"] == "Иванов" and p["given_name"] == "Александр")
    rec = as_record(p, national_id=None, surname="IVANOV", given_name="ALEXANDER", patronymic=None)
    cand, outcome = best(model, persons, rec)
    assert cand.person_id == p["person_id"]
    assert outcome in ("link", "review")


def test_wrong_national_id_alone_is_not_decisive(model, persons):
    p, other = persons[30], persons[31]
    cand, outcome = best(model, persons, as_record(p, national_id=other["national_id"]))
    assert cand.person_id == p["person_id"]
    assert outcome in ("link", "review")
    by_id = {c.person_id: c for c in model.score([as_record(p, national_id=other["national_id"])], persons)["r1"]}
    assert other["person_id"] not in by_id or by_id[other["person_id"]].probability < model.lower


def test_stranger_gets_no_candidate_above_lower(model, persons):
    p = persons[40]
    # Shares the birth date and the given name of a registry person, nothing else.
    stranger = {
        "key": "s",
        "national_id": None,
        "surname": "Незнакомцев",
        "given_name": p["given_name"],
        "patronymic": "Акакиевич",
        "birth_date": p["birth_date"].isoformat(),
        "region": None,
        "district": None,
    }
    nobody = {**stranger, "key": "n", "given_name": "Евлампий", "birth_date": "1900-01-01"}
    scored = model.score([stranger, nobody], persons)
    assert scored["s"], "blocking should pair the stranger with the namesake"
    assert all(c.probability < model.lower for c in scored["s"])
    assert model.decide(scored["s"]) == ("no_match", None)
    assert scored["n"] == []
    assert model.decide(scored["n"]) == ("no_match", None)


def test_score_returns_every_key_best_first(model, persons):
    records, truth = noisy_records(persons, 300, seed=9)
    scored = model.score(records, persons, top=2)
    assert set(scored) == set(truth)
    for cands in scored.values():
        assert len(cands) <= 2
        assert [c.weight for c in cands] == sorted((c.weight for c in cands), reverse=True)
    linked = {k: model.decide(c) for k, c in scored.items()}
    correct = sum(o == "link" and b.person_id == truth[k] for k, (o, b) in linked.items())
    wrong = sum(o == "link" and b.person_id != truth[k] for k, (o, b) in linked.items())
    assert wrong == 0
    assert correct >= 0.97 * sum(t is not None for t in truth.values())


def test_weights_add_up(model, persons):
    cand = model.score([as_record(persons[50], national_id=None)], persons)["r1"][0]
    prior = model.settings["probability_two_random_records_match"]
    assert math.isclose(cand.weight, math.log2(prior / (1 - prior)) + sum(cand.field_weights.values()), abs_tol=1e-6)
    assert math.isclose(cand.probability, 2**cand.weight / (1 + 2**cand.weight), rel_tol=1e-9)


def test_empty_inputs_and_duplicate_keys(model, persons):
    assert model.score([], persons) == {}
    assert model.score([as_record(persons[0])], []) == {"r1": []}
    with pytest.raises(ValueError, match="unique"):
        model.score([as_record(persons[0]), as_record(persons[1])], persons)
    with pytest.raises(ValueError, match="unique"):
        model.score([as_record(persons[0])], [persons[0], persons[0]])


def test_person_index_scores_like_the_list(model, persons):
    records, _ = noisy_records(persons, 200, seed=10)
    index = model.index_persons(persons)
    assert len(index) == len(persons)
    assert model.score(records, index) == model.score(records, persons)
    assert model.score(records, index) == model.score(records, index)  # reusable
    index.close()


def test_prefilter_keeps_every_pair_splink_blocks(model, persons):
    """Scoring against the persons the pre-filter keeps equals scoring against all."""
    records, _ = noisy_records(persons, 300, seed=11)
    linker = model._ensure_linker()
    sdf_r = model._register(linkage._table(records, range(len(records))), "records")
    sdf_p = model._register(linkage._persons_table(persons), "persons")
    full = linker.inference.predict_between(sdf_r, sdf_p, warning_mode="never")
    con = model._db_api.duckdb_con
    pairs = con.sql(f"SELECT unique_id_r FROM {full.physical_name}").fetchall()
    kept = con.sql(linkage._blocked_persons_sql(sdf_p.physical_name, sdf_r.physical_name))
    kept_ids = {row[0] for row in kept.select("unique_id").fetchall()}
    assert pairs
    assert {row[0] for row in pairs} <= kept_ids
    full.drop_table_from_database_and_remove_from_cache()
    model._unregister(sdf_r)
    model._unregister(sdf_p)


# ------------------------------------------------------------------ decisions


def cand(pid, weight):
    return Candidate(pid, 2**weight / (1 + 2**weight), weight, {})


def test_decide_uses_exclusive_probability():
    m = LinkageModel({"comparisons": []}, {}, upper=0.99, lower=0.5)
    assert m.decide([]) == ("no_match", None)
    assert m.decide([cand(1, 20)]) == ("link", cand(1, 20))
    # A distant namesake (weight 3, p=0.89 on its own) does not hold up a clear link...
    assert m.decide([cand(1, 20), cand(2, 3)])[0] == "link"
    # ...a close one does.
    assert m.decide([cand(1, 20), cand(2, 19)]) == ("review", cand(1, 20))
    assert m.decide([cand(1, 2)]) == ("review", cand(1, 2))
    assert m.decide([cand(1, -3)]) == ("no_match", None)
    probs = linkage.exclusive_probabilities([cand(1, 1000), cand(2, 999)])
    assert math.isclose(sum(probs), 1.0)
    assert probs[0] > probs[1]


# ------------------------------------------------------------------ persistence


def test_save_load_round_trip_scores_identically(model, persons, tmp_path):
    records, _ = noisy_records(persons, 200, seed=12)
    path = tmp_path / "model.json"
    model.save(path)
    data = json.loads(path.read_text())
    assert data["version"] == model.version
    assert data["trained_at"] == "2026-06-01T00:00:00+00:00"
    assert data["counts"] == {"persons": 4000, "records": 4000, "registry": 4000}
    assert {"upper", "lower", "splink_settings", "term_frequencies"} <= set(data)
    loaded = LinkageModel.load(path)
    assert loaded.version == model.version
    assert (loaded.upper, loaded.lower) == (model.upper, model.lower)
    assert loaded.score(records, persons) == model.score(records, persons)


def test_version_follows_settings(model, tmp_path):
    data = model.to_dict()
    assert LinkageModel.from_dict(data).version == model.version
    changed = json.loads(json.dumps(data))
    level = changed["splink_settings"]["comparisons"][1]["comparison_levels"][1]
    level["m_probability"] *= 0.9
    changed.pop("version")
    assert LinkageModel.from_dict(changed).version != model.version
    other = LinkageModel.from_dict(data)  # thresholds are part of the version too
    other.upper = 0.999
    assert other.version != model.version
    # A file whose content no longer matches its version is refused.
    changed["version"] = model.version
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(changed))
    with pytest.raises(ValueError, match="altered"):
        LinkageModel.load(path)


def test_model_from_other_normalisation_is_refused(model):
    data = {**model.to_dict(), "normalisation": linkage.NORMALISATION + 1}
    with pytest.raises(ValueError, match="retrain"):
        LinkageModel.from_dict(data)


def test_training_is_deterministic(model, persons):
    training, _ = noisy_records(persons, 4000, seed=8)
    again = LinkageModel.train(
        persons,
        training,
        seed=1,
        trained_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        u_sample_pairs=1.5e6,
    )
    assert again.version == model.version
