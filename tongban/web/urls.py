from django.contrib.auth import views as auth_views
from django.urls import path

from tongban.accounts.views import login_view
from tongban.dispatch import views as routing_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path("console/earlier/", views.earlier_requests, name="earlier"),
    path("dispatch/", views.dispatch_queue, name="dispatch_queue"),
    path("inbox/", views.inbox, name="inbox"),
    path("cases/", views.case_list, name="cases"),
    path("cases/export.xlsx", views.case_export, name="cases_export"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/unmask/", views.case_unmask, name="case_unmask"),
    path("cases/<str:number>/files/<int:pk>", views.case_attachment, name="case_attachment"),
    path("cases/<str:number>/act/<str:action>/", views.case_act, name="case_act"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("board/", views.board, name="board"),
    path("board/export.xlsx", views.board_export, name="board_export"),
    path("settings/", views.settings_home, name="settings"),
    path("settings/types/<str:code>/", views.case_type_edit, name="case_type_edit"),
    path("settings/calendar/", views.calendar_page, name="calendar"),
    path("settings/routing/", routing_views.routing_settings, name="routing_settings"),
    path("settings/routing/rules/new/", routing_views.rule_edit, name="routing_rule_new"),
    path("settings/routing/rules/<int:pk>/", routing_views.rule_edit, name="routing_rule_edit"),
    path("settings/routing/rules/<int:pk>/toggle/", routing_views.rule_toggle, name="routing_rule_toggle"),
    path("settings/routing/rules/export.xlsx", routing_views.rules_export, name="routing_rules_export"),
    path("settings/routing/rules/import/", routing_views.rules_import, name="routing_rules_import"),
    path("settings/routing/models/<int:number>/activate/", routing_views.model_activate, name="routing_model_activate"),
    path("healthz", views.healthz, name="healthz"),
]
