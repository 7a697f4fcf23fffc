from django.db import migrations

from tongban.notify.defaults import install, uninstall

CODES = ["booking_confirm"]  # added to databases migrated before this template existed


class Migration(migrations.Migration):
    dependencies = [("notify", "0003_hall_rate_invite")]
    operations = [migrations.RunPython(lambda apps, _: install(apps, CODES), lambda apps, _: uninstall(apps, CODES))]
