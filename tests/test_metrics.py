"""三率 and unit scores, computed from the event log."""
from datetime import timedelta

import pytest

from tongban.analytics.metrics import totals, unit_scores
from tongban.core import clock
from tongban.hotline import services as hotline

from .conftest import local

pytestmark = pytest.mark.django_db


def handled(county, make_request, unit, handler, *, day, sign_late=False, finish_late=False, satisfaction="satisfied", solved=True):
    case = make_request(at=local(2026, 11, day, 9))
    with clock.at(local(2026, 11, day, 9, 30)):
        hotline.dispatch(case, unit, by=county.dispatcher)
    with clock.at(case.sign_due_at + (timedelta(hours=1) if sign_late else -timedelta(hours=10))):
        hotline.sign(case, by=handler)
    with clock.at(case.due_at + (timedelta(hours=1) if finish_late else -timedelta(hours=12))):
        hotline.finish(case, "已处理。", "solved", by=handler)
    if satisfaction:
        with clock.at(case.finished_at + timedelta(hours=2)):
            hotline.callback(case, reached=True, satisfaction=satisfaction, solved=solved, by=county.operator)
    return case


def test_three_rates_per_unit_follow_the_documented_formulas(county, make_request, settings):
    settings.TONGBAN_RANK_MIN_CASES = 1
    # housing: 4 cases, 1 signed late, 1 finished late, call-backs: satisfied, basic, unsatisfied(unsolved), satisfied
    handled(county, make_request, county.housing, county.handler, day=2)
    handled(county, make_request, county.housing, county.handler, day=3, sign_late=True, satisfaction="basic")
    handled(county, make_request, county.housing, county.handler, day=4, finish_late=True, satisfaction="unsatisfied", solved=False)
    handled(county, make_request, county.housing, county.handler, day=5)
    # transport: 2 cases, all on time, one never called back yet
    handled(county, make_request, county.transport, county.other_handler, day=2)
    handled(county, make_request, county.transport, county.other_handler, day=3, satisfaction="")

    scores = {s.unit_name: s for s in unit_scores(local(2026, 11, 1), local(2026, 12, 31))}
    housing, transport = scores["县住房和城乡建设局"], scores["县交通运输局"]
    assert (housing.received, housing.signed_on_time, housing.finished, housing.finished_on_time) == (4, 3, 4, 3)
    assert housing.response_rate == 0.75
    assert housing.callbacks == 4 and housing.solve_rate == 0.75
    assert housing.satisfaction_rate == 0.75  # satisfied + basic, out of 4 reached
    assert housing.on_time_rate == 0.75
    assert housing.score == round(100 * (0.2 * 0.75 + 0.4 * 0.75 + 0.4 * 0.75), 2)
    assert transport.response_rate == 1.0 and transport.callbacks == 1 and transport.satisfaction_rate == 1.0
    ranking = [s.unit_name for s in unit_scores(local(2026, 11, 1), local(2026, 12, 31))]
    assert ranking.index("县交通运输局") < ranking.index("县住房和城乡建设局")
    assert housing.avg_hours is not None and housing.avg_hours > 0
    total = totals(list(scores.values()))
    assert total.received == 6 and total.callbacks == 5


def test_the_period_and_scope_limit_what_is_counted(county, make_request):
    handled(county, make_request, county.housing, county.handler, day=2)
    assert unit_scores(local(2026, 12, 1), local(2026, 12, 31)) == []
    only = unit_scores(local(2026, 11, 1), local(2026, 12, 31), unit_ids=[county.transport.pk])
    assert only == []


def test_a_reopened_case_counts_the_unsatisfied_call_back_and_the_later_one(county, make_request):
    case = handled(county, make_request, county.housing, county.handler, day=2, satisfaction="unsatisfied", solved=False)
    assert case.state == "handling"
    with clock.at(local(2026, 11, 9, 10)):
        hotline.finish(case, "已彻底修复。", "solved", by=county.handler)
        hotline.callback(case, reached=True, satisfaction="satisfied", solved=True, by=county.operator)
    s = unit_scores(local(2026, 11, 1), local(2026, 12, 31))[0]
    assert (s.callbacks, s.satisfied, s.unsatisfied, s.finished) == (2, 1, 1, 2)


def test_units_with_too_few_cases_are_listed_after_the_ranked_ones(county, make_request, settings):
    settings.TONGBAN_RANK_MIN_CASES = 2
    handled(county, make_request, county.housing, county.handler, day=2, satisfaction="unsatisfied", solved=False)
    handled(county, make_request, county.housing, county.handler, day=3)
    handled(county, make_request, county.transport, county.other_handler, day=2)  # one perfect case
    scores = unit_scores(local(2026, 11, 1), local(2026, 12, 31))
    assert [(s.unit_name, s.ranked) for s in scores] == [("县住房和城乡建设局", True), ("县交通运输局", False)]
    assert scores[1].score > scores[0].score


def test_the_daily_rollup_gives_the_same_board_as_the_raw_events(county, make_request, settings):
    from tongban.analytics.metrics import refresh_day_stats
    from tongban.analytics.models import RollupMark, UnitDayStats

    settings.TONGBAN_RANK_MIN_CASES = 1
    handled(county, make_request, county.housing, county.handler, day=2)
    handled(county, make_request, county.housing, county.handler, day=3, sign_late=True, satisfaction="unsatisfied", solved=False)
    handled(county, make_request, county.transport, county.other_handler, day=4, finish_late=True, satisfaction="basic")

    def board(start, end, **kw):
        return [(s.unit_name, s.received, s.signed_on_time, s.finished, s.finished_on_time, s.callbacks, s.solved,
                 s.satisfied, s.basic, s.unsatisfied, s.returned, s.avg_hours) for s in unit_scores(start, end, **kw)]

    windows = [(local(2026, 11, 1), local(2026, 12, 31)), (local(2026, 11, 3, 12), local(2026, 11, 20, 8)), (local(2026, 11, 4), local(2026, 11, 5))]
    live = [board(a, b) for a, b in windows]
    scoped_live = board(*windows[0], unit_ids=[county.transport.pk])
    with clock.at(local(2026, 11, 25, 1)):
        assert refresh_day_stats() > 0
    assert RollupMark.objects.get().until.isoformat() == "2026-11-25"
    assert UnitDayStats.objects.exists()
    assert [board(a, b) for a, b in windows] == live
    assert board(*windows[0], unit_ids=[county.transport.pk]) == scoped_live
    # an event after the watermark is still counted, live
    assert unit_scores(*windows[0], unit_ids=[county.transport.pk])[0].received == 1
    handled(county, make_request, county.transport, county.other_handler, day=26)
    assert unit_scores(*windows[0], unit_ids=[county.transport.pk])[0].received == 2
