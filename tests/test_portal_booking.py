"""预约办事 on the portal: a citizen picks a free slot, gets a booking number by SMS, can cancel it
with the number and the phone; full and past slots, bad input, too many bookings, honeypot, limits."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from tongban.core import clock
from tongban.hall import services as hall
from tongban.hall.models import Booking, Slot
from tongban.notify.models import Outbox

from .conftest import local
from .hall_fixtures import hallx  # noqa: F401

pytestmark = pytest.mark.django_db

MON_10 = local(2026, 11, 23, 10, 0)  # a Monday morning
TUE = MON_10.date().replace(day=24)


@pytest.fixture
def slots(hallx):
    cache.clear()  # rate-limit counters
    hall.open_slots(hallx.unit, MON_10.date(), ["综合窗口"], capacity=2)
    hall.open_slots(hallx.unit, TUE, ["综合窗口", "企业开办专区"], capacity=2)
    yield hallx
    cache.clear()


def slot_at(day, hhmm, group="综合窗口"):
    h, m = map(int, hhmm.split(":"))
    return Slot.objects.get(day=day, start=f"{h:02d}:{m:02d}", window_group=group)


def form(chosen, **over):
    return {"slot": str(chosen.pk), "name": "王小明", "phone": "13912345678", "subject": "营业执照", "website": "", **over}


def test_the_page_offers_only_slots_that_have_not_started_one_day_and_window_at_a_time(client, slots):
    with clock.at(MON_10):
        today = client.get(reverse("portal_book")).content.decode()  # first day with free places, first window
        tuesday = client.get(reverse("portal_book"), {"day": TUE.isoformat(), "group": "企业开办专区"}).content.decode()
        nonsense = client.get(reverse("portal_book"), {"day": "2099-13-01", "group": "<script>"})
    assert f'value="{slot_at(MON_10.date(), "10:30").pk}"' in today and "余 2 个" in today
    assert f'value="{slot_at(MON_10.date(), "09:30").pk}"' not in today  # already over
    assert f'value="{slot_at(TUE, "09:00").pk}"' not in today  # another day: one tap away
    assert f'value="{slot_at(TUE, "09:00", "企业开办专区").pk}"' in tuesday and "11月24日" in tuesday
    assert f'value="{slot_at(TUE, "09:00").pk}"' not in tuesday  # the 综合窗口's slots are under its own chip
    assert nonsense.status_code == 200 and "<script>" not in nonsense.content.decode()


def test_booking_sends_the_number_by_sms_and_shows_it(client, slots):
    slot = slot_at(TUE, "09:30", "企业开办专区")
    with clock.at(MON_10):
        answer = client.post(reverse("portal_book"), form(slot))
    assert answer.status_code == 302 and answer.url == reverse("portal_book_done")
    booking = Booking.objects.get()
    assert (booking.slot, booking.name, booking.phone, booking.subject) == (slot, "王小明", "13912345678", "营业执照")
    done = client.get(answer.url).content.decode()
    assert booking.code in done and "139****5678" in done and "企业开办专区" in done
    sms = Outbox.objects.get(template_code="booking_confirm", channel="sms")
    assert sms.recipient == "13912345678" and booking.code in sms.body and "11月24日 09:30–10:00" in sms.body
    assert "/p/book/cancel/" in sms.body and "营业执照" in sms.body
    with clock.at(MON_10):
        page = client.get(reverse("portal_book"), {"day": TUE.isoformat(), "group": "企业开办专区"}).content.decode()
    assert "余 1 个" in page


def test_a_full_slot_and_bad_input_are_refused_in_chinese_and_the_form_is_kept(client, slots):
    slot = slot_at(TUE, "10:00")
    with clock.at(MON_10):
        for phone in ("13900000001", "13900000002"):
            assert client.post(reverse("portal_book"), form(slot, phone=phone)).status_code == 302
        full = client.post(reverse("portal_book"), form(slot, phone="13900000003"))
        assert full.status_code == 400 and "10:00 的综合窗口已约满，请选择其他时段" in full.content.decode()
        bad = client.post(reverse("portal_book"), form(slot_at(TUE, "10:30"), phone="12345"))
        body = bad.content.decode()
        assert bad.status_code == 400 and "手机号格式不正确" in body and 'value="王小明"' in body
        assert f'value="{slot_at(TUE, "10:30").pk}" checked' in body
        none = client.post(reverse("portal_book"), form(slot, slot="", name=""))
        assert none.status_code == 400 and "请先选择预约时段" in none.content.decode() and "请填写姓名" in none.content.decode()
        gone = client.post(reverse("portal_book"), form(slot, slot="999999"))
        assert gone.status_code == 400 and "请选择一个还未开始的预约时段" in gone.content.decode()
        past = client.post(reverse("portal_book"), form(slot_at(MON_10.date(), "09:00")))
        assert past.status_code == 400 and "还未开始" in past.content.decode()
    assert Booking.objects.count() == 2


def test_one_phone_holds_at_most_three_future_bookings(client, slots, settings):
    settings.PORTAL_LIMITS = {"book_phone": (10, 3600)}
    with clock.at(MON_10):
        for hhmm in ("09:00", "09:30", "10:00"):
            assert client.post(reverse("portal_book"), form(slot_at(TUE, hhmm))).status_code == 302
        fourth = client.post(reverse("portal_book"), form(slot_at(TUE, "10:30")))
    assert fourth.status_code == 400 and "已有 3 个未到的预约" in fourth.content.decode()


def test_cancel_needs_the_number_and_the_phone_and_frees_the_place(client, slots):
    slot = slot_at(TUE, "14:00")
    with clock.at(MON_10):
        client.post(reverse("portal_book"), form(slot))
        code = Booking.objects.get().code
        wrong = client.post(reverse("portal_book_cancel"), {"code": code, "phone": "13900000000"})
        assert wrong.status_code == 400 and "预约号或手机号不对" in wrong.content.decode()
        assert f'value="{code}"' in client.get(reverse("portal_book_cancel"), {"code": code}).content.decode()
        ok = client.post(reverse("portal_book_cancel"), {"code": code.lower(), "phone": "139 1234 5678"})
        assert ok.status_code == 200 and f"已取消预约 <b>{code}</b>" in ok.content.decode()
        again = client.post(reverse("portal_book_cancel"), {"code": code, "phone": "13912345678"})
        assert again.status_code == 400
        page = client.get(reverse("portal_book"), {"day": TUE.isoformat(), "group": "综合窗口"}).content.decode()
        assert "余 1 个" not in page and "余 2 个" in page
    assert Booking.objects.get().status == "cancelled"


def test_the_honeypot_and_the_rate_limit_book_nothing(client, slots, settings):
    with clock.at(MON_10):
        trap = client.post(reverse("portal_book"), form(slot_at(TUE, "09:00"), website="http://spam.example"))
        assert trap.status_code == 400 and "预约未成功" in trap.content.decode()
        settings.PORTAL_LIMITS = {"book_ip": (1, 3600)}
        assert client.post(reverse("portal_book"), form(slot_at(TUE, "09:00"))).status_code == 302
        limited = client.post(reverse("portal_book"), form(slot_at(TUE, "09:30"), phone="13900000009"))
    assert limited.status_code == 400 and "预约操作过于频繁" in limited.content.decode()
    assert Booking.objects.count() == 1


def test_without_open_slots_the_page_says_so(client, hallx):
    with clock.at(MON_10):
        body = client.get(reverse("portal_book")).content.decode()
    assert "近几天还没有可预约的时段" in body and 'name="phone"' not in body
