from django.db import migrations

from tongban.notify.defaults import DEFAULTS

CODE = "booking_confirm"


def create(apps, schema_editor):
    Template = apps.get_model("notify", "Template")
    name, channels = DEFAULTS[CODE]
    for channel, (subject, body) in channels.items():
        Template.objects.get_or_create(code=CODE, channel=channel, defaults={"name": name, "subject": subject, "body": body})


def remove(apps, schema_editor):
    apps.get_model("notify", "Template").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0003_hall_rate_invite")]
    operations = [migrations.RunPython(create, remove)]
