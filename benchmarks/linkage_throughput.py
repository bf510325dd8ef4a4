"""Identity linkage: quality on noisy records, and records scored per second.

    python benchmarks/linkage_throughput.py [--persons 1000000] [--records 10000]
                                            [--train-records 20000] [--seed 1]

A synthetic registry (realistic, skewed Russian name frequencies: a Zipf–Mandelbrot
law over ~1,700 surnames and ~110 given names, so many people share a name) and a
batch of noisy agency records drawn from it (missing national_id 8%, wrong 0.5%,
one-character typos in surname and given name 3% each, ё/е and case variants,
given name and patronymic swapped 1%, day and month transposed 1%, other birth-date
typos 0.5%, Latin transliteration 1%, 2% strangers who are not in the registry).

Prints the quality of the automatic decisions (precision, recall and F1 of automatic
links, share sent to review) and the throughput of `LinkageModel.score` against the
registry, both cold (persons passed as a list of dicts) and with a prepared
`PersonIndex`. The generator here is pure numpy and is also used by the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# ---------------------------------------------------------------- name data (male forms)


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = _words(
    """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов
Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв
Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков
Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров
Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов
Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов
Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин
Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв
Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев
Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов
Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов
Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов
Прокофьев Харитонов Князев Цветков Левин Митрофанов Воронов Аксёнов Софронов Мальцев
Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников Дёмин
Хохлов Фадеев Молчанов Игнатов Литвинов Ершов Ушаков Дементьев Рябов Мухин Калашников
Леонтьев Лобанов Кузин Корнилов Евдокимов Бородин Платонов Некрасов Балашов Бобров
Жданов Блинов Игнатьев Коротков Муравьёв Крюков Беляков Богомолов Дроздов Лавров Зуев
Петухов Ларин Никулин Серов Терентьев Зотов Устинов Фокин Самойлов Константинов Сахаров
Шишкин Самсонов Черкасов Чистяков Носов Спиридонов Карасёв Авдеев Воронцов Зверев
Владимиров Селезнёв Нечаев Кудряшов Седов Фирсов Андрианов Панин Головин Терехов Ульянов
Шестаков Агеев Никонов Селиверстов Баженов Гордеев Кожевников Пахомов Зимин Костин
Широков Филимонов Ларионов Овсянников Сазонов Суворов Нефёдов Лаптев Шубин Булгаков
Савицкий Островский Вишневский Покровский Соколовский Жуковский Каменский Дубровский
Рождественский Успенский Ткаченко Шевченко Бондаренко Кравченко Коваленко Бойко
Ковальчук Полищук Мельник Шевчук Толстой Белых Черных Седых Долгих Салтыков-Щедрин
Римский-Корсаков Петров-Водкин Муравьёв-Апостол
"""
)
_TAIL_ROOTS = _words(
    """
Бел Чер Крас Добр Сух Мал Вел Гор Рус Вол Лис Мед Кур Сом Щук Карп Зуб Нос Рог Сиз Зел
Жел Тих Гром Ветр Снег Пол Сел Град Бор Лук Рыж Лыс Кос Луз Сит Вар Ков Тур Мох Пес
"""
)
_TAIL_MIDDLES = ["", "ан", "ен", "ил", "ет", "уш", "яг"]
_TAIL_ENDS = ["ов", "ин", "ский", "енко", "ых"]
SURNAMES = list(dict.fromkeys(SURNAMES + [r + m + e for r in _TAIL_ROOTS for m in _TAIL_MIDDLES for e in _TAIL_ENDS]))

# (given name, patronymic of his son, patronymic of his daughter), most popular first.
MALE = [
    ("Александр", "Александрович", "Александровна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Максим", "Максимович", "Максимовна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Артём", "Артёмович", "Артёмовна"),
    ("Владимир", "Владимирович", "Владимировна"),
    ("Николай", "Николаевич", "Николаевна"),
    ("Денис", "Денисович", "Денисовна"),
    ("Павел", "Павлович", "Павловна"),
    ("Роман", "Романович", "Романовна"),
    ("Игорь", "Игоревич", "Игоревна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Антон", "Антонович", "Антоновна"),
    ("Никита", "Никитич", "Никитична"),
    ("Илья", "Ильич", "Ильинична"),
    ("Кирилл", "Кириллович", "Кирилловна"),
    ("Юрий", "Юрьевич", "Юрьевна"),
    ("Виктор", "Викторович", "Викторовна"),
    ("Вадим", "Вадимович", "Вадимовна"),
    ("Константин", "Константинович", "Константиновна"),
    ("Виталий", "Витальевич", "Витальевна"),
    ("Владислав", "Владиславович", "Владиславовна"),
    ("Егор", "Егорович", "Егоровна"),
    ("Даниил", "Даниилович", "Данииловна"),
    ("Станислав", "Станиславович", "Станиславовна"),
    ("Василий", "Васильевич", "Васильевна"),
    ("Анатолий", "Анатольевич", "Анатольевна"),
    ("Валерий", "Валерьевич", "Валерьевна"),
    ("Руслан", "Русланович", "Руслановна"),
    ("Георгий", "Георгиевич", "Георгиевна"),
    ("Леонид", "Леонидович", "Леонидовна"),
    ("Геннадий", "Геннадьевич", "Геннадьевна"),
    ("Борис", "Борисович", "Борисовна"),
    ("Вячеслав", "Вячеславович", "Вячеславовна"),
    ("Григорий", "Григорьевич", "Григорьевна"),
    ("Пётр", "Петрович", "Петровна"),
    ("Фёдор", "Фёдорович", "Фёдоровна"),
    ("Тимофей", "Тимофеевич", "Тимофеевна"),
    ("Матвей", "Матвеевич", "Матвеевна"),
    ("Степан", "Степанович", "Степановна"),
    ("Ярослав", "Ярославович", "Ярославовна"),
    ("Глеб", "Глебович", "Глебовна"),
    ("Арсений", "Арсеньевич", "Арсеньевна"),
    ("Эдуард", "Эдуардович", "Эдуардовна"),
    ("Аркадий", "Аркадьевич", "Аркадьевна"),
    ("Валентин", "Валентинович", "Валентиновна"),
    ("Семён", "Семёнович", "Семёновна"),
    ("Яков", "Яковлевич", "Яковлевна"),
    ("Лев", "Львович", "Львовна"),
    ("Марк", "Маркович", "Марковна"),
    ("Тимур", "Тимурович", "Тимуровна"),
    ("Филипп", "Филиппович", "Филипповна"),
    ("Богдан", "Богданович", "Богдановна"),
    ("Всеволод", "Всеволодович", "Всеволодовна"),
    ("Святослав", "Святославович", "Святославовна"),
    ("Альберт", "Альбертович", "Альбертовна"),
    ("Ростислав", "Ростиславович", "Ростиславовна"),
    ("Захар", "Захарович", "Захаровна"),
    ("Савелий", "Савельевич", "Савельевна"),
]
FEMALE = _words(
    """
Елена Ольга Наталья Татьяна Анна Мария Екатерина Ирина Светлана Юлия Анастасия Дарья
Марина Людмила Галина Валентина Надежда Любовь Вера Оксана Виктория Ксения Алёна Полина
Елизавета Софья Александра Кристина Алина Евгения Нина Лариса Жанна Тамара Маргарита
Инна Яна Вероника Диана Варвара Алла Зоя Лидия Валерия Антонина Раиса Ульяна Милана
Карина Василиса
"""
)

# ICAO 9303 (Russian passports since 2013), used for the Latin-spelled records.
ICAO = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "i",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "ie",
            "y",
            "",
            "e",
            "iu",
            "ia",
        ],
        strict=True,
    )
)
LETTERS = "абвгдежзийклмнопрстуфхцчшщыьэюя"


def female_surname(s: str) -> str:
    if "-" in s:
        return "-".join(female_surname(x) for x in s.split("-"))
    for end, fem in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая"), ("ый", "ая")):
        if s.endswith(end):
            return s[: -len(end)] + fem
    if s.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return s + "а"
    return s  # -ко, -ук, -ых, -ник: the same for both


def zipf(n: int, q: float, s: float) -> np.ndarray:
    """Zipf–Mandelbrot probabilities of ranks 1..n."""
    w = 1.0 / (np.arange(1, n + 1) + q) ** s
    return w / w.sum()


def snils(base: np.ndarray) -> list[str]:
    """11-digit SNILS with valid check digits for 9-digit bases."""
    digits = np.stack([(base // 10 ** (8 - i)) % 10 for i in range(9)], axis=1)
    total = (digits * np.arange(9, 0, -1)).sum(axis=1)
    check = np.where(total < 100, total, np.where(total <= 101, 0, total % 101))
    check = np.where(check == 100, 0, check)
    return [f"{b:09d}{c:02d}" for b, c in zip(base.tolist(), check.tolist(), strict=True)]


def _people(rng: np.random.Generator, n: int, first_id: int, id_bases: np.ndarray) -> list[dict]:
    male = rng.random(n) < 0.5
    sur = rng.choice(len(SURNAMES), n, p=zipf(len(SURNAMES), 8, 1.0))
    mg = rng.choice(len(MALE), n, p=zipf(len(MALE), 2, 1.1))
    fg = rng.choice(len(FEMALE), n, p=zipf(len(FEMALE), 2, 1.1))
    father = rng.choice(len(MALE), n, p=zipf(len(MALE), 4, 0.9))
    no_patronymic = rng.random(n) < 0.01
    keep_yo = rng.random(n) < 0.5  # registry spells ё for half the people who have one
    start = dt.date(1961, 1, 1).toordinal()
    days = rng.integers(0, dt.date(2009, 12, 31).toordinal() - start + 1, n)
    dates = {d: dt.date.fromordinal(start + d) for d in np.unique(days).tolist()}
    regions = [f"{r:02d}" for r in range(1, 93) if r not in (80, 81, 82, 84, 85, 88, 90)]
    region = rng.choice(len(regions), n, p=zipf(len(regions), 3, 0.9))
    district = rng.choice(40, n, p=zipf(40, 2, 0.9)) + 1
    ids = snils(id_bases)
    out = []
    for i in range(n):
        if male[i]:
            surname, given, patr = SURNAMES[sur[i]], MALE[mg[i]][0], MALE[father[i]][1]
        else:
            surname, given, patr = (
                female_surname(SURNAMES[sur[i]]),
                FEMALE[fg[i]],
                MALE[father[i]][2],
            )
        if not keep_yo[i]:
            surname, given, patr = (x.replace("ё", "е") for x in (surname, given, patr))
        out.append(
            {
                "person_id": first_id + i,
                "national_id": ids[i],
                "surname": surname,
                "given_name": given,
                "patronymic": None if no_patronymic[i] else patr,
                "sex": "M" if male[i] else "F",
                "birth_date": dates[days[i]],
                "region": regions[region[i]],
                "district": f"{district[i]:03d}",
            }
        )
    return out


def synthetic_persons(n: int, seed: int = 1) -> list[dict]:
    """A registry of `n` persons with unique valid national_ids."""
    rng = np.random.default_rng(seed)
    bases = rng.choice(np.arange(1_001_999, 1_001_999 + 4 * n + 1000), n, replace=False)
    return _people(rng, n, 1, bases)


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s + LETTERS[rng.integers(len(LETTERS))]
    i = int(rng.integers(1, len(s) - 1))  # first letters are rarely wrong
    kind = rng.integers(4)
    letter = LETTERS[rng.integers(len(LETTERS))]
    if kind == 0:
        return s[:i] + letter + s[i + 1 :]
    if kind == 1:
        return s[:i] + s[i + 1 :]
    if kind == 2:
        return s[:i] + letter + s[i:]
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]


def _latin(s: str | None) -> str | None:
    if s is None:
        return None
    return "".join(ICAO.get(c, c) for c in s.lower()).upper()


def noisy_records(persons: list[dict], n: int, seed: int = 2, strangers: float = 0.02, noise: float = 1.0):
    """`n` records about registry persons (and a share of strangers), with noise.

    `noise` multiplies every error rate (identity field errors; address and spelling
    variants stay as they are).

    Returns (records, truth): truth maps each record key to its person_id or None.
    """
    x = noise
    rng = np.random.default_rng(seed)
    n_strangers = round(n * strangers)
    outsiders = _people(
        rng,
        n_strangers,
        -n_strangers,
        rng.choice(np.arange(600_000_000, 700_000_000), n_strangers, replace=False),
    )
    picks = rng.choice(len(persons), n - n_strangers, replace=False)
    sources = [persons[i] for i in picks.tolist()] + outsiders
    order = rng.permutation(n)
    records, truth = [], {}
    for key, idx in enumerate(order.tolist()):
        p = sources[idx]
        r = {
            k: p[k]
            for k in (
                "national_id",
                "surname",
                "given_name",
                "patronymic",
                "birth_date",
                "region",
                "district",
            )
        }
        u = rng.random(16)
        if (idx >= n - n_strangers and u[0] < 0.5) or u[0] < 0.08 * x:
            r["national_id"] = None
        elif u[0] < 0.085 * x:  # wrong: someone else's, or a digit typo
            if u[1] < 0.5:
                r["national_id"] = persons[int(rng.integers(len(persons)))]["national_id"]
            else:
                d = list(r["national_id"])
                j = int(rng.integers(11))
                d[j] = str((int(d[j]) + 1 + int(rng.integers(9))) % 10)
                r["national_id"] = "".join(d)
        if u[2] < 0.03 * x:
            r["surname"] = _typo(rng, r["surname"])
        if u[3] < 0.03 * x:
            r["given_name"] = _typo(rng, r["given_name"])
        if u[4] < 0.01 * x and r["patronymic"]:
            r["given_name"], r["patronymic"] = r["patronymic"], r["given_name"]
        if u[5] < 0.02 * x:
            r["patronymic"] = None
        elif u[5] > 1 - 0.01 * x and r["patronymic"]:
            r["patronymic"] = _typo(rng, r["patronymic"])
        if u[6] < 0.5:  # ё written as е (the registry itself spells ё for half the people)
            for f in ("surname", "given_name", "patronymic"):
                r[f] = r[f].replace("ё", "е") if r[f] else None
        b = r["birth_date"]
        if u[7] < 0.01 * x and b.day <= 12 and b.day != b.month:
            b = dt.date(b.year, b.day, b.month)
        elif u[7] > 1 - 0.005 * x:
            iso = list(b.isoformat())
            j = [2, 3, 6, 9][int(rng.integers(4))]
            iso[j] = str((int(iso[j]) + 1) % 10)
            with contextlib.suppress(ValueError):  # not a date: keep the true one
                b = dt.date.fromisoformat("".join(iso))
        r["birth_date"] = b.isoformat()
        if u[8] < 0.3:
            r["region"] = r["district"] = None
        elif u[8] < 0.35:  # moved within the region, or to another one
            r["district"] = f"{int(rng.integers(1, 41)):03d}"
        elif u[8] < 0.38:
            r["region"] = persons[int(rng.integers(len(persons)))]["region"]
        if u[9] < 0.01:
            for f in ("surname", "given_name", "patronymic"):
                r[f] = _latin(r[f])
        elif u[9] < 0.11:
            for f in ("surname", "given_name", "patronymic"):
                r[f] = r[f].upper() if r[f] else None
        r["key"] = key
        records.append(r)
        truth[key] = p["person_id"] if p["person_id"] > 0 else None
    return records, truth


def quality(model, scored: dict, truth: dict, keys=None) -> dict:
    keys = list(truth) if keys is None else list(keys)
    links = correct = review = 0
    for k in keys:
        outcome, best = model.decide(scored[k])
        if outcome == "link":
            links += 1
            correct += best.person_id == truth[k]
        elif outcome == "review":
            review += 1
    matchable = sum(truth[k] is not None for k in keys)
    precision = correct / links if links else 1.0
    recall = correct / matchable if matchable else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "records": len(keys),
        "links": links,
        "correct": correct,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "review_share": review / len(keys) if keys else 0.0,
    }


def _fmt(q: dict) -> str:
    return (
        f"precision {q['precision']:.4f}  recall {q['recall']:.4f}  F1 {q['f1']:.4f}  "
        f"review {q['review_share']:.2%}  ({q['links']} links of {q['records']} records)"
    )


def main() -> None:
    from muster.feeds.linkage import LinkageModel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--train-records", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--noise", type=float, default=1.0, help="multiply every error rate")
    ap.add_argument("--repeat", type=int, default=3, help="timed score() calls with the index")
    args = ap.parse_args()

    t0 = time.perf_counter()
    persons = synthetic_persons(args.persons, args.seed)
    train_records, _ = noisy_records(persons, args.train_records, seed=args.seed + 100, noise=args.noise)
    records, truth = noisy_records(persons, args.records, seed=args.seed + 200, noise=args.noise)
    print(f"generated {len(persons):,} persons, {len(records):,} records in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    model = LinkageModel.train(persons, train_records, seed=args.seed)
    print(
        f"trained on {len(train_records):,} records in {time.perf_counter() - t0:.1f} s: "
        f"model {model.version}, upper {model.upper}, lower {model.lower}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        model.save(path)
        size = path.stat().st_size
        model = LinkageModel.load(path)
    print(f"model JSON {size / 1024:.0f} KiB")

    t0 = time.perf_counter()
    scored = model.score(records, persons)
    cold = time.perf_counter() - t0
    print(
        f"cold score (persons as dicts): {len(records) / cold:,.0f} records/s "
        f"({cold:.2f} s for {len(records):,} records against {len(persons):,} persons)"
    )

    t0 = time.perf_counter()
    index = model.index_persons(persons)
    print(f"index_persons: {time.perf_counter() - t0:.2f} s")
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        warm = model.score(records, index)
        times.append(time.perf_counter() - t0)
    best = min(times)
    assert warm == scored
    print(f"warm score (PersonIndex): {len(records) / best:,.0f} records/s (best of {args.repeat}: {best:.2f} s)")

    # What ingestion does: fetch the blocked candidates from the registry's indexes
    # first (here: dicts standing in for database indexes), pass only those.
    fetched = candidates(persons, records)
    t0 = time.perf_counter()
    subset = model.score(records, fetched)
    fetched_s = time.perf_counter() - t0
    assert subset == scored
    print(
        f"score against pre-fetched candidates ({len(fetched):,} persons): "
        f"{len(records) / fetched_s:,.0f} records/s ({fetched_s:.2f} s)"
    )

    q = quality(model, scored, truth)
    print("quality, all records:               " + _fmt(q))
    hard = [
        r["key"] for r in records if r["national_id"] is None or r["national_id"] not in _valid_ids(persons, truth, r)
    ]
    print("quality, national_id missing/wrong: " + _fmt(quality(model, scored, truth, hard)))


def candidates(persons: list[dict], records: list[dict]) -> list[dict]:
    """The persons some blocking rule of the model can pair with some record."""
    from muster.feeds.linkage import _dates, normalise_name

    def keys(row):
        s, g, p = (normalise_name(row.get(f)) for f in ("surname", "given_name", "patronymic"))
        born, swapped = _dates(row.get("birth_date"))
        return row.get("national_id"), born, swapped, s, g, p

    wanted: set = set()
    for r in records:
        nid, born, swapped, s, g, p = keys(r)
        wanted |= {("n", nid), ("bs", born, s), ("bg", born, g), ("bp", born, p), ("sgp", s, g, p)}
        wanted |= {("ts", born, s), ("tg", born, g)}  # the person's birth date transposed
    out = []
    for person in persons:
        nid, born, swapped, s, g, p = keys(person)
        probes = {("n", nid), ("bs", born, s), ("bg", born, g), ("bp", born, p), ("sgp", s, g, p)}
        probes |= {("ts", swapped, s), ("tg", swapped, g)}
        if probes & wanted:
            out.append(person)
    return out


def _valid_ids(persons, truth, record) -> set:
    pid = truth[record["key"]]
    return {persons[pid - 1]["national_id"]} if pid else set()


if __name__ == "__main__":
    main()
