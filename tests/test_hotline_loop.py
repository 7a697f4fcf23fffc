"""The 接诉即办 closed loop, driven through the service functions."""
import pytest

from tongban.cases.access import AccessDenied, visible_cases
from tongban.cases.models import Case, CaseEvent
from tongban.cases.workflow import TransitionError
from tongban.core import clock
from tongban.hotline import services as hotline

from .conftest import local

pytestmark = pytest.mark.django_db


def events(case):
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True))


def test_a_complaint_goes_round_the_whole_loop(county, make_request):
    case = make_request(at=local(2026, 9, 30, 10))
    assert case.state == "pending_dispatch"
    assert case.number.startswith("20260930") and len(case.number) == 13
    with clock.at(local(2026, 9, 30, 10, 30)):
        hotline.dispatch(case, county.housing, by=county.dispatcher)
    # 5 working days counted from dispatch, across the National Day holiday
    assert case.due_at == local(2026, 10, 13, 23, 59, 59)
    assert case.sign_due_at == local(2026, 10, 8, 23, 59, 59)
    with clock.at(local(2026, 10, 8, 9)):
        hotline.sign(case, by=county.handler)
    with clock.at(local(2026, 10, 9, 15)):
        hotline.finish(case, "已安排维修人员更换灯具，现已恢复照明。", "solved", by=county.handler)
    assert case.state == "pending_callback"
    with clock.at(local(2026, 10, 10, 10)):
        hotline.callback(case, reached=True, satisfaction="satisfied", solved=True, by=county.operator)
    case.refresh_from_db()
    assert case.state == "closed" and case.satisfaction == "satisfied"
    assert events(case) == ["create", "dispatch", "sign", "finish", "callback"]
    sign_event = case.events.get(action="sign")
    assert sign_event.on_time is True and sign_event.unit == county.housing
    assert [e.seq for e in case.events.order_by("seq")] == [1, 2, 3, 4, 5]


def test_an_unsatisfied_callback_reopens_the_case_for_the_same_unit(county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.finish(case, "已答复。", "explained", by=county.handler)
    with clock.at(local(2026, 11, 23, 10)):
        hotline.callback(case, reached=True, satisfaction="unsatisfied", solved=False, note="路灯仍未修好", by=county.operator)
    case.refresh_from_db()
    assert case.state == "handling"
    assert case.unit == county.housing
    assert case.reopen_count == 1
    assert case.due_at == local(2026, 11, 30, 23, 59, 59)  # 5 working days after Monday 23rd
    # the same handler can finish again
    hotline.finish(case, "已更换灯具并现场确认。", "solved", by=county.handler)
    assert case.state == "pending_callback"


def test_an_illegal_transition_is_refused_with_a_clear_message(county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    with pytest.raises(TransitionError, match="待签收.*不能执行“办结”"):
        hotline.finish(case, "答复", "solved", by=county.handler)
    case.refresh_from_db()
    assert case.state == "pending_sign" and events(case) == ["create", "dispatch"]


def test_another_unit_cannot_see_or_act_on_a_case(county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    assert not visible_cases(county.other_handler).filter(pk=case.pk).exists()
    assert visible_cases(county.handler).filter(pk=case.pk).exists()
    with pytest.raises(AccessDenied):
        hotline.sign(case, by=county.other_handler)
    with pytest.raises(AccessDenied):
        hotline.dispatch(make_request(), county.transport, by=county.handler)  # not centre staff
    case.refresh_from_db()
    assert case.state == "pending_sign"


def test_a_returned_case_is_reassigned_with_fresh_limits(county, make_request):
    case = make_request()
    with clock.at(local(2026, 11, 23, 9)):
        hotline.dispatch(case, county.housing, by=county.dispatcher)
    with clock.at(local(2026, 11, 23, 11)):
        hotline.return_case(case, "非本单位职责，应由交通运输局处理", by=county.handler)
    assert case.state == "disputed"
    with clock.at(local(2026, 11, 24, 9)):
        hotline.reassign(case, county.transport, by=county.dispatcher)
    assert case.state == "pending_sign" and case.unit == county.transport
    assert case.due_at == local(2026, 12, 1, 23, 59, 59)
    assert visible_cases(county.handler).filter(pk=case.pk).exists()  # history stays visible to the first unit
    with pytest.raises(AccessDenied):
        hotline.sign(case, by=county.handler)
    hotline.sign(case, by=county.other_handler)


def test_a_rejected_return_goes_back_with_the_clock_still_running_and_first_unit_leads(county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    due = case.due_at
    with pytest.raises(hotline.RuleError):
        hotline.return_case(case, "  ", by=county.handler)
    hotline.return_case(case, "涉及交通部门", by=county.handler)
    hotline.keep(case, by=county.dispatcher, note="首接负责，交通局协办", co_units=[county.transport])
    case.refresh_from_db()
    assert case.state == "handling" and case.unit == county.housing and case.due_at == due
    assert case.assignments.filter(unit=county.transport, role="assist").exists()
    assert visible_cases(county.other_handler).filter(pk=case.pk).exists()


def test_relay_down_to_a_village_keeps_the_deadline_and_the_town_sees_it(county, make_request):
    case = make_request()
    hotline.dispatch(case, county.town_office, by=county.dispatcher)
    due = case.due_at
    with pytest.raises(hotline.RuleError):
        hotline.relay(case, county.housing, by=county.town_dispatcher)  # not below the town
    hotline.relay(case, county.village_committee, by=county.town_dispatcher)
    assert case.unit == county.village_committee and case.due_at == due
    hotline.sign(case, by=county.village_handler)
    hotline.finish(case, "村委会已组织修复。", "solved", by=county.village_handler)
    assert visible_cases(county.town_dispatcher).filter(pk=case.pk).exists()


def test_extension_moves_the_deadline_and_is_limited(county, make_request):
    case = make_request()
    with clock.at(local(2026, 11, 23, 9)):
        hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.request_extension(case, 3, "需协调施工单位", by=county.handler)
    with pytest.raises(hotline.RuleError, match="正在审批"):
        hotline.request_extension(case, 1, "再次", by=county.handler)
    hotline.decide_extension(case, True, by=county.supervisor)
    assert case.due_at == local(2026, 12, 3, 23, 59, 59)  # 11-30 + 3 working days
    with pytest.raises(hotline.RuleError, match="最多可延期 1 次"):
        hotline.request_extension(case, 1, "还需时间", by=county.handler)


def test_paused_working_days_do_not_count(county, make_request):
    case = make_request()
    with clock.at(local(2026, 11, 23, 9)):
        hotline.dispatch(case, county.housing, by=county.dispatcher)
        hotline.sign(case, by=county.handler)
    assert case.due_at == local(2026, 11, 30, 23, 59, 59)
    with pytest.raises(hotline.RuleError, match="不能超过200字"):
        hotline.suspend(case, "等" * 201, by=county.handler)
    with clock.at(local(2026, 11, 24, 10)):
        hotline.suspend(case, "等待诉求人补充现场照片", by=county.handler)
    assert case.light(local(2026, 12, 10)) == ""  # no light while paused
    with clock.at(local(2026, 11, 26, 15)):  # paused Tue and Wed: 2 working days
        hotline.resume(case, by=county.handler)
    assert case.due_at == local(2026, 12, 2, 23, 59, 59)
    assert case.events.get(action="resume").payload == {"paused_working_days": 2}


def test_closing_the_original_closes_its_duplicates_with_the_same_reply(county, make_request):
    original = make_request()
    duplicate = make_request(requester_phone="13900001111")
    hotline.link_duplicate(duplicate, original, by=county.operator)
    assert duplicate.state == "merged"
    hotline.dispatch(original, county.housing, by=county.dispatcher)
    hotline.sign(original, by=county.handler)
    hotline.finish(original, "路灯已修复。", "solved", by=county.handler)
    duplicate.refresh_from_db()
    assert duplicate.state == "closed" and duplicate.reply == "路灯已修复。"
    assert events(duplicate)[-1] == "close_duplicate"


def test_unreached_callbacks_close_the_case_after_three_attempts(county, make_request):
    case = make_request(case_type=county.consult)
    hotline.answer_directly(case, "身份证补办请携带户口簿到县政务服务中心公安窗口办理。", by=county.operator)
    for _ in range(2):
        hotline.callback(case, reached=False, by=county.operator)
        assert case.state == "pending_callback"
    hotline.callback(case, reached=False, by=county.operator)
    assert case.state == "closed"


def test_refusal_needs_one_of_the_six_legal_reasons(county, make_request):
    case = make_request()
    with pytest.raises(hotline.RuleError):
        hotline.refuse(case, "because", by=county.operator)
    hotline.refuse(case, "emergency", "已转接 110", by=county.operator)
    assert case.state == "refused" and case.events.last().outcome == "emergency"


def test_events_are_append_only(county, make_request):
    case = make_request()
    event = case.events.get()
    event.note = "edited"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_intake_rejects_bad_phone_with_a_chinese_message_and_saves_nothing(county, make_request):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        make_request(requester_phone="12345")
    assert "联系电话格式不正确" in str(err.value)
    assert Case.objects.count() == 0


def test_earlier_requests_of_the_caller_are_found(county, make_request):
    first = make_request()
    second = make_request(title="噪音扰民")
    assert list(hotline.earlier_requests("138 1234 1234", exclude=second)) == [first]
    assert masked(second) == "138****1234"


def masked(case):
    return case.masked_phone


def test_supervisor_flags_a_case(county, make_request):
    case = make_request()
    hotline.supervise(case, "请加快办理", by=county.supervisor)
    assert case.supervised
    with pytest.raises(AccessDenied):
        hotline.supervise(case, "x", by=county.handler)


def test_only_hotline_centre_staff_take_requests(county, make_request):
    from tongban.hotline.services import Intake

    with pytest.raises(AccessDenied, match="话务员"):
        hotline.intake(Intake(case_type=county.complaint, title="t", content="c"), by=county.handler)
    with pytest.raises(AccessDenied):  # a village worker reporting by phone channel is not an operator
        hotline.intake(Intake(case_type=county.complaint, title="t", content="c"), by=county.village_handler)
    assert Case.objects.count() == 0
    reported = hotline.intake(Intake(case_type=county.complaint, title="井盖缺失", content="三组路口井盖缺失", channel="grid"),
                              by=county.village_handler)
    assert reported.channel == "grid" and reported.state == "pending_dispatch"
    # the reporter follows their own report before it is dispatched to anyone; other units do not see it
    assert visible_cases(county.village_handler).filter(pk=reported.pk).exists()
    assert not visible_cases(county.handler).filter(pk=reported.pk).exists()


def test_an_action_keeps_the_callers_object_current_and_reuses_what_it_loaded(county, make_request):
    """The kernel brings the caller's case up to date; related rows it had loaded are reused where
    the keys still agree, and replaced where the action changed them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    case = Case.objects.select_related("case_type", "unit", "category").get(pk=case.pk)
    loaded_unit = case.unit
    with CaptureQueriesContext(connection) as queries:
        hotline.sign(case, by=county.handler)
        assert case.unit is loaded_unit and case.category.name == "城乡建设"
    assert not any('FROM "core_unit"' in q["sql"] or 'FROM "cases_category"' in q["sql"] for q in queries.captured_queries)
    assert case.state == "handling" and case.last_event_seq == 3
    hotline.return_case(case, "非本单位职责", by=county.handler)
    hotline.reassign(case, county.transport, by=county.dispatcher)
    assert case.unit == county.transport and case.unit_id == county.transport.pk
    assert Case.objects.get(pk=case.pk).unit_id == county.transport.pk
