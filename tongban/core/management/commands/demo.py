"""`tongban demo`: build the 虚构示范数据 (fictional county 示范市青溪县 and its 12345 hotline)."""
from __future__ import annotations

import time
import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from tongban.cases.models import Case
from tongban.core.models import Role, Unit
from tongban.hotline.choices import RefusalReason
from tongban.hotline.workflow import HOTLINE

REFUSAL_SHORT = {
    RefusalReason.EMERGENCY: "应走紧急专线", RefusalReason.LITIGATION: "应走诉讼仲裁等程序", RefusalReason.REPEAT: "重复诉求无新理由",
    RefusalReason.SECRET: "涉密或隐私", RefusalReason.OUT_OF_SCOPE: "非本市行政职责", RefusalReason.UNLAWFUL: "违法或违背公序良俗",
}
NOTE = "虚构示范数据：示范市青溪县及其单位、人员、电话号码均为虚构；诉求文本部分改编自公开数据集（泰迪杯 2020），地名已替换。"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row):
        return "  ".join(str(v) + " " * (w - _width(str(v))) for v, w in zip(row, widths)).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def role_labels(roles: str) -> str:
    return "、".join(Role(r).label for r in roles.split(",") if r in Role.values)


class Command(BaseCommand):
    help = ("生成虚构示范数据：示范市青溪县的组织架构（乡镇街道、村社区、网格、职能部门）、各角色演示账号、"
            "三级诉求分类，以及最近一段时间的 12345 诉求工单（全部经由业务服务按时间顺序办理）。")

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="数据库中已有单位或工单时什么也不做（供 make run 每次启动时调用）")
        parser.add_argument("--reset", action="store_true",
                            help="先删除全部工单、事件、派单记录、非超级管理员账号、单位和行政区划，再重新生成")
        parser.add_argument("--yes", action="store_true", help="与 --reset 一起使用：数据库中有非示范数据时也确认删除")
        parser.add_argument("--accounts", action="store_true", help="只列出示范账号，不生成数据")
        parser.add_argument("--requests", type=int, default=5000, help="诉求数量，默认 5000")
        parser.add_argument("--days", type=int, default=90, help="诉求分布在最近多少天内，默认 90")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子，默认 2026；相同种子生成相同的内容")

    def handle(self, *args, **opts):
        try:
            self._handle(**opts)
        except DatabaseError as exc:
            raise CommandError(f"数据库操作失败：{exc}。数据库是否已初始化？请先运行 `tongban migrate`。") from exc

    def _handle(self, *, if_empty, reset, yes, accounts, requests, days, seed, **_):
        from tongban.demo import build as demo
        from tongban.demo.content import PASSWORD

        if accounts:
            self.print_accounts(demo.demo_accounts(), PASSWORD)
            return
        if if_empty and reset:
            raise CommandError("--if-empty 与 --reset 不能同时使用。")
        if requests < 0:
            raise CommandError("--requests 不能为负数。")
        if days < 1:
            raise CommandError("--days 至少为 1。")
        if not demo.is_empty():
            summary = f"{Unit.objects.count()} 个单位、{Case.objects.count()} 件工单"
            if if_empty:
                self.stdout.write(f"数据库中已有数据（{summary}），跳过示范数据生成。如需重建示范数据，请运行 `tongban demo --reset`。")
                self.print_accounts(demo.demo_accounts(), PASSWORD)
                return
            if not reset:
                raise CommandError(f"数据库中已有数据（{summary}），不能重复生成示范数据。"
                                   "如需重建，请使用 --reset（将删除现有工单、单位、行政区划和非超级管理员账号）。")
            if demo.has_foreign_data() and not yes:
                raise CommandError("数据库中有不属于示范数据的单位或行政区划，--reset 会把它们连同全部工单一起删除。"
                                   "如确认删除，请加上 --yes。")
            try:
                counts = demo.wipe()
            except demo.DemoError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"已清除：工单 {counts['cases']} 件、事件 {counts['events']} 条、账号 {counts['users']} 个、"
                              f"单位 {counts['units']} 个、行政区划 {counts['regions']} 个。")

        self.stdout.write(NOTE)
        self.stdout.write(f"正在生成：{requests} 件诉求，分布在最近 {days} 天，随机种子 {seed} ……")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  已受理 {done}/{total} 件（{time.monotonic() - started:.1f} 秒）")

        try:
            result = demo.build(requests=requests, days=days, seed=seed, progress=progress)
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.print_summary(result)
        self.print_accounts(result.accounts, PASSWORD, skipped=result.skipped_accounts)

    # ------------------------------------------------------------------ output
    def print_summary(self, s) -> None:
        f = s.facts
        self.stdout.write(self.style.SUCCESS(
            f"完成：{s.requests} 件诉求，用时 {s.seconds:.1f} 秒（本进程 CPU {s.cpu_seconds:.1f} 秒；"
            f"业务操作 {s.steps} 次，工单事件 {f['events']} 条）。"))
        self.stdout.write("工单状态：")
        rows = [(label, str(s.states.get(code, 0))) for code, label in HOTLINE.states.items()]
        for line in table(rows, ("状态", "件数")):
            self.stdout.write("  " + line)
        self.stdout.write("不予受理（按法定情形）：" + "；".join(
            f"{REFUSAL_SHORT[code]} {s.refusals.get(code, 0)} 件" for code in RefusalReason.values))
        reached = f["satisfied"] + f["basic"] + f["unsatisfied"]
        rate = (f["satisfied"] + f["basic"]) / reached * 100 if reached else 0
        self.stdout.write(
            f"其中：超期 {f['overdue']} 件、临期（黄灯）{f['warning']} 件、督办 {f['supervised']} 件、重办 {f['reopened']} 件、"
            f"下派村社区/网格 {f['relayed']} 件、退回改派 {f['reassigned']} 件、驳回退回（协办）{f['kept']} 件、"
            f"直接答复 {f['answered']} 件、重复件并案 {f['merged_total']} 件、延期 同意 {f['ext_approved']} / 不同意 {f['ext_denied']}。")
        self.stdout.write(f"回访 {reached} 次：满意 {f['satisfied']}、基本满意 {f['basic']}、不满意 {f['unsatisfied']}（满意+基本满意 {rate:.1f}%）。")
        for line in s.extras:
            self.stdout.write(line)

    def print_accounts(self, accounts, password: str, skipped=()) -> None:
        if not accounts:
            self.stdout.write("尚未生成示范数据，没有示范账号。运行 `tongban demo` 生成。")
            return
        self.stdout.write("")
        self.stdout.write(f"示范账号（{NOTE[:6]}）：所有账号的初始密码均为 {password}")
        rows = [(u, password if u not in skipped else "（保留原密码）", role_labels(r), unit, name)
                for u, name, r, unit in accounts]
        for line in table(rows, ("用户名", "密码", "角色", "所属单位", "姓名")):
            self.stdout.write("  " + line)
