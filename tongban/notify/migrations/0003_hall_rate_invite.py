from django.db import migrations

from tongban.notify.defaults import install, uninstall

CODES = ["hall_rate_invite"]  # added to databases migrated before this template existed


class Migration(migrations.Migration):
    dependencies = [("notify", "0002_default_templates")]
    operations = [migrations.RunPython(lambda apps, _: install(apps, CODES), lambda apps, _: uninstall(apps, CODES))]
