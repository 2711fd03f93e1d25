from django.conf import settings
from django.db import migrations


def create(apps, schema_editor):
    from vefa.sales.defaults import create_default_pipelines

    create_default_pipelines(
        apps.get_model("sales", "Pipeline"),
        apps.get_model("sales", "Stage"),
        settings.LANGUAGE_CODE,
    )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
