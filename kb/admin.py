"""Django admin for the knowledge base. Article saves go through the services, so an
admin save is a revision too, and the search index follows."""

from django.contrib import admin
from django.http import HttpRequest

from kb import services
from kb.models import (
    Article,
    ArticleRevision,
    Category,
    EditorGrant,
    Feedback,
    HelpCentre,
    KbFile,
    LedgerEntry,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "parent", "visibility", "position"]
    list_filter = ["organization", "visibility"]
    search_fields = ["name", "slug", "organization__slug"]
    raw_id_fields = ["parent"]


class RevisionInline(admin.TabularInline):
    model = ArticleRevision
    extra = 0
    can_delete = False
    fields = ["number", "title", "state", "author", "note", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "category", "state", "visibility", "published_at"]
    list_filter = ["organization", "state", "visibility", "locale"]
    search_fields = ["title", "slug", "organization__slug"]
    raw_id_fields = ["category", "translation_of"]
    readonly_fields = ["revision_count", "view_count", "helpful_yes", "helpful_no", "updated_at"]
    inlines = [RevisionInline]

    def save_model(self, request: HttpRequest, obj: Article, form, change: bool) -> None:
        fields = {
            name: form.cleaned_data[name]
            for name in (
                "title",
                "slug",
                "body",
                "excerpt",
                "tags",
                "category",
                "locale",
                "translation_of",
                "visibility",
                "min_role",
                "position",
            )
            if name in form.cleaned_data
        }
        if not change:
            saved = services.article_create(organization=obj.organization, actor=None, **fields)
        else:
            current = Article.objects.get(pk=obj.pk)
            saved = services.article_update(article=current, actor=None, note="admin", **fields)
        state, published_at = form.cleaned_data.get("state"), form.cleaned_data.get("published_at")
        if state == "published" and (
            saved.state != "published" or published_at != saved.published_at
        ):
            saved = services.article_publish(article=saved, actor=None, at=published_at)
        elif state in ("draft", "archived") and saved.state != state:
            saved = services.article_unpublish(
                article=saved, actor=None, archive=state == "archived"
            )
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(HelpCentre)
class HelpCentreAdmin(admin.ModelAdmin):
    list_display = ["organization", "title", "colour", "suggest_in_acknowledgements"]
    raw_id_fields = ["logo"]


@admin.register(EditorGrant)
class EditorGrantAdmin(admin.ModelAdmin):
    list_display = ["membership", "created_at"]
    raw_id_fields = ["membership"]


@admin.register(KbFile)
class KbFileAdmin(admin.ModelAdmin):
    list_display = ["filename", "organization", "article", "content_type", "size", "created_at"]
    list_filter = ["organization"]
    raw_id_fields = ["article", "uploaded_by"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["article", "helpful", "reason", "created_at"]
    list_filter = ["helpful"]
    raw_id_fields = ["article"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["kind", "place", "article", "conversation_id", "query", "created_at"]
    list_filter = ["organization", "kind", "place"]
    raw_id_fields = ["article"]
