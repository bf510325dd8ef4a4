"""Append-only tables, enforced by the database itself (OpenCRVS-style).

The triggers refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) whoever the client
is, so that neither a bug nor a stolen application password can rewrite history.
"""

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION muster_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'muster: % on append-only table % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$ LANGUAGE plpgsql;
"""


def statements(table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            PG_FUNCTION,
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION muster_append_only()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION muster_append_only()",
        ]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'muster: UPDATE on append-only table {table} refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'muster: DELETE on append-only table {table} refused'); END",
    ]


def make_append_only(*tables: str):
    """A migration operation that installs the triggers on the given tables."""
    from django.db import migrations

    def forward(apps, schema_editor):
        for table in tables:
            for sql in statements(table, schema_editor.connection.vendor):
                schema_editor.execute(sql, params=None)

    return migrations.RunPython(forward, migrations.RunPython.noop)
