from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path("console/earlier/", views.earlier_requests, name="earlier"),
    path("dispatch/", views.dispatch_queue, name="dispatch_queue"),
    path("inbox/", views.inbox, name="inbox"),
    path("cases/", views.case_list, name="cases"),
    path("cases/export.xlsx", views.case_export, name="cases_export"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/act/<str:action>/", views.case_act, name="case_act"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("board/", views.board, name="board"),
    path("board/export.xlsx", views.board_export, name="board_export"),
    path("settings/", views.settings_home, name="settings"),
    path("settings/types/<str:code>/", views.case_type_edit, name="case_type_edit"),
    path("settings/calendar/", views.calendar_page, name="calendar"),
    path("healthz", views.healthz, name="healthz"),
]
