from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="notify_home"),
    path("templates/<int:pk>/", views.template_edit, name="notify_template"),
    path("templates/<int:pk>/preview/", views.template_preview, name="notify_preview"),
    path("outbox/", views.outbox, name="notify_outbox"),
    path("outbox/retry-failed/", views.outbox_retry_failed, name="notify_retry_failed"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="notify_retry"),
    path("inbox/", views.inbox, name="notify_inbox"),
    path("inbox/read/", views.inbox_read, name="notify_read"),
]
