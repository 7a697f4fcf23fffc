from django.contrib import admin

from .models import Article, ArticleVersion, Synonym


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ("__str__", "terms", "active")
    list_editable = ("terms", "active")
    list_display_links = ("__str__",)
    search_fields = ("terms",)


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = ("number", "action", "by", "at", "changed")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "owner", "category", "review_due", "uses", "direct_answers")
    list_filter = ("status", "owner")
    search_fields = ("title", "keywords")
    readonly_fields = ("uses", "direct_answers", "created_by", "created_at", "updated_at")
    inlines = [VersionInline]
