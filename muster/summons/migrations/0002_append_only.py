from django.db import migrations

from muster.appendonly import make_append_only


class Migration(migrations.Migration):
    dependencies = [("summons", "0001_initial")]
    operations = [make_append_only("summons_summonsevent")]
