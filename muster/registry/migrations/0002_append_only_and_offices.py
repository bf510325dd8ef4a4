from django.db import migrations

from muster.appendonly import make_append_only


def seed(apps, schema_editor):
    from muster.registry.offices import reference_offices

    Office = apps.get_model("registry", "Office")
    OfficeArea = apps.get_model("registry", "OfficeArea")
    existing = set(Office.objects.values_list("code", flat=True))
    offices, areas = [], []
    for code, name, name_ru, region, districts in reference_offices():
        if code not in existing:
            offices.append(Office(code=code, name=name, name_ru=name_ru, region=region))
            areas += [OfficeArea(office_id=code, region=region, district=d) for d in districts]
    Office.objects.bulk_create(offices)
    OfficeArea.objects.bulk_create(areas)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [
        make_append_only("registry_fact"),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
