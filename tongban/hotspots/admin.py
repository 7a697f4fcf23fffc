from django.contrib import admin

from .models import Hotspot, Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("as_of", "window_days", "case_count", "cluster_count", "alert_count", "seconds")


@admin.register(Hotspot)
class HotspotAdmin(admin.ModelAdmin):
    list_display = ("label", "place", "count", "prev_count", "recent_count", "alert", "run")
    list_filter = ("alert",)
    raw_id_fields = ("run", "region", "town", "category", "top_category")
