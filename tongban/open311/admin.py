from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from .models import LIST_TYPES, ApiClient, Attribute, AttributeValue, ClientUpdate, Service, Submission


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Adding a client issues its api_key, shown once in the message; “重新签发” replaces it."""

    list_display = ["name", "prefix", "contact", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix", "contact"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "contact", "active", "prefix", "created_at", "last_used_at"]
    actions = ["reissue", "deactivate"]

    def save_model(self, request, obj, form, change):
        key = None if change else obj.set_key()
        super().save_model(request, obj, form, change)
        if key:
            messages.warning(request, f"“{obj.name}”的 api_key：{key}　（只显示这一次，请立即转交对方妥善保存）")

    @admin.action(description="重新签发所选应用的 api_key（旧密钥立即失效）")
    def reissue(self, request, queryset):
        for client in queryset:
            key = client.set_key()
            client.save(update_fields=["key_hash", "prefix"])
            messages.warning(request, f"“{client.name}”的新 api_key：{key}　（只显示这一次）")

    @admin.action(description="停用所选应用")
    def deactivate(self, request, queryset):
        n = queryset.update(active=False)
        self.message_user(request, f"已停用 {n} 个应用。", messages.SUCCESS)


class AttributeInline(admin.TabularInline):
    model = Attribute
    extra = 0
    fields = ["order", "code", "description", "datatype", "required", "variable", "datatype_description"]
    show_change_link = True


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["category", "location_required", "case_type", "active"]
    list_filter = ["active", "location_required"]
    search_fields = ["category__full_name", "keywords"]
    autocomplete_fields = ["category"]
    inlines = [AttributeInline]


class ValueFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if self.instance.datatype in LIST_TYPES and not kept:
            raise ValidationError("单选、多选属性至少需要一个选项。")


class ValueInline(admin.TabularInline):
    model = AttributeValue
    formset = ValueFormSet
    extra = 1
    fields = ["order", "key", "name"]


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["service", "order", "code", "description", "datatype", "required"]
    list_filter = ["datatype", "required"]
    search_fields = ["code", "description", "service__category__full_name"]
    list_select_related = ["service__category"]
    inlines = [ValueInline]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["case", "client", "token", "created_at"]
    list_filter = ["client"]
    search_fields = ["case__number", "token"]
    list_select_related = ["case", "client"]
    readonly_fields = [f.name for f in Submission._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ClientUpdate)
class ClientUpdateAdmin(admin.ModelAdmin):
    list_display = ["case", "client", "status", "external_id", "received_at"]
    list_filter = ["client", "status"]
    search_fields = ["case__number", "external_id"]
    list_select_related = ["case", "client"]
    readonly_fields = [f.name for f in ClientUpdate._meta.fields]

    def has_add_permission(self, request):
        return False
