from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="hall_home"),
    path("new/", views.new, name="hall_new"),
    path("new/checklist/", views.checklist, name="hall_checklist"),
    path("review/", views.review, name="hall_review"),
    path("appointments/", views.appointments, name="hall_appointments"),
    path("licences/", views.licences, name="hall_licences"),
    path("stats/", views.stats, name="hall_stats"),
    path("rate/<str:token>/", views.rate, name="hall_rate"),
    path("api/remote-status/<str:number>/", views.remote_status_api, name="hall_remote_status_api"),
    path("a/<str:number>/", views.application, name="hall_application"),
    path("a/<str:number>/receipt.pdf", views.receipt, name="hall_receipt"),
    path("a/<str:number>/refusal.pdf", views.refusal, name="hall_refusal"),
    path("a/<str:number>/<str:action>/", views.act, name="hall_act"),
]
