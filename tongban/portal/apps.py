from django.apps import AppConfig


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tongban.portal"
    verbose_name = "群众诉求门户与数字政务门牌"
