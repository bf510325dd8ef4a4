"""The few SQL spellings that differ between PostgreSQL and SQLite, in one place."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    vendor: str

    @property
    def pg(self) -> bool:
        return self.vendor == "postgresql"

    def date_lit(self, iso: str) -> str:
        return f"DATE '{iso}'" if self.pg else f"'{iso}'"

    @property
    def null_date(self) -> str:
        return "CAST(NULL AS date)" if self.pg else "NULL"

    def json_text(self, alias: str, key: str) -> str:
        return f"{alias}.payload->>'{key}'"

    def json_date(self, alias: str, key: str) -> str:
        expr = self.json_text(alias, key)
        return f"CAST({expr} AS date)" if self.pg else expr

    def json_bool(self, alias: str, key: str) -> str:
        # jsonb gives 'true', SQLite's ->> gives the integer 1.
        return f"(CAST({self.json_text(alias, key)} AS TEXT) IN ('true', '1'))"

    def greatest(self, exprs: list[str]) -> str:
        """Arguments must be non-NULL: SQLite's MAX(a, b) is NULL if any argument is."""
        if len(exprs) == 1:
            return exprs[0]
        return f"{'GREATEST' if self.pg else 'MAX'}({', '.join(exprs)})"

    def add_years(self, date_sql: str, years_sql: str) -> str:
        """The date `years` after `date`; 29 February moves to 1 March, as in Python's `birthday`."""
        if self.pg:
            shifted = f"CAST(CAST({date_sql} AS date) + make_interval(years => CAST({years_sql} AS integer)) AS date)"
            born = f"CAST({date_sql} AS date)"
            feb29 = f"(EXTRACT(MONTH FROM {born}) = 2 AND EXTRACT(DAY FROM {born}) = 29)"
            return f"(CASE WHEN {feb29} AND EXTRACT(DAY FROM {shifted}) = 28 THEN {shifted} + 1 ELSE {shifted} END)"
        return f"date({date_sql}, '+' || CAST({years_sql} AS TEXT) || ' years')"

    def json_object(self, columns: list[str], alias: str) -> str:
        pairs = ", ".join(f"'{c}', {alias}.{c}" for c in columns)
        return f"json_build_object({pairs})" if self.pg else f"json_object({pairs})"

    def json_object_expr(self, pairs: dict[str, str]) -> str:
        """A JSON object from {key: SQL expression}."""
        body = ", ".join(f"'{k}', {v}" for k, v in pairs.items())
        return f"json_build_object({body})" if self.pg else f"json_object({body})"
