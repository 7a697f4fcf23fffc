"""Property-based fuzzing of /api/v1/ from its own OpenAPI schema (schemathesis, in-process through WSGI).

Every operation gets generated requests — valid and invalid bodies, query strings, headers, path
parameters (half of them swapped for real case numbers so the handlers run past the lookup) — from
three callers: the centre's system administrator (every action is allowed, so the deepest paths
run), a unit handler, and a caller without credentials. No answer may be a server error (5xx), and
every answer must be JSON with a status the schema documents.

Bounded for CI: TONGBAN_FUZZ_EXAMPLES examples per operation and caller (default 12), derandomised so
a failure reproduces; set TONGBAN_FUZZ_RANDOM=1 to explore new inputs locally.
"""
from __future__ import annotations

import os
import random

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tongban.api.api import api
from tongban.api.models import ApiToken
from tongban.hotline import services as hotline

EXAMPLES = int(os.environ.get("TONGBAN_FUZZ_EXAMPLES", "12"))


# The schema comes straight from the API object (no request needed at import); requests go to the WSGI app in-process.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()
schema.config.phases.coverage.enabled = os.environ.get("TONGBAN_FUZZ_COVERAGE", "0") == "1"


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Like Django's test client: the test's connection (and its transaction) stays open between requests."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def callers(county, make_request):
    """Bearer headers per caller, and real case numbers in several states."""
    cases = [make_request(title=f"模糊测试{i}") for i in range(3)]
    hotline.dispatch(cases[1], county.housing, by=county.dispatcher)
    hotline.dispatch(cases[2], county.housing, by=county.dispatcher)
    hotline.sign(cases[2], by=county.handler)
    headers = {}
    for user in (county.admin, county.handler):  # issued directly: Django's test client would reconnect the signals
        headers[user.username] = {"Authorization": f"Bearer {ApiToken.issue(user)[1]}"}
    headers["anonymous"] = {}
    return headers, [c.number for c in cases]


def status_is_documented(ctx, response, case):
    documented = set(case.operation.definition.raw.get("responses", {}))
    if case.method.lower() != case.operation.method.lower():
        documented.add("405")  # schemathesis also tries methods the path does not take
    if str(response.status_code) not in documented and response.status_code != 401:
        raise AssertionError(f"状态码 {response.status_code} 未在接口文档中列出：{sorted(documented)}")
    kind = next((v[0] for k, v in response.headers.items() if k.lower() == "content-type"), "")
    if response.status_code not in (204, 405) and "json" not in kind:  # django-ninja answers 405 itself, as HTML
        raise AssertionError(f"响应不是 JSON：{kind}")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("TONGBAN_FUZZ_RANDOM") != "1",
          suppress_health_check=list(HealthCheck), database=None, print_blob=True)
def test_api_never_answers_with_a_server_error(case, callers):
    headers, numbers = callers
    if "number" in (case.path_parameters or {}) and random.random() < 0.5:
        case.path_parameters["number"] = random.choice(numbers)
    for who in ("sysadmin", "handler", "anonymous"):
        if case.method.upper() == "DELETE" and who != "anonymous":
            continue  # revoking our own token would leave the other examples unauthenticated
        response = case.call(headers={**(case.headers or {}), **headers[who]})
        case.validate_response(response, checks=[not_a_server_error, status_is_documented])
