from django import forms
from django.contrib import admin

from .models import Channel, FormField, Material, Package, PackageItem, ServiceItem


class ServiceItemForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(label="办理渠道", choices=Channel.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ServiceItem
        fields = "__all__"


class MaterialInline(admin.TabularInline):
    model = Material
    fields = ("order", "key", "name", "originals", "copies", "required", "deferrable", "licence_kind", "source", "note", "application_form")
    extra = 0


class FormFieldInline(admin.TabularInline):
    model = FormField
    fields = ("order", "key", "label", "kind", "required", "choices")
    extra = 0


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemForm
    list_display = ("code", "name", "item_type", "unit", "legal_days", "promised_days", "visits", "negative_list", "active")
    list_filter = ("item_type", "unit", "negative_list", "cross_province", "all_region", "active")
    search_fields = ("code", "name")
    inlines = [MaterialInline, FormFieldInline]


class PackageItemInline(admin.TabularInline):
    model = PackageItem
    fields = ("order", "item")
    autocomplete_fields = ("item",)
    extra = 0


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "promised_days", "visits", "window", "active")
    search_fields = ("code", "name")
    inlines = [PackageItemInline]
