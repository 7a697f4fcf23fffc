"""Case types of the hall: a single-item 办件, a 一件事 package (parent of its sub-cases), and the
整改 opened by a 差评. Deadlines come from the catalog's promised limits, not from these rows."""
from django.db import migrations

TYPES = [
    # code, name, workflow, finish working days (整改 only; 办件 use the item's promised limit)
    ("hall_item", "政务服务办件", "hall", 20),
    ("hall_package", "一件事办件", "hall", 20),
    ("hall_rectify", "差评整改", "hall_rectify", 5),
]


def create(apps, schema_editor):
    CaseType = apps.get_model("cases", "CaseType")
    for order, (code, name, workflow, finish) in enumerate(TYPES, start=100):
        CaseType.objects.get_or_create(code=code, defaults=dict(
            name=name, workflow=workflow, sign_limit=1, sign_limit_unit="days", finish_limit_days=finish,
            redo_limit_days=finish, ordering=order))


def remove(apps, schema_editor):
    apps.get_model("cases", "CaseType").objects.filter(code__in=[t[0] for t in TYPES], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("hall", "0001_initial"), ("cases", "0004_attachments_parent_intake_key")]
    operations = [migrations.RunPython(create, remove)]
