from django.contrib import admin, messages
from django.db.models.functions import ExtractYear

from . import services
from .models import CalendarOverride, OfficeHours

WEEKDAYS = "一二三四五六日"


class YearFilter(admin.SimpleListFilter):
    title = "年份"
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = (
            CalendarOverride.objects.annotate(y=ExtractYear("date"))
            .values_list("y", flat=True).distinct().order_by("-y")
        )
        return [(str(y), f"{y} 年") for y in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "reason", "updated_at"]
    list_filter = [YearFilter, "is_workday"]
    ordering = ["date"]
    search_fields = ["reason"]
    date_hierarchy = "date"

    @admin.display(description="星期")
    def weekday(self, obj):
        return "星期" + WEEKDAYS[obj.date.weekday()]

    @admin.display(description="上班/放假", ordering="is_workday")
    def kind(self, obj):
        return "上班" if obj.is_workday else "放假"

    def changelist_view(self, request, extra_context=None):
        for warning in services.schedule_warnings():
            messages.warning(request, warning)
        return super().changelist_view(request, extra_context)


@admin.register(OfficeHours)
class OfficeHoursAdmin(admin.ModelAdmin):
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request):
        return not OfficeHours.objects.exists() and super().has_add_permission(request)
