from django.db import migrations

from muster.appendonly import make_append_only


class Migration(migrations.Migration):
    dependencies = [("rules", "0001_initial")]
    operations = [make_append_only("rules_decisionchange")]
