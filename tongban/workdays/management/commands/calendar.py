"""`tongban calendar …`: compute deadlines and inspect or edit the working-day calendar."""
from __future__ import annotations

import datetime as dt

from django.db import DatabaseError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tongban.workdays import services
from tongban.workdays.models import CalendarOverride

WEEKDAYS = "一二三四五六日"
SOURCES = {
    services.SOURCE_OVERRIDE: "管理员调整",
    services.SOURCE_CHINESECALENDAR: "chinesecalendar",
    services.SOURCE_RULE: "规则推算",
}


def _parse_moment(text: str) -> dt.datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            naive = dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return timezone.make_aware(naive, timezone.get_default_timezone())
    raise CommandError(f"无法识别的时间“{text}”，请使用 YYYY-MM-DD HH:MM 格式。")


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"无法识别的日期“{text}”，请使用 YYYY-MM-DD 格式。") from None


def _label(d: dt.date) -> str:
    return f"{d:%Y-%m-%d}（星期{WEEKDAYS[d.weekday()]}）"


def _fmt(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment, timezone.get_default_timezone()):%Y-%m-%d %H:%M:%S}"


class Command(BaseCommand):
    help = "工作日历：计算办理时限，查看或调整某年的上班日与放假日。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{due,show,set,unset}")

        due = sub.add_parser("due", help="计算办理时限（截止时刻）")
        due.add_argument("--from", dest="start", required=True, help="受理时间，YYYY-MM-DD HH:MM")
        limit = due.add_mutually_exclusive_group(required=True)
        limit.add_argument("--working-days", dest="working_days", help="时限（工作日）")
        limit.add_argument("--working-hours", dest="working_hours", help="时限（工作小时）")

        show = sub.add_parser("show", help="列出某年的放假工作日与上班周末")
        show.add_argument("--year", type=int, help="年份，默认今年")

        set_ = sub.add_parser("set", help="把某天设为上班或放假")
        set_.add_argument("date", help="日期，YYYY-MM-DD")
        kind = set_.add_mutually_exclusive_group(required=True)
        kind.add_argument("--workday", dest="is_workday", action="store_true", default=None,
                          help="当天上班（如调休补班）")
        kind.add_argument("--holiday", dest="is_workday", action="store_false", help="当天放假")
        set_.add_argument("--reason", default="", help="原因，例如“春节调休上班”")

        unset = sub.add_parser("unset", help="删除某天的调整，恢复默认安排")
        unset.add_argument("date", help="日期，YYYY-MM-DD")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DatabaseError as exc:
            raise CommandError(
                f"读取工作日历失败：{exc}。数据库是否已初始化？请先运行 `tongban migrate`。"
            ) from exc

    # ----------------------------------------------------------------- due
    def _due(self, start, working_days=None, working_hours=None, **_):
        moment = _parse_moment(start)
        if working_days is not None:
            try:
                n = int(working_days)
            except ValueError:
                raise CommandError(f"工作日数“{working_days}”不是整数。") from None
            if n < 0:
                raise CommandError("工作日数不能为负数。")
            due = services.add_working_days(moment, n)
            self.stdout.write(f"受理时间 {_fmt(moment)}，时限 {n} 个工作日（受理当日不计）。")
        else:
            try:
                hours = float(working_hours)
            except ValueError:
                raise CommandError(f"工作小时数“{working_hours}”不是数字。") from None
            if not (hours >= 0 and hours != float("inf")):
                raise CommandError("工作小时数必须是非负数。")
            due = services.add_working_hours(moment, hours)
            periods = "、".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in services.office_periods())
            self.stdout.write(
                f"受理时间 {_fmt(moment)}，时限 {hours:g} 个工作小时（办公时间 {periods}）。"
            )
        for year in services.unknown_years(range(moment.year, due.year + 1)):
            self.stdout.write(self.style.WARNING(f"注意：{year} 年的调休安排尚未录入，按规则推算。"))
        self.stdout.write(_fmt(due))

    # ----------------------------------------------------------------- show
    def _show(self, year=None, **_):
        if year is None:
            from tongban.core import clock

            year = timezone.localtime(clock.now()).year
        if not 1 <= year <= 9999:
            raise CommandError("年份超出范围。")
        off, on, total = [], [], 0
        for d in _dates(year):
            weekend, working = d.weekday() >= 5, services.is_workday(d)
            total += working
            if working == weekend:
                note = services.describe(d)
                source = SOURCES[services.source_of(d)]
                line = f"  {_label(d)}  [{source}]" + (f" {note}" if note else "")
                (on if weekend else off).append(line)
        self.stdout.write(f"{year} 年工作日历：共 {total} 个工作日")
        self.stdout.write(f"放假的工作日（周一至周五）：{len(off)} 天")
        self.stdout.write("\n".join(off) if off else "  （无）")
        self.stdout.write(f"上班的周末：{len(on)} 天")
        self.stdout.write("\n".join(on) if on else "  （无）")
        if services.unknown_years([year]):
            self.stdout.write(self.style.WARNING(
                f"警告：{year} 年的法定节假日调休安排尚未录入，当前按周末和法定节日规则推算。"
                f"请用 `tongban calendar set` 或后台“工作日历”补录调休。"
            ))

    # ----------------------------------------------------------------- set / unset
    def _set(self, date, is_workday, reason="", **_):
        day = _parse_date(date)
        obj, created = CalendarOverride.objects.update_or_create(
            date=day, defaults={"is_workday": is_workday, "reason": reason}
        )
        verb = "新增" if created else "更新"
        self.stdout.write(self.style.SUCCESS(
            f"已{verb}：{_label(day)} {'上班' if is_workday else '放假'}"
            + (f"（{reason}）" if reason else "")
        ))

    def _unset(self, date, **_):
        day = _parse_date(date)
        deleted, _n = CalendarOverride.objects.filter(date=day).delete()
        if deleted:
            self.stdout.write(self.style.SUCCESS(
                f"已删除 {_label(day)} 的调整，现在按默认安排：{'上班' if services.is_workday(day) else '放假'}。"
            ))
        else:
            self.stdout.write(f"{_label(day)} 没有调整记录，无需删除。")


def _dates(year: int):
    d = dt.date(year, 1, 1)
    while d.year == year:
        yield d
        d += dt.timedelta(days=1)

