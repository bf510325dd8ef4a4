from django.db import migrations

from muster.appendonly import PG_FUNCTION

TABLE = "documents_document"


def forward(apps, schema_editor):
    # Versions are new rows, so the database refuses any UPDATE. DELETE stays possible:
    # a document whose retention period has ended must be erasable.
    if schema_editor.connection.vendor == "postgresql":
        sql = [
            PG_FUNCTION,
            f"DROP TRIGGER IF EXISTS {TABLE}_no_update ON {TABLE}",
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION muster_append_only()",
        ]
    else:
        sql = [
            f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'muster: UPDATE on append-only table {TABLE} refused'); END",
        ]
    for statement in sql:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
