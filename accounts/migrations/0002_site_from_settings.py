"""Replace the example.com Site that django.contrib.sites creates with SITE_DOMAIN / SITE_NAME."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.sites import site_sync

    site_sync(site_model=apps.get_model("sites", "Site"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
