"""Probabilistic identity linkage: incoming agency records against registry persons.

A Fellegi–Sunter model built with Splink on DuckDB (``link_only`` between a batch of
records and the registry). The model is trained once on the registry's own data,
saved as JSON (a versioned artefact) and reused between batches: ``score()`` never
retrains. Core functions take plain dicts and return plain data; nothing here imports
Django.

Names are compared on a canonical key (see ``normalise_name``): Cyrillic, case-folded,
with the letters that transliteration and spelling habits blur folded together.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

# Bump when normalise_name() changes: keys change, so a saved model must be retrained.
NORMALISATION = 1
FORMAT = "muster.linkage/1"

DEFAULT_UPPER = 0.99
DEFAULT_LOWER = 0.5
# Random pairs sampled to estimate u (the Field Notes: 1M ≈ 3 s, 10M ≈ 13 s).
U_SAMPLE_PAIRS = 3e6
# EM sees at most this many blocked pairs per session (a hash sample beyond that).
EM_MAX_PAIRS = 3e6
# Term-frequency lookups keep this many most frequent values per name column; rarer
# values get no adjustment (the level's average weight), which is conservative.
TF_MAX_VALUES = 50_000

NAME_COLUMNS = ("surname", "given_name", "patronymic")

# Lowest m of any level after training. A batch without, say, patronymic typos would
# otherwise teach the model that a patronymic typo is impossible (weight -50). Address
# disagreement is common (people move, feeds lag), so its floor is higher: weak evidence.
M_FLOOR = 1e-3
M_FLOOR_BY_COMPARISON = {"address": 0.05}


# --------------------------------------------------------------------------- names

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015'’`ʼ.]+")
_NON_CYRILLIC = re.compile(r"[^а-я]")
_LATIN = re.compile(r"[a-z]")
_VOWELS = set("aeiouy")

# Latin spellings that are not a letter-by-letter transliteration of the Russian name.
_LATIN_VARIANTS = {"alexander": "aleksandr"}

# Latin → Cyrillic, longest match first. Covers ICAO 9303 (passports since 2013),
# BGN/PCGN, GOST 7.79-B and informal spellings (ya/ia/ja, yu/iu/ju, kh/h, shch/sch, x).
_LATIN_TOKENS = {
    "shch": "щ",
    "sch": "щ",
    "tch": "ч",
    "zh": "ж",
    "kh": "х",
    "ts": "ц",
    "ch": "ч",
    "sh": "ш",
    "ph": "ф",
    "yu": "ю",
    "iu": "ю",
    "ju": "ю",
    "ya": "я",
    "ia": "я",
    "ja": "я",
    "yo": "е",
    "jo": "е",
    "ye": "е",
    "je": "е",
    "a": "а",
    "b": "б",
    "c": "к",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "й",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "q": "к",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "v": "в",
    "w": "в",
    "x": "кс",
    "z": "з",
}
_TOKEN_LENGTHS = (4, 3, 2, 1)

# Final folding on Cyrillic: letters that spellings and transliterations do not keep
# apart (ё/е, э/е, й/и, soft and hard signs, Ukrainian/Belarusian letters), and the
# vowel pairs Latin writes as "ia"/"iu" (Юлия, Yulia, IULIIA and Юля share a key; so do
# Наталия and Наталья, which people themselves mix up).
_FOLD = str.maketrans(
    {
        "ё": "е",
        "э": "е",
        "й": "и",
        "і": "и",
        "ї": "и",
        "є": "е",
        "ґ": "г",
        "ў": "в",
        "ь": None,
        "ъ": None,
    }
)


def _latin_to_cyrillic(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "y" and not text.startswith(("ya", "yu", "yo", "ye"), i):
            prev = text[i - 1] if i else ""
            if prev and prev in _VOWELS:
                out.append("й")  # Sergey, Nikolay
            elif i == n - 1 and prev:
                out.append("ий")  # Dmitry, Grigory, -sky
            else:
                out.append("ы")  # Bykov, Chernykh
            i += 1
            continue
        for size in _TOKEN_LENGTHS:
            token = text[i : i + size]
            if len(token) == size and token in _LATIN_TOKENS:
                out.append(_LATIN_TOKENS[token])
                i += size
                break
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@functools.lru_cache(maxsize=1 << 18)
def normalise_name(value: str | None) -> str | None:
    """The comparison key of a surname, given name or patronymic.

    Canonical form: lower-case Cyrillic letters only. Case is folded, ё→е, separators
    (spaces, hyphens, apostrophes, dots) are dropped, Latin input is transliterated to
    Cyrillic (any of the usual schemes), then letters that spellings blur are folded:
    э→е, й→и, ь and ъ dropped, иа/ия→я, иу→ю. "Ёлкин" → "елкин", "Салтыков-Щедрин" →
    "салтыковщедрин", "Sergey"/"Sergei"/"Сергей" → "сергеи", "Aleksandr"/"Alexander" →
    "александр". None, "" and strings without letters → None.
    """
    if value is None:
        return None
    text = _SEPARATORS.sub("", str(value).strip().casefold()).replace("ё", "е")
    if not text:
        return None
    if _LATIN.search(text):
        text = _latin_to_cyrillic(_LATIN_VARIANTS.get(text, text))
    text = _NON_CYRILLIC.sub("", text.translate(_FOLD))
    text = text.replace("иа", "я").replace("ия", "я").replace("иу", "ю")
    return text or None


# --------------------------------------------------------------------------- tables

_SCHEMA = pa.schema(
    [
        ("unique_id", pa.int64()),
        ("national_id", pa.string()),
        ("surname", pa.string()),
        ("given_name", pa.string()),
        ("patronymic", pa.string()),
        ("birth_date", pa.string()),
        ("birth_date_t", pa.string()),
        ("region", pa.string()),
        ("area", pa.string()),
    ]
)


@functools.lru_cache(maxsize=1 << 16)
def _dates(value: Any) -> tuple[str | None, str | None]:
    """ISO birth date and the same date with day and month swapped (None if not a date)."""
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            return text or None, None
    iso = day.isoformat()
    if day.day <= 12 and day.day != day.month:
        return iso, f"{day.year:04d}-{day.day:02d}-{day.month:02d}"
    return iso, None


def _digits(value: Any) -> str | None:
    """national_id without the separators it is often written with ("123-456-789 01")."""
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        return value
    text = re.sub(r"[\s\-]", "", str(value))
    return text or None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _table(rows: Sequence[dict], ids: Iterable[int]) -> pa.Table:
    """The normalised comparison table (column by column: 1M persons in about a second)."""
    cols: dict[str, list] = {"unique_id": list(ids)}
    cols["national_id"] = [_digits(r.get("national_id")) for r in rows]
    for name in NAME_COLUMNS:
        cols[name] = [normalise_name(r.get(name)) for r in rows]
    dates = [_dates(r.get("birth_date")) for r in rows]
    cols["birth_date"] = [d[0] for d in dates]
    cols["birth_date_t"] = [d[1] for d in dates]
    regions = [_text(r.get("region")) for r in rows]
    districts = [_text(r.get("district")) for r in rows]
    cols["region"] = regions
    cols["area"] = [f"{r}-{d}" if r and d else None for r, d in zip(regions, districts, strict=True)]
    return pa.table(cols, schema=_SCHEMA)


def _persons_table(persons: Sequence[dict]) -> pa.Table:
    ids = [int(p["person_id"]) for p in persons]
    if len(set(ids)) != len(ids):
        raise ValueError("person_id must be unique")
    return _table(persons, ids)


# --------------------------------------------------------------------------- model


def _levels_null(condition: str) -> dict:
    return {"sql_condition": condition, "label_for_charts": "missing", "is_null_level": True}


def _name_comparison(col: str, swap_with: str | None = None) -> dict:
    levels = [
        _levels_null(f"{col}_l IS NULL OR {col}_r IS NULL"),
        {
            "sql_condition": f"{col}_l = {col}_r",
            "label_for_charts": "exact",
            "tf_adjustment_column": col,
            "tf_adjustment_weight": 1.0,
        },
    ]
    if swap_with:
        levels.append(
            {
                "sql_condition": f"{col}_l = {swap_with}_r OR {swap_with}_l = {col}_r",
                "label_for_charts": f"equals the other's {swap_with}",
            }
        )
    levels += [
        {
            "sql_condition": f"jaro_winkler_similarity({col}_l, {col}_r) >= 0.92",
            "label_for_charts": "Jaro-Winkler >= 0.92",
        },
        {
            "sql_condition": f"jaro_winkler_similarity({col}_l, {col}_r) >= 0.85",
            "label_for_charts": "Jaro-Winkler >= 0.85",
        },
        {"sql_condition": "ELSE", "label_for_charts": "different"},
    ]
    return {"output_column_name": col, "comparison_description": col, "comparison_levels": levels}


# Candidate pairs. A birth date alone pairs a record with ~1/18,000 of the registry
# (550 persons at 10M), so every birth-date rule also asks for one equal name; the
# last rule catches a wrong birth date when the whole name agrees.
BLOCKING_RULES = (
    "l.national_id = r.national_id",
    "l.birth_date = r.birth_date AND l.surname = r.surname",
    "l.birth_date = r.birth_date AND l.given_name = r.given_name",
    "l.birth_date = r.birth_date AND l.patronymic = r.patronymic",
    "l.birth_date = r.birth_date_t AND l.surname = r.surname",
    "l.birth_date = r.birth_date_t AND l.given_name = r.given_name",
    "l.surname = r.surname AND l.given_name = r.given_name AND l.patronymic = r.patronymic",
)


def _settings() -> dict:
    """The untrained Splink settings: comparisons and blocking rules."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "comparisons": [
            {
                "output_column_name": "national_id",
                "comparison_description": "national_id",
                "comparison_levels": [
                    _levels_null("national_id_l IS NULL OR national_id_r IS NULL"),
                    {"sql_condition": "national_id_l = national_id_r", "label_for_charts": "exact"},
                    {
                        "sql_condition": "damerau_levenshtein(national_id_l, national_id_r) <= 1",
                        "label_for_charts": "one digit wrong or two swapped",
                    },
                    {"sql_condition": "ELSE", "label_for_charts": "different"},
                ],
            },
            _name_comparison("surname"),
            _name_comparison("given_name", swap_with="patronymic"),
            _name_comparison("patronymic", swap_with="given_name"),
            {
                "output_column_name": "birth_date",
                "comparison_description": "birth_date",
                "comparison_levels": [
                    _levels_null("birth_date_l IS NULL OR birth_date_r IS NULL"),
                    {"sql_condition": "birth_date_l = birth_date_r", "label_for_charts": "exact"},
                    {
                        "sql_condition": ("birth_date_l = birth_date_t_r OR birth_date_t_l = birth_date_r"),
                        "label_for_charts": "day and month transposed",
                    },
                    {
                        "sql_condition": "damerau_levenshtein(birth_date_l, birth_date_r) <= 1",
                        "label_for_charts": "one character wrong or two swapped",
                    },
                    {"sql_condition": "ELSE", "label_for_charts": "different"},
                ],
            },
            {
                "output_column_name": "address",
                "comparison_description": "region and district",
                "comparison_levels": [
                    _levels_null("region_l IS NULL OR region_r IS NULL"),
                    {"sql_condition": "area_l = area_r", "label_for_charts": "same district"},
                    {"sql_condition": "region_l = region_r", "label_for_charts": "same region"},
                    {"sql_condition": "ELSE", "label_for_charts": "different"},
                ],
            },
        ],
        "blocking_rules_to_generate_predictions": list(BLOCKING_RULES),
    }


# EM sessions: each estimates m for the comparisons its blocking rule does not use.
_EM_BLOCKING_RULES = (
    "l.birth_date = r.birth_date",
    "l.surname = r.surname AND l.given_name = r.given_name",
)


@dataclass(frozen=True)
class Candidate:
    person_id: int
    probability: float  # Splink match_probability
    weight: float  # Splink match_weight (log2 Bayes factor, prior included)
    field_weights: dict[str, float]  # match weight of each comparison, tf adjustment included


@dataclass(eq=False)
class PersonIndex:
    """Persons prepared once (normalised, registered in a model's DuckDB connection).

    Pass it to ``LinkageModel.score`` in place of the list of persons to score many
    batches against the same registry snapshot without preparing it again.
    """

    table: pa.Table
    _owner: LinkageModel | None = field(default=None, repr=False)
    _view: str | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.table.num_rows

    def close(self) -> None:
        """Release the registration in the model's connection."""
        owner = self._owner
        if owner is not None and owner._db_api is not None and self._view:
            owner._db_api.duckdb_con.unregister(self._view)
        self._owner = self._view = None


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class LinkageModel:
    """A trained linkage model: Splink settings with m/u, term frequencies, thresholds."""

    def __init__(
        self,
        settings: dict,
        term_frequencies: dict[str, dict[str, float]],
        *,
        upper: float = DEFAULT_UPPER,
        lower: float = DEFAULT_LOWER,
        trained_at: str | None = None,
        counts: dict[str, int] | None = None,
    ):
        settings = dict(settings)
        settings.pop("linker_uid", None)  # random per Linker; not part of the model
        self.settings = settings
        self.term_frequencies = term_frequencies
        self.upper = upper
        self.lower = lower
        self.trained_at = trained_at
        self.counts = counts or {}
        self._digest: str | None = None
        self._db_api = None
        self._linker = None
        self._seq = 0

    # ------------------------------------------------------------ identity

    @property
    def version(self) -> str:
        """sha256 (first 12 hex digits) of all that decides a score and its outcome:
        the trained Splink settings, term frequencies, normalisation and thresholds."""
        if self._digest is None:  # settings and term frequencies are fixed once built
            self._digest = hashlib.sha256(
                _canonical(
                    {
                        "format": FORMAT,
                        "normalisation": NORMALISATION,
                        "settings": self.settings,
                        "term_frequencies": self.term_frequencies,
                    }
                ).encode()
            ).hexdigest()
        thresholds = _canonical({"upper": self.upper, "lower": self.lower})
        return hashlib.sha256((self._digest + thresholds).encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"<LinkageModel {self.version} upper={self.upper} lower={self.lower}>"

    # ------------------------------------------------------------ training

    @classmethod
    def train(
        cls,
        persons: list[dict],
        records: list[dict],
        seed: int = 1,
        *,
        trained_at: dt.datetime | None = None,
        registry_size: int | None = None,
        u_sample_pairs: float = U_SAMPLE_PAIRS,
    ) -> LinkageModel:
        """Estimate the model from the registry (``persons``) and a batch of ``records``.

        ``records`` should look like what will be scored (a real feed batch, noise and
        all; thousands of records): m is learnt from them. u comes from random sampling
        of record–person pairs; m from expectation maximisation over two blocking rules
        (birth date; surname and given name), floored (M_FLOOR); the prior from the
        registry size: a record is at most one of ``registry_size`` persons (default
        ``len(persons)``; pass the registry's count when ``persons`` is a sample, and
        retrain when the registry has grown severalfold). Term frequencies of names
        come from ``persons``. The same inputs and seed give the same model and
        version. ``trained_at`` defaults to now (UTC).
        """
        from splink import DuckDBAPI, Linker  # on use: importing Splink takes ~0.5 s

        if not persons or not records:
            raise ValueError("training needs persons and records")
        persons_tbl = _persons_table(persons)
        records_tbl = _table(records, range(len(records)))
        tfs = _term_frequencies(persons_tbl)

        db_api = DuckDBAPI(duckdb.connect(":memory:"))
        try:
            sdf_records = db_api.register(records_tbl, table_name="records")
            sdf_persons = db_api.register(persons_tbl, table_name="persons")
            settings = _settings()
            settings["probability_two_random_records_match"] = 1 / (registry_size or len(persons))
            linker = Linker([sdf_records, sdf_persons], settings, log_level=None)
            _register_tfs(linker, db_api, tfs)
            linker.training.estimate_u_using_random_sampling(max_pairs=u_sample_pairs, seed=seed)
            # Parallel float sums make EM differ in the last digits between runs; one
            # thread makes the artefact (and its version) reproducible.
            db_api.duckdb_con.execute("SET threads = 1")
            for rule in _EM_BLOCKING_RULES:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, fix_probability_two_random_records_match=True, max_pairs=EM_MAX_PAIRS
                )
            trained = _round_mu(_floor_m(linker.misc.save_model_to_json()))
        finally:
            db_api.duckdb_con.close()
        when = trained_at or dt.datetime.now(dt.UTC)
        return cls(
            trained,
            tfs,
            trained_at=when.isoformat(timespec="seconds"),
            counts={
                "persons": len(persons),
                "records": len(records),
                "registry": registry_size or len(persons),
            },
        )

    # ------------------------------------------------------------ persistence

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": self.version,
            "normalisation": NORMALISATION,
            "trained_at": self.trained_at,
            "counts": self.counts,
            "upper": self.upper,
            "lower": self.lower,
            "splink_settings": self.settings,
            "term_frequencies": self.term_frequencies,
        }

    def save(self, path: Path) -> None:
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True)
        Path(path).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> LinkageModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a linkage model: format {data.get('format')!r}")
        if data.get("normalisation") != NORMALISATION:
            raise ValueError(
                f"model uses name normalisation {data.get('normalisation')}, this code "
                f"{NORMALISATION}: retrain the model"
            )
        model = cls(
            data["splink_settings"],
            data["term_frequencies"],
            upper=data["upper"],
            lower=data["lower"],
            trained_at=data.get("trained_at"),
            counts=data.get("counts"),
        )
        if data.get("version") and data["version"] != model.version:
            raise ValueError(f"model file altered: version {data['version']} != {model.version}")
        return model

    @classmethod
    def load(cls, path: Path) -> LinkageModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    # ------------------------------------------------------------ scoring

    def _ensure_linker(self):
        """One DuckDB connection and Linker per model, kept for repeated scoring."""
        if self._linker is None:
            from splink import DuckDBAPI, Linker

            db_api = DuckDBAPI(duckdb.connect(":memory:"))
            empty = _SCHEMA.empty_table()
            inputs = [
                db_api.register(empty, table_name="__muster_records_empty"),
                db_api.register(empty, table_name="__muster_persons_empty"),
            ]
            linker = Linker(inputs, self.settings, log_level=None)
            _register_tfs(linker, db_api, self.term_frequencies)
            self._db_api, self._linker = db_api, linker
        return self._linker

    def _register(self, table: pa.Table, role: str):
        """Register ``table`` with Splink as one side of a link ("records"/"persons")."""
        self._ensure_linker()
        self._seq += 1
        return self._db_api.register(table, table_name=f"__muster_{role}_{self._seq}", dataset_display_name=role)

    def _view(self, table: pa.Table) -> str:
        """Register ``table`` in the model's DuckDB connection only (no Splink)."""
        self._ensure_linker()
        self._seq += 1
        name = f"__muster_view_{self._seq}"
        self._db_api.duckdb_con.register(name, table)
        return name

    def _unregister(self, sdf) -> None:
        self._db_api.duckdb_con.unregister(sdf.physical_name)
        self._db_api._registered_table_names.discard(sdf.templated_name)

    def index_persons(self, persons: Sequence[dict]) -> PersonIndex:
        """Prepare ``persons`` once for many ``score`` calls (see PersonIndex)."""
        index = PersonIndex(_persons_table(persons))
        index._owner = self
        index._view = self._view(index.table)
        return index

    def score(
        self,
        records: list[dict],
        persons: list[dict] | PersonIndex,
        top: int = 3,
    ) -> dict[Hashable, list[Candidate]]:
        """The best candidate persons of every record, best first (at most ``top``).

        Pairs come from the blocking rules (BLOCKING_RULES); a record with no blocked
        pair gets []. ``persons`` may be a PersonIndex from ``index_persons``.
        """
        keys = [r["key"] for r in records]
        if len(set(keys)) != len(keys):
            raise ValueError("record keys must be unique")
        result: dict[Hashable, list[Candidate]] = {k: [] for k in keys}
        if not records or not persons:
            return result
        linker = self._ensure_linker()
        con = self._db_api.duckdb_con

        owned = isinstance(persons, PersonIndex) and persons._owner is self
        if owned:
            persons_view = persons._view
        else:
            table = persons.table if isinstance(persons, PersonIndex) else _persons_table(persons)
            persons_view = self._view(table)
        sdf_records = self._register(_table(records, range(len(records))), "records")
        sdf_persons = predictions = None
        try:
            # Only the persons some blocking rule can pair with a record go to Splink,
            # which then blocks and scores them: a batch costs what it pairs, not what
            # the registry holds.
            sql = _blocked_persons_sql(persons_view, sdf_records.physical_name)
            subset = con.sql(sql).to_arrow_table()
            if subset.num_rows:
                sdf_persons = self._register(subset, "persons")
                predictions = linker.inference.predict_between(sdf_records, sdf_persons, warning_mode="never")
                rows = self._top(predictions.physical_name, top)
            else:
                rows = []
        finally:
            if predictions is not None:
                predictions.drop_table_from_database_and_remove_from_cache()
            if sdf_persons is not None:
                self._unregister(sdf_persons)
            self._unregister(sdf_records)
            if not owned:
                con.unregister(persons_view)

        names = [c["output_column_name"] for c in self.settings["comparisons"]]
        for rid, pid, prob, weight, *parts in rows:
            fields = dict(zip(names, parts, strict=True))
            result[keys[rid]].append(Candidate(int(pid), prob, weight, fields))
        return result

    def _top(self, table: str, top: int) -> list[tuple]:
        """(record index, person_id, probability, weight, field weights...) best first."""
        con = self._db_api.duckdb_con
        columns = {c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()}
        parts = []
        for c in self.settings["comparisons"]:
            name = c["output_column_name"]
            terms = [f"coalesce({col}, 0.0)" for col in (f"mw_{name}", f"mw_tf_adj_{name}") if col in columns]
            parts.append(" + ".join(terms) or "0.0")
        # Which side is the batch is decided by source_dataset, not by position.
        sql = f"""
            WITH p AS (
                SELECT
                    CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END
                        AS rid,
                    CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END
                        AS pid,
                    match_probability::DOUBLE AS probability, match_weight::DOUBLE AS weight,
                    {", ".join(f"({p})::DOUBLE AS f{i}" for i, p in enumerate(parts))}
                FROM {table}
            )
            SELECT * FROM p
            QUALIFY row_number() OVER (PARTITION BY rid ORDER BY weight DESC, pid) <= ?
            ORDER BY rid, weight DESC, pid
        """
        return con.execute(sql, [top]).fetchall()

    def decide(self, candidates: Sequence[Candidate]) -> tuple[str, Candidate | None]:
        """The outcome for one record's candidates (as ``score`` returns them).

        ("link", best) when best's exclusive probability (see ``exclusive_probabilities``)
        is at least ``upper``; ("review", best) when it is at least ``lower``;
        ("no_match", None) otherwise. A namesake close behind the best thus sends the
        record to review, a distant one does not.
        """
        if not candidates:
            return "no_match", None
        best = candidates[0]
        p = exclusive_probabilities(candidates)[0]
        if p >= self.upper:
            return "link", best
        if p >= self.lower:
            return "review", best
        return "no_match", None

    def close(self) -> None:
        if self._db_api is not None:
            self._db_api.duckdb_con.close()
        self._db_api = self._linker = None


# --------------------------------------------------------------------------- helpers


def _term_frequencies(persons: pa.Table) -> dict[str, dict[str, float]]:
    """Share of persons holding each normalised name (the most frequent TF_MAX_VALUES)."""
    con = duckdb.connect(":memory:")
    try:
        con.register("p", persons)
        out = {}
        for col in NAME_COLUMNS:
            rows = con.execute(
                f"""
                SELECT {col}, count(*) / (SELECT count({col}) FROM p) AS tf
                FROM p WHERE {col} IS NOT NULL
                GROUP BY {col} ORDER BY tf DESC, {col} LIMIT {TF_MAX_VALUES}
                """
            ).fetchall()
            out[col] = {value: round(tf, 12) for value, tf in rows}
        return out
    finally:
        con.close()


def exclusive_probabilities(candidates: Sequence[Candidate]) -> list[float]:
    """Probability that the record is each candidate, given that it is at most one.

    Splink scores each pair on its own; a record is one person, so the candidates'
    odds (2 ** match_weight, prior included) compete: p_i = odds_i / (1 + sum(odds)).
    With a single candidate this is its match_probability.
    """
    top = max((c.weight for c in candidates), default=0.0)
    shift = max(top, 0.0)  # scale by 2**-shift so that large weights cannot overflow
    odds = [2.0 ** (c.weight - shift) for c in candidates]
    total = 2.0**-shift + sum(odds)
    return [o / total for o in odds]


_EQUALITY = re.compile(r"l\.(\w+) = r\.(\w+)")


def _blocked_persons_sql(persons: str, records: str) -> str:
    """Persons that at least one blocking rule pairs with some record (semi-joins)."""
    selects = []
    for rule in BLOCKING_RULES:
        terms = rule.split(" AND ")
        pairs = [_EQUALITY.fullmatch(t) for t in terms]
        if not all(pairs):
            raise ValueError(f"blocking rule is not a conjunction of l.x = r.y: {rule}")
        on = " AND ".join(f"l.{m[1]} = r.{m[2]}" for m in pairs)
        selects.append(f"SELECT r.unique_id FROM {persons} AS r SEMI JOIN {records} AS l ON {on}")
    union = "\n UNION ".join(selects)
    return f"SELECT * FROM {persons} WHERE unique_id IN ({union})"


def _floor_m(settings: dict) -> dict:
    """Raise every trained level's m to its floor and renormalise the comparison."""
    for comparison in settings["comparisons"]:
        floor = M_FLOOR_BY_COMPARISON.get(comparison["output_column_name"], M_FLOOR)
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        if not any("m_probability" in lv for lv in levels):
            continue  # nothing trained (e.g. no record had the field): Splink's defaults
        for lv in levels:
            lv["m_probability"] = max(lv.get("m_probability", 0.0), floor)
        total = sum(lv["m_probability"] for lv in levels)
        for lv in levels:
            lv["m_probability"] /= total
    return settings


def _round_mu(settings: dict, digits: int = 10) -> dict:
    """m and u to `digits` significant digits: a readable, diffable artefact."""
    for comparison in settings["comparisons"]:
        for lv in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if isinstance(lv.get(key), float):
                    lv[key] = float(f"{lv[key]:.{digits}g}")
    return settings


def _register_tfs(linker, db_api, tfs: dict[str, dict[str, float]]) -> None:
    for col, lookup in tfs.items():
        table = pa.table(
            {col: list(lookup), f"tf_{col}": list(lookup.values())},
            schema=pa.schema([(col, pa.string()), (f"tf_{col}", pa.float64())]),
        )
        sdf = db_api.register(table, table_name=f"__muster_tf_{col}")
        linker.table_management.register_term_frequency_lookup(sdf, col)
