from django.apps import AppConfig


class NotifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tongban.notify"
    verbose_name = "消息通知"

    def ready(self):
        from . import signals  # noqa: F401  hooks the hotline's case events
