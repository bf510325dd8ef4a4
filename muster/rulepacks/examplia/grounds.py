"""Examplia: under age, over age, and a deferral for university study."""

from muster.registry.models import Fact, Person, SourceRecord
from muster.rules.dsl import AgeAtLeast, AsOf, Birthday, Feature, Param
from muster.rules.engine import Ground, RulePack

F = Feature
FEATURES = {"person_id": "id", "office_id": "text", "birth_date": "date", "study_end": "date", "education_fact": "id"}


def features_sql(d, scope: str | None = None) -> str:
    P, Fa, SR = Person._meta.db_table, Fact._meta.db_table, SourceRecord._meta.db_table
    end = d.json_date("fa", "planned_end_date")
    where = f"WHERE p.id IN ({scope})" if scope else ""
    return f"""
SELECT p.id AS person_id, p.office_id, p.birth_date, s.study_end, s.education_fact FROM {P} p
LEFT JOIN (SELECT sr.person_id, MAX({end}) AS study_end, MAX(fa.id) AS education_fact
           FROM {SR} sr JOIN {Fa} fa ON fa.id = sr.fact_id
           WHERE sr.source = 'education' AND {d.json_text("fa", "status")} = 'enrolled'
           GROUP BY sr.person_id) s ON s.person_id = p.id
{where}"""


GROUNDS = (
    Ground(
        "under_age",
        "not_liable",
        "DSA 2020 s. 4(1)",
        ~AgeAtLeast(Param("service.age_min")),
        "Service starts at 19.",
        until=Birthday(F("birth_date"), Param("service.age_min")),
    ),
    Ground("over_age", "not_liable", "DSA 2020 s. 4(2)", AgeAtLeast(Param("service.age_limit")), "No service from 25."),
    Ground(
        "study",
        "deferral",
        "DSA 2020 s. 7",
        F("study_end") >= AsOf(),
        "University students finish their studies first.",
        until=F("study_end"),
    ),
)

PACK = RulePack(
    name="examplia",
    version="examplia-2020.1",
    grounds=GROUNDS,
    features=FEATURES,
    features_sql=features_sql,
    sources={"study_end": "education_fact"},
)
