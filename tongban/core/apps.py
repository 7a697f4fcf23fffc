from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tongban.core"
    verbose_name = "组织与人员"
