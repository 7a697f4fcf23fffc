"""`tongban doorplates generate|pdf|list`: 数字政务门牌 from the command line."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.portal import doorplates
from tongban.portal.models import DoorPlate


class Command(BaseCommand):
    help = ("数字政务门牌。generate：为一个村（社区）生成门牌（按编号或按住户清单 CSV）；"
            "pdf：输出该村（社区）全部启用门牌的 A4 打印文件；list：各村（社区）门牌数量。")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["generate", "pdf", "list"])
        parser.add_argument("--village", help="村或社区的名称或区划代码")
        parser.add_argument("--count", type=int, default=0, help="按编号生成的数量")
        parser.add_argument("--street", default="", help="路名或组名，如“幸福路”，门牌号为“幸福路1号”")
        parser.add_argument("--start", type=int, default=1, help="起始号，默认 1")
        parser.add_argument("--grid", default="", help="这些门牌所属的网格名称（可选）")
        parser.add_argument("--csv", help="住户清单 CSV（UTF-8），列：门牌号（必填）、地址、网格")
        parser.add_argument("-o", "--output", help="pdf 的输出文件，默认 doorplates-<区划代码>.pdf")

    def handle(self, *args, action, village, count, street, start, grid, csv, output, **opts):
        try:
            if action == "list":
                from tongban.core.models import Level, Region

                for row in doorplates.village_summary(Region.objects.filter(level=Level.VILLAGE)):
                    if row["plates"]:
                        self.stdout.write(f"{row['village'].code}  {row['village'].full_name()}  {row['plates']} 块")
                return
            if not village:
                raise CommandError("请用 --village 指定村或社区。")
            region = doorplates.find_village(village)
            if action == "generate":
                if csv:
                    households = doorplates.from_csv(Path(csv).read_text(encoding="utf-8-sig"))
                elif count:
                    households = doorplates.numbered(region, count, street=street, start=start, grid=grid)
                else:
                    raise CommandError("请用 --count 指定数量，或用 --csv 提供住户清单。")
                created, skipped = doorplates.create_plates(region, households)
                self.stdout.write(f"{region.full_name()}：新生成门牌 {len(created)} 块" + (f"，已存在 {skipped} 块未重复生成" if skipped else "") + "。")
            else:
                plates = DoorPlate.objects.filter(village=region, active=True).select_related("unit").order_by("id")
                path = Path(output or f"doorplates-{region.code}.pdf")
                path.write_bytes(doorplates.plates_pdf(plates, title=f"{region.full_name()} 数字政务门牌"))
                pages = -(-plates.count() // (doorplates.COLUMNS * doorplates.ROWS)) or 1
                self.stdout.write(f"已输出 {path}：{plates.count()} 块门牌，{pages} 页 A4。")
        except doorplates.PlateError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"读写文件失败：{exc}") from exc
