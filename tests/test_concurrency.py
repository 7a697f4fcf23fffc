"""Two people acting on one case at the same moment: the row lock lets exactly one through."""
import threading

import pytest
from django.db import connections

from tongban.cases.models import Case, CaseEvent
from tongban.cases.workflow import TransitionError
from tongban.hotline import services as hotline

from .factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_two_handlers_signing_the_same_case_at_once_exactly_one_succeeds(county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    colleague = UserFactory(username="handler2", roles="handler", unit=county.housing)
    start = threading.Barrier(2)
    results = {}

    def sign_as(user):
        stale = Case.objects.get(pk=case.pk)  # both read "pending_sign" before either writes
        start.wait()
        try:
            hotline.sign(stale, by=user)
            results[user.username] = "ok"
        except TransitionError as exc:
            results[user.username] = str(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_as, args=(u,)) for u in (county.handler, colleague)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(results.values()).count("ok") == 1, results
    loser = next(v for v in results.values() if v != "ok")
    assert "办理中" in loser and "签收" in loser
    assert CaseEvent.objects.filter(case=case, action="sign").count() == 1
    assert Case.objects.get(pk=case.pk).state == "handling"


@pytest.mark.django_db(transaction=True)
def test_case_numbers_stay_unique_under_concurrent_intake(county, make_request):
    start = threading.Barrier(4)
    numbers, errors = [], []

    def take_calls():
        start.wait()
        try:
            for _ in range(5):
                numbers.append(make_request().number)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take_calls) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(numbers) == 20 and len(set(numbers)) == 20
