"""Reference rule pack: the grounds of SPEC section 5 with their legal citations.

Federal Law 53-FZ "On Military Duty and Military Service" (as amended 2023-2025):
Art. 22 (who is called up), Art. 23 (exemption; not called up), Art. 24 (deferrals);
the IT deferral by Presidential Decree 83 of 02.03.2022 and Government Resolution 490.
Item letters are transliterated (a, b, v, g, d, e, zh, z).
"""

import datetime as dt
from dataclasses import dataclass

from muster.rules import parameters as p
from muster.rules.dsl import AgeAtLeast, AsOf, Birthday, BornOnOrBefore, Expr, Feature, Not, Param
from muster.rules.engine import Ground, RulePack

from .features import FEATURES, SOURCES, features_sql

F = Feature
MALE = F("sex") == "M"
AS_OF = AsOf()
FAR = dt.date(9999, 12, 31)


@dataclass(eq=False)
class PastCallUpAge(BornOnOrBefore):
    """Past the call-up age limit on the date; when the limit rose (27 to 30 on 2024-01-01),
    whoever had reached the old limit before the change stays in the reserve."""

    def cutoff(self, c) -> dt.date:
        cut = p.years_before(c.as_of, c.param("call_up.age_limit"))
        if c.param("call_up.grandfathered"):
            for changed_on, old, new in p.load(c.pack)["call_up.age_limit"].changes(c.as_of):
                if new > old:
                    cut = max(cut, p.years_before(changed_on - dt.timedelta(days=1), old))
        return cut


@dataclass(eq=False)
class OpenEnded(Expr):
    """A care period whose end is unknown is open-ended (coded as 9999-12-31 in the features)."""

    inner: Expr

    def sql(self, c):
        return f"NULLIF({self.inner.sql(c)}, {c.dialect.date_lit('9999-12-31')})"

    def py(self, row, c):
        v = self.inner.py(row, c)
        return None if v == FAR else v

    def features(self):
        return self.inner.features()


@dataclass(eq=False)
class MonthsBefore(Expr):
    """The evaluation date minus a number of months (a parameter)."""

    months: Expr

    def value(self, c) -> dt.date:
        n = self.months.py({}, c)
        y, m = divmod(c.as_of.year * 12 + c.as_of.month - 1 - n, 12)
        day = min(c.as_of.day, 28)
        return dt.date(y, m + 1, day)

    def sql(self, c):
        return c.bind(self.value(c))

    def py(self, row, c):
        return self.value(c)


GROUNDS = (
    # -- not liable (53-FZ Art. 22 part 1 item a: male citizens aged 18-30) -----
    Ground("deceased", "not_liable", "53-FZ Art. 22 part 1", F("death_date").known(), "The person has died."),
    Ground(
        "female", "not_liable", "53-FZ Art. 22 part 1 item a", ~MALE, "Only men are called up for military service."
    ),
    Ground(
        "not_citizen",
        "not_liable",
        "53-FZ Art. 22 part 1; Art. 1",
        Not(F("citizenship") == Param("registration.citizenship")),
        "Only citizens are called up for military service.",
    ),
    Ground(
        "under_age",
        "not_liable",
        "53-FZ Art. 22 part 1 item a",
        ~AgeAtLeast(Param("call_up.age_min")),
        "Men are called up from their 18th birthday.",
        until=Birthday(F("birth_date"), Param("call_up.age_min")),
    ),
    Ground(
        "over_age",
        "not_liable",
        "53-FZ Art. 22 part 1 item a (664-FZ of 04.08.2023)",
        PastCallUpAge(),
        "Men are called up until the day before their 30th birthday (27th before 2024; who turned 27 by "
        "2023-12-31 stays in the reserve).",
    ),
    # -- exempt (Art. 23 part 1 item a) -------------------------------------------
    Ground(
        "fitness_d",
        "exempt",
        "53-FZ Art. 23 part 1 item a",
        F("fitness_category") == "D",
        "Found unfit for military service (category D).",
    ),
    Ground(
        "fitness_v",
        "exempt",
        "53-FZ Art. 23 part 1 item a",
        F("fitness_category") == "V",
        "Found of limited fitness for military service (category V).",
    ),
    # -- not called up (Art. 23 part 3) ----------------------------------------------
    Ground(
        "conviction",
        "not_called_up",
        "53-FZ Art. 23 part 3 item b",
        (F("conviction") == "unexpunged") & ~(F("conviction_until") < AS_OF),
        "An unexpunged conviction.",
        until=F("conviction_until"),
    ),
    Ground(
        "criminal_case",
        "not_called_up",
        "53-FZ Art. 23 part 3 item v",
        F("criminal_case").isin("investigation", "court"),
        "A criminal case is being investigated or is before a court.",
    ),
    # -- deferrals (Art. 24) --------------------------------------------------------
    Ground(
        "fitness_g",
        "deferral",
        "53-FZ Art. 24 part 1 item a",
        (F("fitness_category") == "G") & (F("fitness_valid_until") >= AS_OF),
        "Temporarily unfit (category G), for at most one year.",
        until=F("fitness_valid_until"),
    ),
    Ground(
        "study",
        "deferral",
        "53-FZ Art. 24 part 2 item a",
        F("study_end") >= AS_OF,
        "Full-time study in an accredited programme, for its standard period.",
        until=F("study_end"),
    ),
    Ground(
        "carer",
        "deferral",
        "53-FZ Art. 24 part 1 item b",
        F("carer_until") >= AS_OF,
        "Constant care of a close relative, with no one else obliged by law.",
        until=OpenEnded(F("carer_until")),
    ),
    Ground(
        "sibling_guardian",
        "deferral",
        "53-FZ Art. 24 part 1 item v",
        F("sibling_guardian_until") >= AS_OF,
        "Guardian of a minor brother or sister, with no one else obliged by law.",
        until=OpenEnded(F("sibling_guardian_until")),
    ),
    Ground(
        "two_children",
        "deferral",
        "53-FZ Art. 24 part 1 item d",
        F("children") >= Param("deferral.children_min"),
        "Two or more children.",
    ),
    Ground(
        "child_without_mother",
        "deferral",
        "53-FZ Art. 24 part 1 item g",
        Birthday(F("motherless_child_birth"), Param("deferral.motherless_child_age")) > AS_OF,
        "Raising a child without the mother.",
        until=Birthday(F("motherless_child_birth"), Param("deferral.motherless_child_age")),
    ),
    Ground(
        "disabled_child",
        "deferral",
        "53-FZ Art. 24 part 1 item e",
        Birthday(F("disabled_child_birth"), Param("deferral.disabled_child_age")) > AS_OF,
        "A disabled child under three.",
        until=Birthday(F("disabled_child_birth"), Param("deferral.disabled_child_age")),
    ),
    Ground(
        "pregnant_wife",
        "deferral",
        "53-FZ Art. 24 part 1 item zh",
        (F("children") >= 1)
        & (F("wife_pregnancy_weeks") >= Param("deferral.pregnancy_weeks"))
        & (F("wife_pregnancy_due") >= AS_OF),
        "A child, and a wife at least 22 weeks pregnant.",
        until=F("wife_pregnancy_due"),
    ),
    Ground(
        "deputy",
        "deferral",
        "53-FZ Art. 24 part 3",
        F("deputy_term_end") >= AS_OF,
        "An elected deputy, for the term of office.",
        until=F("deputy_term_end"),
    ),
    Ground(
        "candidate",
        "deferral",
        "53-FZ Art. 24 part 1 item z",
        F("candidate_election_date") >= AS_OF,
        "A registered candidate, until the election result is published.",
        until=F("candidate_election_date"),
    ),
    Ground(
        "it_employee",
        "deferral",
        "Presidential Decree 83 of 02.03.2022 item 2; Government Resolution 490",
        (F("it_employed_since") <= MonthsBefore(Param("it.min_employment_months")))
        & AgeAtLeast(Param("it.age_min"))
        & ~AgeAtLeast(Param("it.age_limit")),
        "An employee of an accredited IT company with a degree in a listed specialty.",
        until=Birthday(F("birth_date"), Param("it.age_limit")),
        effective_from=dt.date(2022, 3, 2),
    ),
)

PACK = RulePack(
    name="ru", version="ru-2026.1", grounds=GROUNDS, features=FEATURES, features_sql=features_sql, sources=SOURCES
)
