from django.db import migrations

from tongban.notify.defaults import install, uninstall


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]
    operations = [migrations.RunPython(lambda apps, _: install(apps), lambda apps, _: uninstall(apps))]
