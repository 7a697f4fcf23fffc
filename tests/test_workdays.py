"""Working-day calendar (工作日历): sources of truth, deadline arithmetic, caching, command."""
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from io import StringIO
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings, strategies as st

from tongban.workdays import services
from tongban.workdays.models import CalendarOverride, OfficeHours

TZ = ZoneInfo("Asia/Shanghai")
CC_KNOWS_2027 = services._chinesecalendar_knows(2027)
needs_rule_2027 = pytest.mark.skipif(
    CC_KNOWS_2027, reason="the installed chinesecalendar already has 2027 data"
)
property_settings = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def override(d: date, workday: bool, reason: str = "") -> CalendarOverride:
    return CalendarOverride.objects.create(date=d, is_workday=workday, reason=reason)


def run_calendar(*args) -> list[str]:
    out = StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue().rstrip("\n").splitlines()


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    # Test transactions roll back without signals, so no test may see another's overrides.
    services.clear_cache()
    yield
    services.clear_cache()


# --------------------------------------------------------------------------- the two contract examples


@pytest.mark.django_db
def test_five_working_days_across_national_day_2026_counts_the_saturday_make_up_day():
    due = services.add_working_days(local(2026, 9, 30, 10, 0), 5)
    assert due == local(2026, 10, 13, 23, 59, 59)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(hours=8)


@pytest.mark.django_db
def test_five_working_days_into_2027_uses_the_rule_and_skips_new_years_day():
    assert services.add_working_days(local(2026, 12, 28, 10, 0), 5) == local(2027, 1, 5, 23, 59, 59)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start, expected",
    [("2026-09-30 10:00", "2026-10-13 23:59:59"), ("2026-12-28 10:00", "2027-01-05 23:59:59")],
)
def test_calendar_due_command_prints_the_deadline_on_its_last_line(start, expected):
    lines = run_calendar("due", "--from", start, "--working-days", "5")
    assert lines[-1] == expected
    assert len(lines) > 1  # an explanation precedes the result


@pytest.mark.django_db
def test_calendar_due_command_accepts_working_hours():
    lines = run_calendar("due", "--from", "2026-12-28 10:00", "--working-hours", "7.5")
    assert lines[-1] == "2026-12-29 10:30:00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-13-01 10:00", "--working-days", "5"], "无法识别的时间"),
        (["--from", "明天上午", "--working-days", "5"], "无法识别的时间"),
        (["--from", "2026-09-30 10:00", "--working-days", "-1"], "不能为负数"),
        (["--from", "2026-09-30 10:00", "--working-days", "五"], "不是整数"),
        (["--from", "2026-09-30 10:00", "--working-hours", "-2"], "非负数"),
    ],
)
def test_calendar_due_command_rejects_bad_input_with_a_chinese_message(args, message):
    with pytest.raises(CommandError, match=message):
        run_calendar("due", *args)


# --------------------------------------------------------------------------- add_working_days details


@pytest.mark.django_db
def test_zero_working_days_means_the_end_of_the_acceptance_day_even_on_a_holiday():
    assert services.add_working_days(local(2026, 10, 2, 8, 0), 0) == local(2026, 10, 2, 23, 59, 59)
    assert services.add_working_days(local(2026, 10, 12, 8, 0), 0) == local(2026, 10, 12, 23, 59, 59)


@pytest.mark.django_db
def test_negative_working_days_are_rejected():
    with pytest.raises(ValueError):
        services.add_working_days(local(2026, 10, 12, 8, 0), -1)


@pytest.mark.django_db
def test_acceptance_late_in_the_evening_is_counted_in_local_time():
    # 2026-10-09 16:30 UTC is Saturday 2026-10-10 00:30 in Shanghai (a make-up workday).
    start = datetime(2026, 10, 9, 16, 30, tzinfo=dt_timezone.utc)
    assert services.add_working_days(start, 1) == local(2026, 10, 12, 23, 59, 59)


@pytest.mark.django_db
def test_make_up_saturday_is_a_working_day_and_an_ordinary_weekend_is_not():
    assert services.is_workday(date(2026, 10, 10)) is True  # 国庆调休上班
    assert services.is_workday(date(2026, 10, 11)) is False
    assert services.is_workday(date(2026, 10, 17)) is False
    assert services.is_workday(date(2026, 10, 5)) is False  # 国庆 on a Monday
    assert services.source_of(date(2026, 10, 10)) == "chinesecalendar"
    # Friday + 1 working day skips the weekend.
    assert services.add_working_days(local(2026, 11, 6, 9, 0), 1) == local(2026, 11, 9, 23, 59, 59)


@pytest.mark.django_db
def test_working_days_between_counts_start_inclusive_end_exclusive():
    assert services.working_days_between(date(2026, 10, 1), date(2026, 10, 8)) == 0
    assert services.working_days_between(date(2026, 10, 8), date(2026, 10, 14)) == 5
    assert services.working_days_between(date(2026, 10, 14), date(2026, 10, 8)) == 0


# --------------------------------------------------------------------------- overrides


@pytest.mark.django_db
def test_override_can_turn_a_chinesecalendar_working_day_into_a_holiday():
    assert services.is_workday(date(2026, 10, 12))
    override(date(2026, 10, 12), False, "防汛放假")
    assert services.is_workday(date(2026, 10, 12)) is False
    assert services.source_of(date(2026, 10, 12)) == "override"
    assert services.add_working_days(local(2026, 9, 30, 10, 0), 5) == local(2026, 10, 14, 23, 59, 59)


@pytest.mark.django_db
def test_override_can_turn_a_chinesecalendar_holiday_into_a_working_day():
    assert not services.is_workday(date(2026, 10, 7))
    override(date(2026, 10, 7), True, "值班")
    assert services.is_workday(date(2026, 10, 7)) is True
    assert services.add_working_days(local(2026, 9, 30, 10, 0), 5) == local(2026, 10, 12, 23, 59, 59)


@pytest.mark.django_db
@needs_rule_2027
def test_override_beats_the_fallback_rule_in_2027():
    assert not services.is_workday(date(2027, 2, 6))  # Saturday
    assert not services.is_workday(date(2027, 2, 5))  # 除夕 by the rule
    override(date(2027, 2, 6), True, "春节调休上班")
    override(date(2027, 2, 5), True, "测试")
    override(date(2027, 2, 10), False, "春节延长假期")
    assert services.is_workday(date(2027, 2, 6))
    assert services.is_workday(date(2027, 2, 5))
    assert not services.is_workday(date(2027, 2, 10))
    assert services.source_of(date(2027, 2, 10)) == "override"


# --------------------------------------------------------------------------- the fallback rule


@needs_rule_2027
@pytest.mark.django_db
def test_2027_falls_back_to_weekends_and_statutory_holidays():
    holidays = services.rule_holidays(2027)
    expected = {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节", date(2027, 2, 6): "春节",
        date(2027, 2, 7): "春节", date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节", date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午节",
        date(2027, 9, 15): "中秋节",
        date(2027, 10, 1): "国庆节", date(2027, 10, 2): "国庆节", date(2027, 10, 3): "国庆节",
    }
    assert holidays == expected
    for d in expected:
        assert services.is_workday(d) is False, d
        assert services.source_of(d) == "rule"
    assert services.is_workday(date(2027, 2, 4))  # the Thursday before 除夕
    assert services.is_workday(date(2027, 2, 9))  # 正月初四 is back to work
    assert not services.is_workday(date(2027, 3, 6))  # an ordinary Saturday
    assert services.working_days_between(date(2027, 1, 1), date(2028, 1, 1)) == 254


@pytest.mark.parametrize("year", [2025, 2026])
def test_rule_holidays_are_holidays_in_chinesecalendar_for_known_years(year):
    for d, name in services.rule_holidays(year).items():
        assert chinese_calendar.is_holiday(d), (d, name)
        if d.weekday() < 5:
            assert chinese_calendar.get_holiday_detail(d)[1] is not None, (d, name)


def test_rule_gives_the_four_day_spring_festival_from_new_years_eve():
    spring = sorted(d for d, n in services.rule_holidays(2025).items() if n == "春节")
    assert spring == [date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31)]


def test_qingming_formula_matches_chinesecalendars_solar_terms():
    for year in range(2004, 2101):
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
        official = next(d for d, name in terms if name == "清明")
        assert services.qingming(year) == official, year


# --------------------------------------------------------------------------- properties


@pytest.mark.django_db
@property_settings
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31, 23, 59, 59),
                       timezones=st.just(TZ)),
    n=st.integers(min_value=0, max_value=30),
)
def test_add_working_days_lands_on_the_nth_working_day_for_2024_to_2030(start, n):
    due = services.add_working_days(start, n)
    due_day = due.astimezone(TZ).date()
    assert due.astimezone(TZ).time() == time(23, 59, 59)
    if n == 0:
        assert due_day == start.date()
    else:
        assert due_day > start.date()
        assert services.is_workday(due_day)
    one = timedelta(days=1)
    assert services.working_days_between(start.date() + one, due_day + one) == n


office_moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31, 23, 59, 59), timezones=st.just(TZ)
)


@pytest.mark.django_db
@property_settings
@given(start=office_moments, seconds=st.integers(min_value=0, max_value=20 * 7 * 3600))
def test_add_working_hours_and_working_seconds_between_round_trip(start, seconds):
    due = services.add_working_hours(start, seconds / 3600)
    assert due >= start
    assert services.working_seconds_between(start, due) == seconds
    if seconds:
        local_due = due.astimezone(TZ)
        assert services.is_workday(local_due.date())
        assert any(s < local_due.time() <= e for s, e in services.office_periods())


@pytest.mark.django_db
@property_settings
@given(t=office_moments, seconds=st.integers(min_value=0, max_value=20 * 7 * 3600))
def test_subtract_working_seconds_is_the_inverse_of_counting(t, seconds):
    earlier = services.subtract_working_seconds(t, seconds)
    assert earlier <= t
    assert services.working_seconds_between(earlier, t) == seconds


# --------------------------------------------------------------------------- working hours


@pytest.mark.django_db
def test_add_working_hours_skips_the_lunch_break():
    assert services.add_working_hours(local(2026, 10, 12, 11, 0), 2) == local(2026, 10, 12, 14, 30)


@pytest.mark.django_db
def test_add_working_hours_started_at_night_begins_at_the_next_office_period():
    assert services.add_working_hours(local(2026, 10, 12, 22, 0), 1) == local(2026, 10, 13, 10, 0)
    # Friday night before the weekend, Monday morning is next.
    assert services.add_working_hours(local(2026, 10, 16, 20, 0), 3.5) == local(2026, 10, 19, 14, 0)
    # In the lunch break, the afternoon period is next.
    assert services.add_working_hours(local(2026, 10, 12, 12, 30), 1) == local(2026, 10, 12, 14, 30)


@pytest.mark.django_db
def test_add_working_hours_skips_holidays_and_counts_make_up_days():
    # 2026-09-30 afternoon is 4 h; 10-01…10-07 are off; 10-08 and 10-09 give 7 h each.
    assert services.add_working_hours(local(2026, 9, 30, 13, 30), 4 + 7 + 7 + 1) == local(2026, 10, 10, 10, 0)


@pytest.mark.django_db
def test_budget_ending_at_closing_time_returns_closing_time():
    assert services.add_working_hours(local(2026, 10, 12, 9, 0), 7) == local(2026, 10, 12, 17, 30)


@pytest.mark.django_db
def test_working_seconds_between_counts_only_office_time():
    assert services.working_seconds_between(local(2026, 10, 12, 0, 0), local(2026, 10, 13, 0, 0)) == 7 * 3600
    assert services.working_seconds_between(local(2026, 10, 12, 11, 0), local(2026, 10, 12, 14, 0)) == 5400
    assert services.working_seconds_between(local(2026, 10, 1), local(2026, 10, 8)) == 0
    assert services.working_seconds_between(local(2026, 10, 13), local(2026, 10, 12)) == 0


@pytest.mark.django_db
def test_subtract_from_midnight_counts_back_from_closing_time():
    t = local(2026, 10, 13, 23, 59, 59)
    assert services.subtract_working_seconds(t, 0) == local(2026, 10, 13, 17, 30)
    assert services.subtract_working_seconds(t, 5 * 3600) == local(2026, 10, 13, 11, 0)
    # Back across a weekend and the lunch break.
    assert services.subtract_working_seconds(local(2026, 10, 19, 9, 0), 4 * 3600 + 60) == local(2026, 10, 16, 11, 59)


@pytest.mark.django_db
def test_warning_starts_when_one_working_day_of_office_time_is_left():
    assert services.warning_start(local(2026, 10, 13, 23, 59, 59)) == local(2026, 10, 13, 9, 0)
    assert services.warning_start(local(2026, 10, 13, 12, 0)) == local(2026, 10, 12, 13, 30)
    # Due right after the National Day holiday: the warning begins before it.
    assert services.warning_start(local(2026, 10, 8, 10, 0)) == local(2026, 9, 30, 10, 0)


@pytest.mark.django_db
def test_administrator_can_change_office_hours():
    hours = OfficeHours.load()
    hours.afternoon_end = time(18, 0)
    hours.save()
    assert services.office_periods()[1] == (time(13, 30), time(18, 0))
    assert services.add_working_hours(local(2026, 10, 12, 17, 30), 1) == local(2026, 10, 13, 9, 30)
    assert services.warning_start(local(2026, 10, 13, 23, 59, 59)) == local(2026, 10, 13, 9, 0)
    assert services.working_seconds_between(local(2026, 10, 12), local(2026, 10, 13)) == 7.5 * 3600


def test_office_hours_must_be_in_order():
    with pytest.raises(ValidationError):
        OfficeHours(morning_start=time(9), morning_end=time(14), afternoon_start=time(13, 30),
                    afternoon_end=time(17, 30)).clean()
    OfficeHours().clean()  # the defaults are valid


# --------------------------------------------------------------------------- caching


@pytest.mark.django_db
def test_saving_and_deleting_an_override_changes_the_next_answer():
    assert services.is_workday(date(2026, 11, 3))
    row = override(date(2026, 11, 3), False, "临时停工")
    assert not services.is_workday(date(2026, 11, 3))
    row.is_workday = True
    row.save()
    assert services.is_workday(date(2026, 11, 3))
    row.delete()
    assert services.is_workday(date(2026, 11, 3))
    assert services.source_of(date(2026, 11, 3)) == "chinesecalendar"


@pytest.mark.django_db
def test_changes_made_by_another_process_are_seen_within_sixty_seconds(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(services, "_monotonic", lambda: clock[0])
    assert services.is_workday(date(2026, 11, 4))
    # bulk_create sends no signals, like a write from another process.
    CalendarOverride.objects.bulk_create([CalendarOverride(date=date(2026, 11, 4), is_workday=False)])
    clock[0] += 30
    assert services.is_workday(date(2026, 11, 4))  # still cached
    clock[0] += 31
    assert not services.is_workday(date(2026, 11, 4))
    CalendarOverride.objects.filter(date=date(2026, 11, 4)).delete()  # queryset delete: still a signal
    assert services.is_workday(date(2026, 11, 4))


@pytest.mark.django_db
def test_periodic_recheck_keeps_the_cache_when_nothing_changed(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(services, "_monotonic", lambda: clock[0])
    override(date(2026, 11, 5), False)
    hours = OfficeHours.load()
    hours.save()
    services.is_workday(date(2026, 11, 5))
    snapshot = services._snapshot
    clock[0] += 61
    assert not services.is_workday(date(2026, 11, 5))
    assert services._snapshot is snapshot  # the marker matched, nothing was reloaded


# --------------------------------------------------------------------------- missing schedules


@pytest.mark.django_db
@needs_rule_2027
def test_years_needing_schedule_reports_2027_until_an_override_exists():
    assert services.years_needing_schedule(date(2026, 6, 1)) == [2027]
    assert services.years_needing_schedule(date(2025, 6, 1)) == []
    assert services.unknown_years([2025, 2027, 2028, 2027]) == [2027, 2028]
    [warning] = services.schedule_warnings(date(2026, 6, 1))
    assert warning.startswith("2027 年的法定节假日调休安排尚未录入")
    override(date(2027, 2, 6), True, "春节调休上班")
    assert services.years_needing_schedule(date(2026, 6, 1)) == []
    assert services.schedule_warnings(date(2026, 6, 1)) == []


# --------------------------------------------------------------------------- command: show / set / unset


@pytest.mark.django_db
@needs_rule_2027
def test_calendar_show_lists_rule_holidays_and_warns_about_the_missing_schedule():
    out = "\n".join(run_calendar("show", "--year", "2027"))
    assert "2027-02-05（星期五）  [规则推算] 春节" in out
    assert "2027-09-15（星期三）  [规则推算] 中秋节" in out
    assert "尚未录入" in out


@pytest.mark.django_db
def test_calendar_show_lists_make_up_weekend_days_from_chinesecalendar():
    out = "\n".join(run_calendar("show", "--year", "2026"))
    assert "2026-10-10（星期六）  [chinesecalendar] 国庆节调休上班" in out
    assert "尚未录入" not in out


@pytest.mark.django_db
@needs_rule_2027
def test_calendar_set_and_unset_edit_overrides():
    run_calendar("set", "2027-02-06", "--workday", "--reason", "春节调休上班")
    run_calendar("set", "2027-02-10", "--holiday", "--reason", "春节延长")
    assert services.is_workday(date(2027, 2, 6))
    assert not services.is_workday(date(2027, 2, 10))
    out = "\n".join(run_calendar("show", "--year", "2027"))
    assert "2027-02-06（星期六）  [管理员调整] 春节调休上班" in out
    assert "尚未录入" not in out
    run_calendar("set", "2027-02-10", "--workday")
    assert CalendarOverride.objects.get(date=date(2027, 2, 10)).is_workday
    run_calendar("unset", "2027-02-06")
    assert not services.is_workday(date(2027, 2, 6))
    assert "没有调整记录" in run_calendar("unset", "2027-02-06")[-1]
    with pytest.raises(CommandError, match="无法识别的日期"):
        run_calendar("set", "2027-02-30", "--holiday")


# --------------------------------------------------------------------------- admin


@pytest.mark.django_db
def test_admin_lists_overrides_and_warns_about_missing_schedules(admin_client, monkeypatch):
    monkeypatch.setattr(services, "years_needing_schedule", lambda today=None: [2027])
    override(date(2026, 10, 12), False, "防汛放假")
    changelist = reverse("admin:workdays_calendaroverride_changelist")
    page = admin_client.get(changelist).content.decode()
    assert "防汛放假" in page and "放假" in page
    assert "2027 年的法定节假日调休安排尚未录入" in page
    assert admin_client.get(changelist + "?year=2026").status_code == 200
    assert admin_client.get(reverse("admin:workdays_officehours_changelist")).status_code == 200
