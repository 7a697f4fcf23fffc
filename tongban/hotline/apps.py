from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "tongban.hotline"
    verbose_name = "接诉即办"

    def ready(self):
        from . import workflow  # noqa: F401  registers the workflow
