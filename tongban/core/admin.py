from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Region, Unit, User


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "region", "parent", "sees_subunits", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "short_name")
    autocomplete_fields = ("region", "parent")


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "display_name", "unit", "roles", "is_active", "last_login")
    list_filter = ("is_active", "unit__kind")
    search_fields = ("username", "display_name", "unit__name")
    autocomplete_fields = ("unit",)
    fieldsets = UserAdmin.fieldsets + (("岗位", {"fields": ("display_name", "unit", "roles", "phone")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("岗位", {"fields": ("display_name", "unit", "roles")}),)
