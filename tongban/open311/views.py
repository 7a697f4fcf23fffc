"""Open311 GeoReport v2 endpoints under /open311/v2/. Each one answers in XML or JSON, chosen by
the suffix (``services.xml``, ``services.json``); any other suffix is a 404. POSTs are
form-encoded or multipart, from other systems, so CSRF does not apply (the api_key does)."""
from __future__ import annotations

from functools import wraps

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import present, render, services
from .services import Open311Error


def endpoint(*methods: str):
    """Check the suffix and the method, and turn Open311Error into the spec's error document."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, fmt: str, **kwargs) -> HttpResponse:
            if fmt not in render.FORMATS:
                return render.errors("xml", 404, f"不支持的格式“.{fmt}”，请使用 .xml 或 .json。")
            if request.method not in methods:
                response = render.errors(fmt, 405, f"此接口不支持 {request.method} 请求。")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, fmt, *args, **kwargs)
            except Open311Error as exc:
                return render.errors(fmt, exc.status, *exc.descriptions)

        return wrapper

    return decorate


def _params(request):
    return request.POST if request.method == "POST" else request.GET


@endpoint("GET")
def discovery(request, fmt):
    url = request.build_absolute_uri(request.path.rsplit("/", 1)[0] + "/")
    return render.respond(fmt, "discovery", present.discovery(url))


@endpoint("GET")
def service_list(request, fmt):
    services.check_jurisdiction(request.GET)
    return render.respond(fmt, "services", [present.service(s) for s in services.service_list()])


@endpoint("GET")
def service_definition(request, fmt, code):
    services.check_jurisdiction(request.GET)
    return render.respond(fmt, "service_definition", present.definition(services.get_service(code)))


@endpoint("GET", "POST")
def requests(request, fmt):
    if request.method == "POST":
        client = services.authenticate(request.POST)
        submission = services.submit(client, request.POST, request.FILES)
        return render.respond(fmt, "service_requests", [present.created(submission)])
    return render.respond(fmt, "service_requests", present.requests(services.find_requests(request.GET)))


@endpoint("GET")
def single_request(request, fmt, number):
    services.check_jurisdiction(request.GET)
    return render.respond(fmt, "service_requests", present.requests([services.get_request(number)]))


@endpoint("GET")
def token(request, fmt, token):
    services.check_jurisdiction(request.GET)
    return render.respond(fmt, "service_requests", [present.token(services.by_token(token))])


@endpoint("GET", "POST")
def updates(request, fmt):
    if request.method == "POST":
        client = services.authenticate(request.POST)
        update = services.post_update(client, request.POST, request.FILES)
        return render.respond(fmt, "service_request_updates", [{"update_id": str(update.pk)}])
    found = services.find_updates(request.GET)
    return render.respond(fmt, "service_request_updates", [present.update(e, s) for e, s in found])


@csrf_exempt
def not_found(request, path=""):
    return render.errors("json" if path.endswith(".json") else "xml", 404, f"没有这个接口：/open311/v2/{path}")
