from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_account, name="my_account"),
    path("password/", views.change_password, name="change_password"),
    path("2fa/", views.totp_setup, name="totp_setup"),
    path("2fa/manage/", views.totp_manage, name="totp_manage"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("login/welcome/", views.login_welcome, name="login_welcome"),
    path("login/password/", views.login_password, name="login_password"),
    path("login/2fa/", views.login_enrol, name="login_enrol"),
    path("login/continue/", views.login_continue, name="login_continue"),
    path("manage/", views.manage_list, name="account_admin"),
    path("manage/<int:pk>/", views.manage_user, name="manage_user"),
]
