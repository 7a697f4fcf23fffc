from django.db import migrations

from tongban.notify.defaults import DEFAULTS


def create_defaults(apps, schema_editor):
    Template = apps.get_model("notify", "Template")
    for code, (name, channels) in DEFAULTS.items():
        for channel, (subject, body) in channels.items():
            Template.objects.get_or_create(code=code, channel=channel, defaults={"name": name, "subject": subject, "body": body})


def remove_defaults(apps, schema_editor):
    apps.get_model("notify", "Template").objects.filter(code__in=list(DEFAULTS)).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, remove_defaults)]
