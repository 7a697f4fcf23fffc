from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "tongban.knowledge"
    verbose_name = "知识库"

    def ready(self):
        from . import signals  # noqa: F401
