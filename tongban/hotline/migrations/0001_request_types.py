"""The six 诉求类型 of the hotline, with the default limits (editable afterwards)."""
from django.db import migrations

TYPES = [
    # code, name, sign working days, finish working days
    ("consult", "咨询", 1, 1),
    ("help", "求助", 1, 5),
    ("complaint", "投诉", 1, 5),
    ("report", "举报", 1, 5),
    ("suggestion", "建议", 1, 10),
    ("praise", "表扬", 1, 5),
]


def create(apps, schema_editor):
    CaseType = apps.get_model("cases", "CaseType")
    for order, (code, name, sign, finish) in enumerate(TYPES):
        CaseType.objects.get_or_create(code=code, defaults=dict(
            name=name, workflow="hotline", sign_limit=sign, sign_limit_unit="days",
            finish_limit_days=finish, redo_limit_days=finish, ordering=order))


def remove(apps, schema_editor):
    apps.get_model("cases", "CaseType").objects.filter(code__in=[t[0] for t in TYPES], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
