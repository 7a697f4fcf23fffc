from django.apps import AppConfig


class HallConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tongban.hall"
    verbose_name = "政务服务大厅办件"

    def ready(self):
        from . import workflow  # noqa: F401  registers the 办件 and 整改 workflows
