from django.db import migrations


def seed(apps, schema_editor):
    from muster.exchange.outbox import DEFAULT_PEERS

    Peer = apps.get_model("exchange", "Peer")
    for name, title, kinds in DEFAULT_PEERS:
        Peer.objects.get_or_create(name=name, defaults={"title": title, "kinds": kinds})


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
