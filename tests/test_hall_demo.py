"""The hall's demo data: applications in every state, valid identifiers, events in time order."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from stdnum.cn import ric, uscc

from tongban.cases.models import Case, CaseEvent
from tongban.core import clock
from tongban.demo import build
from tongban.hall.models import Application, Booking, CrossRegion, Enterprise, Evaluation, Licence, Person, Slot
from tongban.hall.workflow import HALL

from .conftest import local

NOW = local(2026, 11, 25, 15, 30)
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            out = StringIO()
            with clock.at(NOW):
                call_command("demo", requests=20, days=5, stdout=out)
            yield out.getvalue()
            transaction.set_rollback(True)


def test_every_state_is_present(demo):
    top = Case.objects.filter(case_type__workflow="hall", parent__isnull=True)
    assert set(top.values_list("state", flat=True)) == set(HALL.states) - {"received"}
    assert "办件" in demo and "电子证照" in demo and "好差评" in demo


def test_packages_run_in_parallel_and_complete(demo):
    packages = Application.objects.filter(package__isnull=False).annotate(n=Count("parts"))
    assert all(a.n == a.package.entries.count() for a in packages)
    running = packages.filter(case__state="reviewing", package__code="YJS-001").get()
    assert {p.case.state for p in running.parts.select_related("case")} == {"approved", "reviewing"}
    done = packages.filter(case__state="done", package__code="YJS-001").get()
    assert Licence.objects.filter(kind="营业执照", issued_by_case__parent=done.case).exists()


def test_scenarios(demo):
    assert Application.objects.filter(helper__isnull=False, consent=True).exists()
    assert CrossRegion.objects.filter(application__case__state="remote").exists()
    assert CrossRegion.objects.filter(application__case__state="done", return_method="mail").exists()
    bad = Evaluation.objects.filter(level__lte=2)
    assert bad.count() == 2 and {e.rectify_case.state for e in bad} == {"rectifying", "pending_callback"}
    assert Application.objects.filter(checks__state="licence").exists()
    for slot in Slot.objects.annotate(n=Count("bookings")):
        assert slot.n <= slot.capacity
    assert Booking.objects.exists()


def test_identifiers_have_valid_check_digits(demo):
    assert Person.objects.count() > 5 and all(ric.is_valid(n) for n in Person.objects.values_list("id_number", flat=True))
    assert all(uscc.is_valid(n) for n in Enterprise.objects.values_list("uscc", flat=True))


def test_events_move_forward_in_time(demo):
    hall_cases = Case.objects.filter(case_type__workflow__in=("hall", "hall_rectify"))
    assert not CaseEvent.objects.filter(case__in=hall_cases, created_at__gt=NOW).exists()
    last = {}
    for case_id, seq, at in CaseEvent.objects.filter(case__in=hall_cases).order_by("case", "seq").values_list("case", "seq", "created_at"):
        assert case_id not in last or (last[case_id][0] == seq - 1 and at >= last[case_id][1]), (case_id, seq)
        last[case_id] = (seq, at)
    for child in Case.objects.filter(parent__isnull=False, case_type__workflow="hall"):
        assert child.created_at >= child.parent.created_at


def test_wipe_removes_the_hall(demo):
    build.wipe()
    assert not (Application.objects.exists() or Licence.objects.exists() or Person.objects.exists() or Slot.objects.exists())
    assert not Case.objects.exists()
