from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.hall.licence_import import HEADER, import_licences


class Command(BaseCommand):
    help = "导入电子证照（XLSX 或 CSV），列：" + "、".join(HEADER)

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.exists():
            raise CommandError(f"文件不存在：{path}")
        r = import_licences(path)
        for e in r.errors:
            self.stderr.write(e)
        self.stdout.write(f"新增 {r.created} 件，更新 {r.updated} 件，错误 {len(r.errors)} 行。")
