"""/open311/v2/… — the GeoReport v2 base path (mounted in tongban/urls.py)."""
from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"
app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/.]+)" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<number>[^/.]+)" + FMT, views.single_request, name="request"),
    re_path(r"^tokens/(?P<token>[^/.]+)" + FMT, views.token, name="token"),
    re_path(r"^servicerequestupdates" + FMT, views.updates, name="updates"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
