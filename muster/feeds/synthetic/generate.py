"""Write a synthetic population and its agency feeds as JSON Lines (SPEC section 4).

Files: population.jsonl (clean, authoritative), one file per other source (with
identity noise unless noise=False) and truth.jsonl, which names the true person
of every non-population record. Absent optional values are omitted, not null.
Same arguments, same bytes.
"""

import datetime as dt
import re
import time
from itertools import repeat
from pathlib import Path

import numpy as np
import orjson
from tqdm import tqdm

from muster.registry.regions import REGIONS

from . import dates, population, sources
from .population import CITIZENSHIPS

_CHUNK = 100_000


def _population_rows(pop: population.Population, order: np.ndarray, rng):
    region = np.array([r.code for r in REGIONS], object)[pop.region[order]].tolist()
    district = [f"{d + 1:03d}" for d in pop.district[order].tolist()]
    cit = np.array(CITIZENSHIPS, object)[pop.citizenship[order]].tolist()
    cols = {
        "national_id": pop.national_id[order].tolist(),
        "tax_id": pop.tax_id[order].tolist(),
        "surname": pop.surname_pop[order].tolist(),
        "given_name": pop.given_pop[order].tolist(),
        "patronymic": pop.patronymic_pop[order].tolist(),
        "sex": np.where(pop.male[order], "M", "F").tolist(),
        "birth_date": dates.iso(pop.birth[order]),
        "citizenship": cit,
        "region": region,
        "district": district,
        "address": pop.address[order].tolist(),
        "postcode": [f"{v:06d}" if v else None for v in pop.postcode[order].tolist()],
        "phone": pop.phone[order].tolist(),
        "email": pop.email[order].tolist(),
        "death_date": sources._dates(pop.death[order]),
    }
    changed = dates.timestamps(pop.changed[order], rng)
    return changed, cols


_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


def _fragments(key: str, values: list) -> list[str]:
    """`,"key":value` for each value, "" for None, as JSON text."""
    head = f',"{key}":'
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return ["" if v is None else head + ("true" if v else "false") for v in values]
    if isinstance(sample, int | float):
        return ["" if v is None else head + orjson.dumps(v).decode() for v in values]
    if _UNSAFE.search("".join(filter(None, values))):
        return ["" if v is None else head + orjson.dumps(v).decode() for v in values]
    return ["" if v is None else f'{head}"{v}"' for v in values]


def _write(path: Path, prefix: str, changed: list[str], cols: dict[str, list], bar) -> tuple[int, list[str]]:
    # Lines are assembled from per-column JSON fragments: much faster than one
    # dumps() per record, and without millions of short-lived objects.
    n = len(changed)
    width = max(8, len(str(n)))
    ids = [f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)]
    with path.open("wb") as fh:
        for a in range(0, n, _CHUNK):
            b = min(n, a + _CHUNK)
            parts = [
                [f'{{"record_id":"{r}"' for r in ids[a:b]],
                _fragments("changed_at", changed[a:b]),
            ]
            parts += [_fragments(k, v[a:b]) for k, v in cols.items()]
            parts.append(repeat("}\n", b - a))
            fh.write("".join(map("".join, zip(*parts, strict=True))).encode())
            bar.update(b - a)
    return n, ids


def generate(
    persons: int,
    out_dir: Path,
    seed: int = 1,
    as_of: dt.date = dt.date(2026, 12, 1),
    noise: bool = True,
    progress: bool = False,
) -> dict:
    """Generate `persons` people and the eight feeds about them into `out_dir`."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    horizon = dates.to_days(as_of) - 1
    level = sources.Noise() if noise else sources.NO_NOISE

    pop = population.build(persons, rng, horizon)
    tables = [build(pop, rng, level) for build in sources.BUILDERS]
    total = pop.n + 2 * sum(len(t.person) for t in tables)
    files: dict[str, int] = {}
    with tqdm(total=total, disable=not progress, unit="rec", desc="synthetic feeds") as bar:
        order = rng.permutation(pop.n)
        changed, cols = _population_rows(pop, order, rng)
        files["population"], _ = _write(out_dir / "population.jsonl", "POP", changed, cols, bar)
        truth: list[str] = []
        for t in tables:
            # Records in random order: file position must not betray the person.
            perm = rng.permutation(len(t.person))
            person = t.person[perm]
            cols = sources.identity(pop, person, rng, level)
            for name, values in t.fields:
                cols[name] = [values[i] for i in perm.tolist()]
            changed = dates.timestamps(t.changed[perm], rng)
            files[t.source], ids = _write(out_dir / f"{t.source}.jsonl", t.prefix, changed, cols, bar)
            head = f'{{"source":"{t.source}","record_id":"'
            true_ids = pop.national_id[person].tolist()
            truth += [f'{head}{rid}","national_id":"{nid}"}}\n' for rid, nid in zip(ids, true_ids, strict=True)]
            bar.update(len(ids))
        (out_dir / "truth.jsonl").write_bytes("".join(truth).encode())
        files["truth"] = len(truth)
    return {"persons": pop.n, "files": files, "seconds": round(time.perf_counter() - started, 3)}
