"""`tongban catalog …`: the 政务服务事项 catalog as Excel.

    tongban catalog export FILE.xlsx     write items, materials, form fields and 一件事 packages
    tongban catalog import FILE.xlsx     check every row, then import all (or nothing, with the errors)
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "政务服务事项目录：导出 / 导入 Excel（工作表：事项、材料、表单字段、一件事）"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{export,import}", required=True)
        actions.add_parser("export", help="导出全部事项和一件事到 Excel 文件").add_argument("file", metavar="FILE")
        actions.add_parser("import", help="校验并导入 Excel 文件（任何一行有错则全部不导入）").add_argument("file", metavar="FILE")

    def handle(self, *args, action, file, **options):
        from tongban.catalog import xlsx

        path = Path(file)
        if action == "export":
            path.write_bytes(xlsx.workbook_bytes())
            self.stdout.write(f"已导出到 {path}")
            return
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        with path.open("rb") as fh:
            result = xlsx.import_xlsx(fh)
        if not result.ok:
            for sheet, row, message in result.errors:
                where = f"{sheet} 第 {row} 行" if row else (sheet or "文件")
                self.stderr.write(f"{where}：{message}")
            raise CommandError(f"未导入：发现 {len(result.errors)} 处错误。")
        self.stdout.write("导入完成：" + result.summary())
