"""The facts the reference grounds read, as one SQL query over the registry.

One row per person: their golden-record attributes and, from the current version of
each agency record, the few values the law asks about (never more: health gives only
the fitness category). `*_fact` columns name the fact each value came from, for the
explanation. `scope` restricts the query to a subquery of person ids.
"""

from muster.registry.models import Fact, Person, SourceRecord

FEATURES = {
    "person_id": "id",
    "office_id": "text",
    "sex": "text",
    "citizenship": "text",
    "birth_date": "date",
    "death_date": "date",
    "fitness_category": "text",
    "fitness_valid_until": "date",
    "health_fact": "id",
    "conviction": "text",
    "conviction_until": "date",
    "criminal_case": "text",
    "interior_fact": "id",
    "study_end": "date",
    "education_fact": "id",
    "deputy_term_end": "date",
    "candidate_election_date": "date",
    "elections_fact": "id",
    "it_employed_since": "date",
    "digital_fact": "id",
    "children": "int",
    "youngest_child_birth": "date",
    "disabled_child_birth": "date",
    "civil_fact": "id",
    "carer_until": "date",
    "sibling_guardian_until": "date",
    "social_fact": "id",
    "wife_pregnancy_weeks": "int",
    "wife_pregnancy_due": "date",
    "motherless_child_birth": "date",
    "application_fact": "id",
}

SOURCES = {
    "fitness_category": "health_fact",
    "fitness_valid_until": "health_fact",
    "conviction": "interior_fact",
    "conviction_until": "interior_fact",
    "criminal_case": "interior_fact",
    "study_end": "education_fact",
    "deputy_term_end": "elections_fact",
    "candidate_election_date": "elections_fact",
    "it_employed_since": "digital_fact",
    "children": "civil_fact",
    "youngest_child_birth": "civil_fact",
    "disabled_child_birth": "civil_fact",
    "carer_until": "social_fact",
    "sibling_guardian_until": "social_fact",
    "wife_pregnancy_weeks": "application_fact",
    "wife_pregnancy_due": "application_fact",
    "motherless_child_birth": "application_fact",
}

AGENCY = ("interior", "health", "education", "elections", "digital", "civil", "social", "application")


def features_sql(d, scope: str | None = None) -> str:
    P, F, SR = Person._meta.db_table, Fact._meta.db_table, SourceRecord._meta.db_table
    t, dt_, b = (lambda k: d.json_text("c", k)), (lambda k: d.json_date("c", k)), (lambda k: d.json_bool("c", k))
    far = d.date_lit("9999-12-31")
    sources = ", ".join(f"'{s}'" for s in AGENCY)
    scope_sr = f"AND sr.person_id IN ({scope})" if scope else ""
    scope_p = f"WHERE p.id IN ({scope})" if scope else ""

    def when(source: str, cond: str, value: str) -> str:
        return f"CASE WHEN c.source = '{source}'{' AND ' + cond if cond else ''} THEN {value} END"

    study_ok = f"{b('institution_accredited')} AND {t('study_form')} = 'full_time' AND {t('status')} = 'enrolled'"
    it_ok = f"{b('employer_accredited')} AND {b('listed_specialty_degree')}"
    carer = f"{t('care_type')} = 'disabled_relative' AND NOT {b('other_carers')}"
    sibling = f"{t('care_type')} = 'minor_sibling_guardian' AND NOT {b('other_carers')}"
    care_end = f"COALESCE({dt_('end_date')}, {far})"
    weeks = f"CAST({t('weeks')} AS integer)"
    deputy, candidate = f"{t('role')} = 'deputy'", f"{t('role')} = 'candidate'"
    birth, death = f"{t('event')} = 'child_birth'", f"{t('event')} = 'child_death'"
    disabled = f"{birth} AND {b('child_disabled')}"
    pregnancy, motherless = f"{t('kind')} = 'wife_pregnancy'", f"{t('kind')} = 'child_without_mother'"
    agg = ",\n    ".join(
        [
            f"MAX({when('education', study_ok, dt_('planned_end_date'))}) AS study_end",
            f"MAX({when('education', study_ok, 'c.fact_id')}) AS education_fact",
            f"MAX({when('elections', deputy, dt_('term_end'))}) AS deputy_term_end",
            f"MAX({when('elections', candidate, dt_('election_date'))}) AS candidate_election_date",
            f"MAX({when('elections', '', 'c.fact_id')}) AS elections_fact",
            f"MIN({when('digital', it_ok, dt_('employed_since'))}) AS it_employed_since",
            f"MAX({when('digital', it_ok, 'c.fact_id')}) AS digital_fact",
            f"SUM(CASE WHEN c.source = 'civil' AND {birth} THEN 1 "
            f"WHEN c.source = 'civil' AND {death} THEN -1 ELSE 0 END) AS children",
            f"MAX({when('civil', birth, dt_('child_birth_date'))}) AS youngest_child_birth",
            f"MAX({when('civil', disabled, dt_('child_birth_date'))}) AS disabled_child_birth",
            f"MAX({when('civil', '', 'c.fact_id')}) AS civil_fact",
            f"MAX({when('social', carer, care_end)}) AS carer_until",
            f"MAX({when('social', sibling, care_end)}) AS sibling_guardian_until",
            f"MAX({when('social', '', 'c.fact_id')}) AS social_fact",
            f"MAX({when('application', pregnancy, weeks)}) AS wife_pregnancy_weeks",
            f"MAX({when('application', pregnancy, dt_('expected_birth'))}) AS wife_pregnancy_due",
            f"MAX({when('application', motherless, dt_('child_birth_date'))}) AS motherless_child_birth",
            f"MAX({when('application', '', 'c.fact_id')}) AS application_fact",
        ]
    )
    return f"""
WITH cur AS (
  SELECT sr.person_id, sr.source, sr.fact_id, sr.changed_at, fa.payload
  FROM {SR} sr JOIN {F} fa ON fa.id = sr.fact_id
  WHERE sr.source IN ({sources}) {scope_sr}
),
h AS (
  SELECT c.person_id, c.fact_id, {t("fitness_category")} AS fitness_category,
         {dt_("valid_until")} AS fitness_valid_until,
         ROW_NUMBER() OVER (PARTITION BY c.person_id ORDER BY {t("examined_on")} DESC, c.changed_at DESC) AS rn
  FROM cur c WHERE c.source = 'health'
),
i AS (
  SELECT c.person_id, c.fact_id, {t("conviction")} AS conviction, {dt_("conviction_until")} AS conviction_until,
         {t("criminal_case")} AS criminal_case,
         ROW_NUMBER() OVER (PARTITION BY c.person_id ORDER BY c.changed_at DESC, c.fact_id DESC) AS rn
  FROM cur c WHERE c.source = 'interior'
),
agg AS (
  SELECT c.person_id,
    {agg}
  FROM cur c GROUP BY c.person_id
)
SELECT p.id AS person_id, p.office_id, p.sex, p.citizenship, p.birth_date, p.death_date,
  h.fitness_category, h.fitness_valid_until, h.fact_id AS health_fact,
  i.conviction, i.conviction_until, i.criminal_case, i.fact_id AS interior_fact,
  agg.study_end, agg.education_fact, agg.deputy_term_end, agg.candidate_election_date, agg.elections_fact,
  agg.it_employed_since, agg.digital_fact, COALESCE(agg.children, 0) AS children, agg.youngest_child_birth,
  agg.disabled_child_birth, agg.civil_fact, agg.carer_until, agg.sibling_guardian_until, agg.social_fact,
  agg.wife_pregnancy_weeks, agg.wife_pregnancy_due, agg.motherless_child_birth, agg.application_fact
FROM {P} p
LEFT JOIN h ON h.person_id = p.id AND h.rn = 1
LEFT JOIN i ON i.person_id = p.id AND i.rn = 1
LEFT JOIN agg ON agg.person_id = p.id
{scope_p}"""
