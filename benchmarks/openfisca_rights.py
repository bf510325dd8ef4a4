"""The reference grounds as an OpenFisca-core tax-benefit system: the comparison for
benchmarks/rights_evaluation.py.

    DATABASE_URL=... MUSTER_HOME=... python benchmarks/openfisca_rights.py [--as-of DATE]
                                        [--table openfisca_decision] [--features store|facts]

Written from muster/rulepacks/ru/grounds.py: the same 20 grounds with their citations, the
same precedence (not liable over exempt over not called up over deferral; among deferrals
the longest, open-ended longest, the first of equals in the pack's order) and the same
`until` dates. One entity (person); facts are ETERNITY inputs, grounds and the decision DAY
variables computed vectorised; the law parameters are muster's own YAML files, which are
already in OpenFisca's format (`values: {DATE: VALUE}`), read as of the evaluation day.

End to end, like `muster evaluate`: the person features are read from the database, by
default from muster's feature store (`rules_features_ru`, the table `muster evaluate` reads;
`--features facts` derives them from the facts with the very query that fills the store,
the rule pack's `features_sql`), the simulation runs, and the
decisions (person_id, status, ground, until) are written into a new table with COPY
(PostgreSQL; executemany on SQLite). Prints JSON with the phases' seconds.

Unknown values follow the rule DSL: a comparison with an unknown value is false. Dates are
numpy datetime64 with NaT for unknown (NaT compares false), text codes are OpenFisca enums
with an `other` member for unknown, the one nullable integer (pregnancy weeks) uses -1.
"""

import argparse
import datetime as dt
import io
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np
import yaml
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum, EnumArray
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DAY, ETERNITY
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

ROOT = Path(__file__).resolve().parent.parent
PARAMETERS = ROOT / "muster" / "rulepacks" / "ru" / "parameters"
FAR = np.datetime64("9999-12-31", "D")
NEVER = np.datetime64("0001-01-01", "D")
NAT = np.datetime64("NaT", "D")

Person = build_entity("person", "persons", "A person on the military register", is_person=True)


# -- date arithmetic, as muster's rule DSL defines it ----------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """Whoever was born on or before this date has turned `years` on `day` (29 Feb -> 28)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def months_before(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, 28))


def birthday(born: np.ndarray, years: int) -> np.ndarray:
    """The day each date turns `years`: the same day of the month `years` later; 29 February
    in a common year runs over into 1 March, as in muster's DSL. NaT stays NaT."""
    month = born.astype("datetime64[M]")
    target = month + np.timedelta64(12 * years, "M")
    return target.astype("datetime64[D]") + (born - month.astype("datetime64[D]"))


def day64(period) -> np.datetime64:
    return np.datetime64(period.start.date, "D")


# -- inputs: the features of muster/rulepacks/ru/features.py ----------------------


class Sex(Enum):
    other = "Other or unknown"
    M = "Male"
    F = "Female"


class Fitness(Enum):
    other = "Not examined or unknown"
    A = "Fit"
    B = "Fit with minor restrictions"
    V = "Of limited fitness"
    G = "Temporarily unfit"
    D = "Unfit"


class Conviction(Enum):
    other = "None or unknown"
    unexpunged = "Unexpunged conviction"
    expunged = "Expunged conviction"


class CriminalCase(Enum):
    other = "None or unknown"
    investigation = "Under investigation"
    court = "Before a court"


EPOCH = dt.date(1970, 1, 1)
# feature -> (OpenFisca value type, enum); the order is the fetch query's column order.
INPUTS: dict[str, tuple[type, type | None]] = {
    "sex": (Enum, Sex),
    "citizenship": (str, None),
    "birth_date": (dt.date, None),
    "death_date": (dt.date, None),
    "fitness_category": (Enum, Fitness),
    "fitness_valid_until": (dt.date, None),
    "conviction": (Enum, Conviction),
    "conviction_until": (dt.date, None),
    "criminal_case": (Enum, CriminalCase),
    "study_end": (dt.date, None),
    "deputy_term_end": (dt.date, None),
    "candidate_election_date": (dt.date, None),
    "it_employed_since": (dt.date, None),
    "children": (int, None),
    "disabled_child_birth": (dt.date, None),
    "carer_until": (dt.date, None),
    "sibling_guardian_until": (dt.date, None),
    "wife_pregnancy_weeks": (int, None),
    "wife_pregnancy_due": (dt.date, None),
    "motherless_child_birth": (dt.date, None),
}


def _input_variable(name: str, value_type: type, enum: type | None) -> type:
    attrs = {
        "value_type": value_type,
        "entity": Person,
        "definition_period": ETERNITY,
        "label": f"Fact from the registry: {name}",
    }
    if enum is not None:
        attrs.update(possible_values=enum, default_value=enum.other)
    elif value_type is dt.date:
        attrs["default_value"] = EPOCH
    return type(name, (Variable,), attrs)


# -- grounds (53-FZ Art. 22-24; Decree 83 / Resolution 490) ----------------------


class deceased(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "The person has died."
    reference = "53-FZ Art. 22 part 1"

    def formula(person, period, parameters):
        return ~np.isnat(person("death_date", period))


class female(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Only men are called up for military service."
    reference = "53-FZ Art. 22 part 1 item a"

    def formula(person, period, parameters):
        return person("sex", period) != Sex.M


class not_citizen(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Only citizens are called up for military service."
    reference = "53-FZ Art. 22 part 1; Art. 1"

    def formula(person, period, parameters):
        return person("citizenship", period) != parameters(period).registration.citizenship


class under_age(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Men are called up from their 18th birthday."
    reference = "53-FZ Art. 22 part 1 item a"

    def formula(person, period, parameters):
        cutoff = years_before(period.start.date, parameters(period).call_up.age_min)
        return ~(person("birth_date", period) <= np.datetime64(cutoff, "D"))


class under_age_until(Variable):
    value_type = dt.date
    entity = Person
    definition_period = DAY
    label = "The 18th birthday."

    def formula(person, period, parameters):
        return birthday(person("birth_date", period), parameters(period).call_up.age_min)


class over_age(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = (
        "Men are called up until the day before their 30th birthday (27th before 2024; "
        "who turned 27 by 2023-12-31 stays in the reserve)."
    )
    reference = "53-FZ Art. 22 part 1 item a (664-FZ of 04.08.2023)"

    def formula(person, period, parameters):
        law = parameters(period).call_up
        as_of = period.start.date
        cutoff = years_before(as_of, law.age_limit)
        if law.grandfathered:
            # Whoever reached the old limit before it rose stays in the reserve.
            history = person.simulation.tax_benefit_system.parameters.call_up.age_limit
            dated = sorted((dt.date.fromisoformat(v.instant_str), v.value) for v in history.values_list)
            for (_, old), (changed_on, new) in itertools.pairwise(dated):
                if changed_on <= as_of and new > old:
                    cutoff = max(cutoff, years_before(changed_on - dt.timedelta(days=1), old))
        return person("birth_date", period) <= np.datetime64(cutoff, "D")


class fitness_d(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Found unfit for military service (category D)."
    reference = "53-FZ Art. 23 part 1 item a"

    def formula(person, period, parameters):
        return person("fitness_category", period) == Fitness.D


class fitness_v(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Found of limited fitness for military service (category V)."
    reference = "53-FZ Art. 23 part 1 item a"

    def formula(person, period, parameters):
        return person("fitness_category", period) == Fitness.V


class conviction_ground(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "An unexpunged conviction."
    reference = "53-FZ Art. 23 part 3 item b"

    def formula(person, period, parameters):
        until = person("conviction_until", period)
        return (person("conviction", period) == Conviction.unexpunged) & ~(until < day64(period))


class criminal_case_ground(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "A criminal case is being investigated or is before a court."
    reference = "53-FZ Art. 23 part 3 item v"

    def formula(person, period, parameters):
        case = person("criminal_case", period)
        return (case == CriminalCase.investigation) | (case == CriminalCase.court)


class fitness_g(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Temporarily unfit (category G), for at most one year."
    reference = "53-FZ Art. 24 part 1 item a"

    def formula(person, period, parameters):
        valid = person("fitness_valid_until", period) >= day64(period)
        return (person("fitness_category", period) == Fitness.G) & valid


class study(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Full-time study in an accredited programme, for its standard period."
    reference = "53-FZ Art. 24 part 2 item a"

    def formula(person, period, parameters):
        return person("study_end", period) >= day64(period)


class carer(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Constant care of a close relative, with no one else obliged by law."
    reference = "53-FZ Art. 24 part 1 item b"

    def formula(person, period, parameters):
        return person("carer_until", period) >= day64(period)


class sibling_guardian(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Guardian of a minor brother or sister, with no one else obliged by law."
    reference = "53-FZ Art. 24 part 1 item v"

    def formula(person, period, parameters):
        return person("sibling_guardian_until", period) >= day64(period)


class two_children(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Two or more children."
    reference = "53-FZ Art. 24 part 1 item d"

    def formula(person, period, parameters):
        return person("children", period) >= parameters(period).deferral.children_min


class child_without_mother_until(Variable):
    value_type = dt.date
    entity = Person
    definition_period = DAY
    label = "The birthday on which the motherless child's deferral ends."

    def formula(person, period, parameters):
        age = parameters(period).deferral.motherless_child_age
        return birthday(person("motherless_child_birth", period), age)


class child_without_mother(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Raising a child without the mother."
    reference = "53-FZ Art. 24 part 1 item g"

    def formula(person, period, parameters):
        return person("child_without_mother_until", period) > day64(period)


class disabled_child_until(Variable):
    value_type = dt.date
    entity = Person
    definition_period = DAY
    label = "The birthday on which the disabled child's deferral ends."

    def formula(person, period, parameters):
        age = parameters(period).deferral.disabled_child_age
        return birthday(person("disabled_child_birth", period), age)


class disabled_child(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "A disabled child under three."
    reference = "53-FZ Art. 24 part 1 item e"

    def formula(person, period, parameters):
        return person("disabled_child_until", period) > day64(period)


class pregnant_wife(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "A child, and a wife at least 22 weeks pregnant."
    reference = "53-FZ Art. 24 part 1 item zh"

    def formula(person, period, parameters):
        law = parameters(period).deferral
        weeks = person("wife_pregnancy_weeks", period) >= law.pregnancy_weeks
        due = person("wife_pregnancy_due", period) >= day64(period)
        return (person("children", period) >= 1) & weeks & due


class deputy(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "An elected deputy, for the term of office."
    reference = "53-FZ Art. 24 part 3"

    def formula(person, period, parameters):
        return person("deputy_term_end", period) >= day64(period)


class candidate(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "A registered candidate, until the election result is published."
    reference = "53-FZ Art. 24 part 1 item z"

    def formula(person, period, parameters):
        return person("candidate_election_date", period) >= day64(period)


class it_employee(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "An employee of an accredited IT company with a degree in a listed specialty."
    reference = "Presidential Decree 83 of 02.03.2022 item 2; Government Resolution 490"

    def formula_2022_03_02(person, period, parameters):  # in force from the decree
        law = parameters(period).it
        as_of = period.start.date
        since = np.datetime64(months_before(as_of, law.min_employment_months), "D")
        born = person("birth_date", period)
        of_age = born <= np.datetime64(years_before(as_of, law.age_min), "D")
        too_old = born <= np.datetime64(years_before(as_of, law.age_limit), "D")
        return (person("it_employed_since", period) <= since) & of_age & ~too_old


class it_employee_until(Variable):
    value_type = dt.date
    entity = Person
    definition_period = DAY
    label = "The birthday on which the IT deferral ends."

    def formula_2022_03_02(person, period, parameters):  # the IT parameters exist from the decree
        return birthday(person("birth_date", period), parameters(period).it.age_limit)


def _read(name: str):
    return lambda person, period: person(name, period)


def _open_ended(name: str):
    """A care period whose end is unknown is coded 9999-12-31 in the features: open-ended."""

    def until(person, period):
        v = person(name, period)
        return np.where(v == FAR, NAT, v)

    return until


# (ground code, variable, kind, until) in the rule pack's order; `until(person, period)` gives
# the ground's end date (NaT: open-ended), None for grounds without one.
GROUNDS = (
    ("deceased", "deceased", "not_liable", None),
    ("female", "female", "not_liable", None),
    ("not_citizen", "not_citizen", "not_liable", None),
    ("under_age", "under_age", "not_liable", _read("under_age_until")),
    ("over_age", "over_age", "not_liable", None),
    ("fitness_d", "fitness_d", "exempt", None),
    ("fitness_v", "fitness_v", "exempt", None),
    ("conviction", "conviction_ground", "not_called_up", _read("conviction_until")),
    ("criminal_case", "criminal_case_ground", "not_called_up", None),
    ("fitness_g", "fitness_g", "deferral", _read("fitness_valid_until")),
    ("study", "study", "deferral", _read("study_end")),
    ("carer", "carer", "deferral", _open_ended("carer_until")),
    ("sibling_guardian", "sibling_guardian", "deferral", _open_ended("sibling_guardian_until")),
    ("two_children", "two_children", "deferral", None),
    ("child_without_mother", "child_without_mother", "deferral", _read("child_without_mother_until")),
    ("disabled_child", "disabled_child", "deferral", _read("disabled_child_until")),
    ("pregnant_wife", "pregnant_wife", "deferral", _read("wife_pregnancy_due")),
    ("deputy", "deputy", "deferral", _read("deputy_term_end")),
    ("candidate", "candidate", "deferral", _read("candidate_election_date")),
    ("it_employee", "it_employee", "deferral", _read("it_employee_until")),
)
KINDS = ("not_liable", "exempt", "not_called_up", "deferral")
STATUS_OF_KIND = {
    "not_liable": "not_liable",
    "exempt": "exempt",
    "not_called_up": "not_called_up",
    "deferral": "deferred",
}

# -- the decision ----------------------------------------------------------------

Status = Enum("Status", {s: s for s in ("liable", "not_liable", "exempt", "not_called_up", "deferred")})
Ground = Enum("Ground", {"none": "No ground", **{code: code for code, *_ in GROUNDS}})
# The decided status of each Ground member, by index.
STATUS_OF_GROUND = np.array(
    [Status.liable.index] + [Status[STATUS_OF_KIND[kind]].index for _, _, kind, _ in GROUNDS],
    dtype=np.int16,
)


def _end(person, period, until) -> np.ndarray:
    """A deferral's end, open-ended (unknown) as 9999-12-31."""
    if until is None:
        return np.full(person.count, FAR)
    end = until(person, period)
    return np.where(np.isnat(end), FAR, end)


class deferral_end(Variable):
    value_type = dt.date
    entity = Person
    definition_period = DAY
    label = "The end of the longest deferral (9999-12-31 open-ended, 0001-01-01 none)."

    def formula(person, period, parameters):
        best = None
        for _, var, kind, until in GROUNDS:
            if kind == "deferral":
                u_g = np.where(person(var, period), _end(person, period, until), NEVER)
                best = u_g if best is None else np.maximum(best, u_g)
        return best


class decision_ground(Variable):
    value_type = Enum
    possible_values = Ground
    default_value = Ground.none
    entity = Person
    definition_period = DAY
    label = "The ground that decides: the first of the strongest kind; the longest deferral."

    def formula(person, period, parameters):
        best = person("deferral_end", period)
        conditions, choices = [], []
        for kind in KINDS:
            for code, var, k, until in GROUNDS:
                if k != kind:
                    continue
                fired = person(var, period)
                if kind == "deferral":
                    fired = fired & (_end(person, period, until) == best)
                conditions.append(fired)
                choices.append(Ground[code].index)
        return EnumArray(np.select(conditions, choices, Ground.none.index).astype(np.int16), Ground)


class decision_status(Variable):
    value_type = Enum
    possible_values = Status
    default_value = Status.liable
    entity = Person
    definition_period = DAY
    label = "Liable, not liable, exempt, not called up or deferred (SPEC 3)."

    def formula(person, period, parameters):
        ground = np.asarray(person("decision_ground", period))
        return EnumArray(STATUS_OF_GROUND[ground], Status)


class decision_until(Variable):
    value_type = dt.date
    entity = Person
    definition_period = DAY
    label = "The end of the deciding ground (NaT: open-ended or none)."

    def formula(person, period, parameters):
        ground = np.asarray(person("decision_ground", period))
        out = np.full(len(ground), NAT)
        for code, _, kind, until in GROUNDS:
            if kind != "deferral" and until is not None:
                mine = ground == Ground[code].index
                out = np.where(mine, until(person, period), out)
        best = person("deferral_end", period)
        deferred = STATUS_OF_GROUND[ground] == Status.deferred.index
        return np.where(deferred & (best != FAR), best, out)


def parameters_node() -> ParameterNode:
    """muster's parameter files, merged into one tree, as OpenFisca parameters."""

    def instants(node):  # YAML dates -> OpenFisca's "YYYY-MM-DD" keys
        if not isinstance(node, dict):
            return node
        return {(k.isoformat() if isinstance(k, dt.date) else k): instants(v) for k, v in node.items()}

    tree: dict = {}
    for path in sorted(PARAMETERS.glob("*.yaml")):
        for key, node in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            tree.setdefault(key, {}).update(instants(node))
    return ParameterNode("", data=tree)


def tax_benefit_system() -> TaxBenefitSystem:
    tbs = TaxBenefitSystem([Person])
    tbs.parameters = parameters_node()
    for name, (value_type, enum) in INPUTS.items():
        tbs.add_variable(_input_variable(name, value_type, enum))
    for value in list(globals().values()):  # the computed variables: every Variable class above
        if isinstance(value, type) and issubclass(value, Variable) and value is not Variable:
            tbs.add_variable(value)
    return tbs


def simulate(tbs: TaxBenefitSystem, inputs: dict[str, np.ndarray], as_of: dt.date):
    """(Status index, Ground index, until as datetime64 with NaT) for every person."""
    n = len(inputs["person_id"])
    sim = SimulationBuilder().build_default_simulation(tbs, n)
    for name, (_, enum) in INPUTS.items():
        value = inputs[name]
        if enum is not None:
            value = EnumArray(value, enum)
        sim.set_input(name, "eternity", value)
    day = as_of.isoformat()
    status = np.asarray(sim.calculate("decision_status", day))
    ground = np.asarray(sim.calculate("decision_ground", day))
    until = sim.calculate("decision_until", day)
    return status, ground, until


# -- database: read the features, write the decisions ----------------------------

DATE_T, INT_T = "date", "int"


def _kind(name: str) -> str:
    value_type, enum = INPUTS[name]
    if enum is not None:
        return "enum"
    return {dt.date: DATE_T, int: INT_T, str: "str"}[value_type]


def columns_sql(features_sql: str) -> str:
    cols = ", ".join(["person_id", *INPUTS])
    return f"SELECT {cols} FROM ({features_sql}) f"


def _to_numpy(table) -> dict[str, np.ndarray]:
    """pyarrow columns -> OpenFisca input arrays."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = {"person_id": table.column("person_id").to_numpy().astype(np.int64)}
    for name in INPUTS:
        col = table.column(name)
        kind = _kind(name)
        if kind == DATE_T:
            if col.type != pa.date32():
                col = col.cast(pa.date32())
            out[name] = col.to_numpy().astype("datetime64[D]")
        elif kind == INT_T:
            out[name] = pc.fill_null(col, -1).to_numpy().astype(np.int32)
        elif kind == "str":
            out[name] = col.to_numpy(zero_copy_only=False).astype(object)
        else:
            enum = INPUTS[name][1]
            enc = col.combine_chunks().dictionary_encode()
            lookup = np.array(
                [enum[v].index if v in enum.__members__ else enum.other.index for v in enc.dictionary.to_pylist()]
                + [enum.other.index],
                dtype=np.int16,
            )
            idx = pc.fill_null(enc.indices, len(lookup) - 1).to_numpy()
            out[name] = lookup[idx]
    return out


def fetch_pg(conn, features_sql: str) -> dict[str, np.ndarray]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    buf = io.BytesIO()
    with conn.cursor() as cur:
        cur.execute("SET jit = off")  # as muster's evaluation does
        with cur.copy(f"COPY ({columns_sql(features_sql)}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                buf.write(block)
    types = {"person_id": pa.int64()}
    for name in INPUTS:
        types[name] = {DATE_T: pa.date32(), INT_T: pa.int32()}.get(_kind(name), pa.string())
    buf.seek(0)
    table = pcsv.read_csv(
        buf,
        read_options=pcsv.ReadOptions(column_names=list(types)),
        convert_options=pcsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )
    return _to_numpy(table)


def fetch_sqlite(conn, features_sql: str) -> dict[str, np.ndarray]:
    import pyarrow as pa

    rows = conn.execute(columns_sql(features_sql)).fetchall()
    names = ["person_id", *INPUTS]
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = {}
    for name, values in zip(names, cols, strict=True):
        kind = "id" if name == "person_id" else _kind(name)
        typ = {"id": pa.int64(), INT_T: pa.int32()}.get(kind, pa.string())
        arrays[name] = pa.array(values, typ)
    return _to_numpy(pa.table(arrays))


def _decision_table(ids, status, ground, until):
    import pyarrow as pa

    status_names = pa.array([m.name for m in Status])
    ground_names = pa.array([None] + [code for code, *_ in GROUNDS])
    return pa.table(
        {
            "person_id": pa.array(ids),
            "status": status_names.take(pa.array(status)),
            "ground": ground_names.take(pa.array(ground)),
            "until": pa.array(until, from_pandas=True),
        }
    )


def write_pg(conn, table: str, ids, status, ground, until) -> None:
    import pyarrow.csv as pcsv

    data = _decision_table(ids, status, ground, until)
    buf = io.BytesIO()
    pcsv.write_csv(data, buf, pcsv.WriteOptions(include_header=False))
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (person_id bigint NOT NULL, status text NOT NULL, ground text, until date)")
        with cur.copy(f"COPY {table} (person_id, status, ground, until) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buf.getbuffer())
        cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (person_id)")
    conn.commit()


def write_sqlite(conn, table: str, ids, status, ground, until) -> None:
    data = _decision_table(ids, status, ground, until)
    until_text = data.column("until").cast("string")
    rows = zip(
        data.column("person_id").to_pylist(),
        data.column("status").to_pylist(),
        data.column("ground").to_pylist(),
        until_text.to_pylist(),
        strict=True,
    )
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (person_id integer PRIMARY KEY, status text NOT NULL, ground text, until date)")
    conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", rows)
    conn.commit()


def run(as_of: dt.date, table: str, features: str = "store") -> dict:
    """End to end from the database named by DATABASE_URL / MUSTER_HOME (as muster reads them)."""
    started = time.perf_counter()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    import django

    django.setup()
    from django.conf import settings

    from muster.rules import store
    from muster.rules.dialect import Dialect
    from muster.rules.engine import load

    db = settings.DATABASES["default"]
    pg = db["ENGINE"].endswith("postgresql")
    pack = load("ru")
    if features == "store":
        sql = f"SELECT * FROM {store.table(pack)}"
    else:
        sql = pack.features_sql(Dialect("postgresql" if pg else "sqlite"), None)
    tbs = tax_benefit_system()
    t0 = time.perf_counter()
    if pg:
        import psycopg

        conn = psycopg.connect(os.environ["DATABASE_URL"])
        inputs = fetch_pg(conn, sql)
    else:
        import sqlite3

        conn = sqlite3.connect(db["NAME"])
        inputs = fetch_sqlite(conn, sql)
    t1 = time.perf_counter()
    status, ground, until = simulate(tbs, inputs, as_of)
    t2 = time.perf_counter()
    (write_pg if pg else write_sqlite)(conn, table, inputs["person_id"], status, ground, until)
    conn.close()
    t3 = time.perf_counter()
    statuses, grounds = list(Status), list(Ground)
    keys, n = np.unique(status.astype(np.int32) * len(grounds) + ground, return_counts=True)
    counts = {}
    for key, c in zip(keys.tolist(), n.tolist(), strict=True):
        s, g = divmod(key, len(grounds))
        counts[f"{statuses[s].name}:{grounds[g].name}" if g else statuses[s].name] = c
    return {
        "database": "postgresql" if pg else "sqlite",
        "as_of": as_of.isoformat(),
        "persons": len(status),
        "table": table,
        "features": features,
        "setup_seconds": round(t0 - started, 3),
        "fetch_seconds": round(t1 - t0, 3),
        "compute_seconds": round(t2 - t1, 3),
        "write_seconds": round(t3 - t2, 3),
        "seconds": round(t3 - started, 3),
        "counts": dict(sorted(counts.items())),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    ap.add_argument("--table", default="openfisca_decision")
    ap.add_argument("--features", choices=("store", "facts"), default="store")
    args = ap.parse_args()
    print(json.dumps(run(args.as_of, args.table, args.features)))


if __name__ == "__main__":
    main()
