from django.contrib import admin

from .models import CaseType, Category


@admin.register(CaseType)
class CaseTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "workflow", "sign_limit", "sign_limit_unit", "finish_limit_days", "max_extensions", "active")
    list_editable = ("sign_limit", "finish_limit_days", "max_extensions", "active")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("full_name", "level", "default_unit", "active")
    list_filter = ("level", "active")
    list_editable = ("default_unit",)
    search_fields = ("full_name",)
    autocomplete_fields = ("parent",)
