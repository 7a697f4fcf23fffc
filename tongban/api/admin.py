from django.contrib import admin, messages

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued through POST /api/v1/auth/token; here they are listed and revoked."""

    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "expires_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["prefix", "name", "user__username", "user__display_name"]
    readonly_fields = ["user", "prefix", "key_hash", "created_at", "last_used_at"]
    fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at", "expires_at", "revoked"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset):
        n = queryset.filter(revoked=False).update(revoked=True)
        ApiToken.forget_recent()
        self.message_user(request, f"已吊销 {n} 个令牌。", messages.SUCCESS)
