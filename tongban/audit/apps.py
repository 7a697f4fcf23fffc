from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tongban.audit"
    verbose_name = "安全审计"

    def ready(self):
        from . import receivers  # noqa: F401
