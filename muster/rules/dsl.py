"""Rule conditions as small expression trees that run two ways from one definition:
compiled to SQL for the whole population, or evaluated in Python for one person with an
explanation. A comparison involving an unknown (NULL) value is false in both, never unknown.
"""

import datetime as dt
from dataclasses import dataclass

from muster.rules import parameters as p


def birthday(born: dt.date, years: int) -> dt.date:
    """The day a person born on `born` turns `years`: 29 February moves to 1 March."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February, the target year is common
        return dt.date(born.year + years, 3, 1)


class Context:
    """What an evaluation needs: the date, the law in force on it, and for SQL its parameters."""

    def __init__(self, as_of: dt.date, pack: str, dialect=None, overrides: dict | None = None):
        self.as_of = as_of
        self.pack = pack
        self.dialect = dialect
        self.overrides = overrides or {}
        self.sql_params: dict = {}
        self.used: dict[str, p.Value] = {}

    def param(self, name: str):
        if name in self.overrides:
            value = p.Value(name, self.overrides[name], self.as_of, "what-if")
        else:
            value = p.get(name, self.as_of, self.pack)
        self.used[name] = value
        return value.value

    def bind(self, value) -> str:
        key = f"r{len(self.sql_params)}"
        if isinstance(value, dt.date):
            from django.db import connection

            value = connection.ops.adapt_datefield_value(value)
        self.sql_params[key] = value
        return f"%({key})s"


class Expr:
    def sql(self, c: Context) -> str:
        raise TypeError(f"{type(self).__name__} has no SQL form")

    def py(self, row: dict, c: Context):
        raise TypeError(f"{type(self).__name__} has no Python form")

    def features(self) -> set[str]:
        return set()

    # Operators make the rule pack read like the law.
    def __and__(self, other):
        return All((self, other))

    def __or__(self, other):
        return Any_((self, other))

    def __invert__(self):
        return Not(self)

    def __eq__(self, other):
        return Cmp("=", self, _wrap(other))

    def __ne__(self, other):
        return Cmp("<>", self, _wrap(other))

    def __lt__(self, other):
        return Cmp("<", self, _wrap(other))

    def __le__(self, other):
        return Cmp("<=", self, _wrap(other))

    def __gt__(self, other):
        return Cmp(">", self, _wrap(other))

    def __ge__(self, other):
        return Cmp(">=", self, _wrap(other))

    __hash__ = object.__hash__


def _wrap(value) -> Expr:
    return value if isinstance(value, Expr) else Const(value)


@dataclass(eq=False)
class Feature(Expr):
    name: str

    def sql(self, c):
        return f"f.{self.name}"

    def py(self, row, c):
        return row[self.name]

    def features(self):
        return {self.name}

    def isin(self, *values) -> "In":
        return In(self, values)

    def known(self) -> "Known":
        return Known(self)


@dataclass(eq=False)
class Const(Expr):
    value: object

    def sql(self, c):
        return c.bind(self.value)

    def py(self, row, c):
        return self.value


@dataclass(eq=False)
class Param(Expr):
    name: str

    def sql(self, c):
        return c.bind(c.param(self.name))

    def py(self, row, c):
        return c.param(self.name)


@dataclass(eq=False)
class AsOf(Expr):
    def sql(self, c):
        return c.bind(c.as_of)

    def py(self, row, c):
        return c.as_of


class BornOnOrBefore(Expr):
    """Born on or before a cut-off date that depends on the evaluation date: every age test.

    Subclasses say how the cut-off is found; the comparison is the same in SQL and Python."""

    def cutoff(self, c) -> dt.date:
        raise TypeError(f"{type(self).__name__} defines no cut-off")

    def sql(self, c):
        return f"COALESCE(f.birth_date <= {c.bind(self.cutoff(c))}, FALSE)"

    def py(self, row, c):
        return row["birth_date"] is not None and row["birth_date"] <= self.cutoff(c)

    def features(self):
        return {"birth_date"}


@dataclass(eq=False)
class AgeAtLeast(BornOnOrBefore):
    """The person has turned `years` (a parameter or a number) on the evaluation date."""

    years: Expr

    def cutoff(self, c) -> dt.date:
        return p.years_before(c.as_of, self.years.py({}, c))


@dataclass(eq=False)
class Birthday(Expr):
    """The date a `date` feature turns `years` (e.g. the 18th birthday, a child's 3rd)."""

    date: Expr
    years: Expr

    def sql(self, c):
        return c.dialect.add_years(self.date.sql(c), self.years.sql(c))

    def py(self, row, c):
        born, years = self.date.py(row, c), self.years.py(row, c)
        return None if born is None or years is None else birthday(born, years)

    def features(self):
        return self.date.features()


@dataclass(eq=False)
class Cmp(Expr):
    op: str
    left: Expr
    right: Expr

    def sql(self, c):
        return f"COALESCE({self.left.sql(c)} {self.op} {self.right.sql(c)}, FALSE)"

    def py(self, row, c):
        a, b = self.left.py(row, c), self.right.py(row, c)
        if a is None or b is None:
            return False
        return {"=": a == b, "<>": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.op]

    def features(self):
        return self.left.features() | self.right.features()


@dataclass(eq=False)
class In(Expr):
    left: Expr
    values: tuple

    def sql(self, c):
        return f"COALESCE({self.left.sql(c)} IN ({', '.join(c.bind(v) for v in self.values)}), FALSE)"

    def py(self, row, c):
        return self.left.py(row, c) in self.values

    def features(self):
        return self.left.features()


@dataclass(eq=False)
class Known(Expr):
    inner: Expr

    def sql(self, c):
        return f"({self.inner.sql(c)} IS NOT NULL)"

    def py(self, row, c):
        return self.inner.py(row, c) is not None

    def features(self):
        return self.inner.features()


@dataclass(eq=False)
class All(Expr):
    parts: tuple

    def sql(self, c):
        return "(" + " AND ".join(x.sql(c) for x in self.parts) + ")"

    def py(self, row, c):
        return all(x.py(row, c) for x in self.parts)

    def features(self):
        return set().union(*(x.features() for x in self.parts))


@dataclass(eq=False)
class Any_(Expr):
    parts: tuple

    def sql(self, c):
        return "(" + " OR ".join(x.sql(c) for x in self.parts) + ")"

    def py(self, row, c):
        return any(x.py(row, c) for x in self.parts)

    def features(self):
        return set().union(*(x.features() for x in self.parts))


@dataclass(eq=False)
class Not(Expr):
    inner: Expr

    def sql(self, c):
        return f"(NOT {self.inner.sql(c)})"

    def py(self, row, c):
        return not self.inner.py(row, c)

    def features(self):
        return self.inner.features()


def Least(*exprs: Expr) -> "LeastOf":
    return LeastOf(exprs)


@dataclass(eq=False)
class LeastOf(Expr):
    """The earliest of dates, ignoring unknown ones."""

    exprs: tuple

    def sql(self, c):
        far = c.dialect.date_lit("9999-12-31")
        inner = [f"COALESCE({e.sql(c)}, {far})" for e in self.exprs]
        least = f"{'LEAST' if c.dialect.pg else 'MIN'}({', '.join(inner)})" if len(inner) > 1 else inner[0]
        return f"NULLIF({least}, {far})"

    def py(self, row, c):
        vals = [v for v in (e.py(row, c) for e in self.exprs) if v is not None]
        return min(vals) if vals else None

    def features(self):
        return set().union(*(e.features() for e in self.exprs))
