from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "tongban.dispatch"
    verbose_name = "智能派单"

    def ready(self):
        from . import labels  # noqa: F401  (connects the label receiver)
