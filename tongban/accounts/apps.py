from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tongban.accounts"
    verbose_name = "账号安全"

    def ready(self):
        from django.contrib import admin

        from .views import admin_login

        admin.site.login = admin_login  # the admin logs in through the product's login (lock-out, 2FA, audit)
