"""Writes of the knowledge base: categories, articles and their revisions, votes, the ledger."""

import difflib
import re
from datetime import datetime

import markdown
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from kb import search as search_index
from kb.models import (
    Article,
    ArticleRevision,
    ArticleState,
    Category,
    KbFile,
    Visibility,
)
from kb.selectors import can_edit
from tisket.audit import Action, audit_record
from tisket.errors import ConflictError, NotAllowedError, TisketError
from tisket.lib.html import html_to_text, sanitize_article_html
from tisket.models import Membership, Organization, Role

MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_BODY_LENGTH = 200_000


class KbError(TisketError):
    """Bad input for the knowledge base; the message says what to change."""


def check_editor(actor: Membership | None) -> None:
    if actor is not None and not can_edit(membership=actor):
        raise NotAllowedError("Only knowledge-base editors may change articles and categories.")


def files_prefix(organization: Organization) -> str:
    return reverse("kb:file", kwargs={"org_slug": organization.slug, "pk": 0, "name": "x"}).split(
        "0/x"
    )[0]


def render_body(*, organization: Organization, body: str) -> str:
    """An article's Markdown as sanitized HTML; raw HTML in the source is shown as text."""
    source = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = markdown.markdown(source, extensions=["sane_lists", "tables", "fenced_code"])
    return sanitize_article_html(html, local_prefix=files_prefix(organization))


def excerpt_from(html: str, *, limit: int = 240) -> str:
    text = " ".join(html_to_text(html).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _clean_tags(tags: list[str] | None) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise KbError("Tags are a list of words.")
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(tag.split()).lower()[:MAX_TAG_LENGTH]
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise KbError(f"At most {MAX_TAGS} tags.")
    return cleaned


def _check_visibility(visibility: str, min_role: str) -> None:
    if visibility not in Visibility.values:
        raise KbError(f"Visibility is one of {', '.join(Visibility.values)}.")
    if min_role not in Role.values:
        raise KbError(f"The minimum role is one of {', '.join(Role.values)}.")


def _unique_slug(model, organization: Organization, wanted: str, *, exclude_pk=None) -> str:
    base = slugify(wanted)[: model._meta.get_field("slug").max_length - 6] or "item"
    slug, n = base, 2
    taken = model.objects.filter(organization=organization)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_slug(model, organization: Organization, slug: str, *, exclude_pk=None) -> str:
    clean = slugify(slug)
    if not clean or clean != slug.lower():
        raise KbError("A slug is lowercase letters, digits and hyphens.")
    taken = model.objects.filter(organization=organization, slug=clean)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ConflictError(f"The slug '{clean}' is taken.")
    return clean


# --- Categories ---------------------------------------------------------------------------------


def _check_parent(organization: Organization, parent: Category | None, category=None) -> None:
    if parent is None:
        return
    if parent.organization_id != organization.pk:
        raise KbError("No such parent category.")
    if parent.parent_id is not None:
        raise KbError("Sections go one level deep: the parent must be a top category.")
    if category is not None and (parent.pk == category.pk or category.sections.exists()):
        raise KbError("A category with sections cannot become a section.")


def category_create(
    *,
    organization: Organization,
    actor: Membership | None,
    name: str,
    slug: str = "",
    description: str = "",
    parent: Category | None = None,
    visibility: str = Visibility.PUBLIC,
    min_role: str = Role.VIEWER,
    position: int | None = None,
) -> Category:
    """Add a category (or a section of one)."""
    check_editor(actor)
    name = " ".join(name.split())
    if not name:
        raise KbError("A category needs a name.")
    _check_visibility(visibility, min_role)
    _check_parent(organization, parent)
    slug = (
        _check_slug(Category, organization, slug)
        if slug
        else _unique_slug(Category, organization, name)
    )
    if position is None:
        position = Category.objects.filter(organization=organization, parent=parent).count()
    return Category.objects.create(
        organization=organization,
        name=name[:120],
        slug=slug,
        description=description[:300],
        parent=parent,
        visibility=visibility,
        min_role=min_role,
        position=position,
    )


def category_update(*, category: Category, actor: Membership | None, **fields) -> Category:
    """Change a category's name, slug, description, parent, visibility or position."""
    check_editor(actor)
    if "name" in fields:
        fields["name"] = " ".join(fields["name"].split())[:120]
        if not fields["name"]:
            raise KbError("A category needs a name.")
    if "slug" in fields:
        fields["slug"] = _check_slug(
            Category, category.organization, fields["slug"], exclude_pk=category.pk
        )
    if "parent" in fields:
        _check_parent(category.organization, fields["parent"], category)
    _check_visibility(
        fields.get("visibility", category.visibility), fields.get("min_role", category.min_role)
    )
    before = _access(category)
    for name, value in fields.items():
        setattr(category, name, value)
    category.save(update_fields=list(fields))
    _access_audit(category, before, actor)
    return category


def categories_reorder(
    *, organization: Organization, actor: Membership | None, ids: list[int]
) -> None:
    """Put the categories in this order (ids of the organization's categories)."""
    check_editor(actor)
    known = set(Category.objects.filter(organization=organization).values_list("pk", flat=True))
    if not set(ids) <= known or len(set(ids)) != len(ids):
        raise KbError("Name each of the organization's categories once.")
    with transaction.atomic():
        for position, pk in enumerate(ids):
            Category.objects.filter(pk=pk).update(position=position)


def category_delete(*, category: Category, actor: Membership | None) -> None:
    """Delete an empty category."""
    check_editor(actor)
    if category.articles.exists() or category.sections.exists():
        raise ConflictError("Move its articles and sections out before deleting a category.")
    category.delete()


# --- Articles -----------------------------------------------------------------------------------

_ARTICLE_FIELDS = (
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


def _check_article_fields(organization: Organization, fields: dict, article=None) -> dict:
    if "title" in fields:
        fields["title"] = " ".join(fields["title"].split())[:200]
        if not fields["title"]:
            raise KbError("An article needs a title.")
    if "body" in fields and len(fields["body"]) > MAX_BODY_LENGTH:
        raise KbError(f"An article's body is at most {MAX_BODY_LENGTH} characters.")
    if "tags" in fields:
        fields["tags"] = _clean_tags(fields["tags"])
    if "excerpt" in fields:
        fields["excerpt"] = " ".join((fields["excerpt"] or "").split())[:300]
    if "locale" in fields:
        locale = (fields["locale"] or "en").strip()
        if not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?", locale):
            raise KbError("A locale looks like 'en' or 'pt-BR'.")
        fields["locale"] = locale
    category = fields.get("category")
    if category is not None and category.organization_id != organization.pk:
        raise KbError("No such category.")
    original = fields.get("translation_of")
    if original is not None:
        if original.organization_id != organization.pk:
            raise KbError("No such article to translate.")
        original = (
            Article.objects.get(pk=original.translation_of_id)
            if original.translation_of_id
            else original
        )
        if article is not None and original.pk == article.pk:
            raise KbError("An article is not a translation of itself.")
        fields["translation_of"] = original
    if fields.get("slug"):
        fields["slug"] = _check_slug(
            Article, organization, fields["slug"], exclude_pk=article.pk if article else None
        )
    visibility = fields.get("visibility", article.visibility if article else Visibility.PUBLIC)
    min_role = fields.get("min_role", article.min_role if article else Role.VIEWER)
    _check_visibility(visibility, min_role)
    return fields


def _revision_add(article: Article, actor: Membership | None, note: str = "") -> ArticleRevision:
    # The counter is taken under the row's lock, so two saves never share a number.
    Article.objects.filter(pk=article.pk).update(revision_count=F("revision_count") + 1)
    article.refresh_from_db(fields=["revision_count"])
    return ArticleRevision.objects.create(
        article=article,
        number=article.revision_count,
        title=article.title,
        body=article.body,
        excerpt=article.excerpt,
        tags=article.tags,
        category_id_at=article.category_id,
        state=article.state,
        visibility=article.visibility,
        min_role=article.min_role,
        author=actor if actor is not None and not getattr(actor, "_acting", False) else None,
        note=note[:200],
    )


def _rendered(article: Article) -> None:
    article.body_html = render_body(organization=article.organization, body=article.body)
    if not article.excerpt:
        article.excerpt = excerpt_from(article.body_html)


def article_create(
    *,
    organization: Organization,
    actor: Membership | None,
    title: str,
    body: str = "",
    slug: str = "",
    excerpt: str = "",
    tags: list[str] | None = None,
    category: Category | None = None,
    locale: str = "en",
    translation_of: Article | None = None,
    visibility: str = Visibility.PUBLIC,
    min_role: str = Role.VIEWER,
    position: int = 0,
    publish: bool = False,
    publish_at: datetime | None = None,
) -> Article:
    """Write a new article: a draft, or published now or at `publish_at`."""
    check_editor(actor)
    fields = _check_article_fields(
        organization,
        {
            "title": title,
            "body": body,
            "slug": slug,
            "excerpt": excerpt,
            "tags": tags or [],
            "category": category,
            "locale": locale,
            "translation_of": translation_of,
            "visibility": visibility,
            "min_role": min_role,
            "position": position,
        },
    )
    if not fields["slug"]:
        fields["slug"] = _unique_slug(Article, organization, fields["title"])
    with transaction.atomic():
        article = Article(organization=organization, **fields)
        if publish or publish_at:
            article.state = ArticleState.PUBLISHED
            article.published_at = publish_at or timezone.now()
        _rendered(article)
        article.save()
        _revision_add(article, actor, note="created")
        _after_save(article)
    return article


def article_update(
    *, article: Article, actor: Membership | None, note: str = "", **fields
) -> Article:
    """Change an article; every save is a new revision."""
    check_editor(actor)
    unknown = set(fields) - set(_ARTICLE_FIELDS)
    if unknown:
        raise TypeError(f"article_update() got unknown fields {sorted(unknown)}")
    fields = _check_article_fields(article.organization, fields, article)
    if "slug" in fields and not fields["slug"]:
        del fields["slug"]
    with transaction.atomic():
        before = _access(article)
        for name, value in fields.items():
            setattr(article, name, value)
        if "body" in fields or "excerpt" in fields:
            if "excerpt" not in fields:
                article.excerpt = ""
            _rendered(article)
        article.updated_at = timezone.now()
        article.save()
        _revision_add(article, actor, note=note)
        _after_save(article)
        _access_audit(article, before, actor)
    return article


def _access(item: Article | Category) -> dict[str, str]:
    return {"visibility": item.visibility, "min_role": item.min_role}


def _access_audit(item: Article | Category, before: dict[str, str], actor) -> None:
    """Who may read an article or a category is a permission: its changes are audited."""
    after = _access(item)
    if after != before:
        audit_record(
            organization=item.organization_id,
            action=Action.KB_ACCESS_CHANGED,
            actor=actor,
            target=item,
            data={"from": before, "to": after},
        )


def article_publish(
    *, article: Article, actor: Membership | None, at: datetime | None = None
) -> Article:
    """Publish now, or schedule for `at`."""
    check_editor(actor)
    with transaction.atomic():
        article.state = ArticleState.PUBLISHED
        article.published_at = at or timezone.now()
        article.updated_at = timezone.now()
        article.save(update_fields=["state", "published_at", "updated_at"])
        _revision_add(article, actor, note="scheduled" if at else "published")
        _after_save(article)
    return article


def article_unpublish(*, article: Article, actor: Membership | None, archive: bool) -> Article:
    """Back to draft, or archived (kept, never shown)."""
    check_editor(actor)
    with transaction.atomic():
        article.state = ArticleState.ARCHIVED if archive else ArticleState.DRAFT
        article.updated_at = timezone.now()
        article.save(update_fields=["state", "updated_at"])
        _revision_add(article, actor, note="archived" if archive else "unpublished")
    return article


def article_restore(
    *, article: Article, revision: ArticleRevision, actor: Membership | None
) -> Article:
    """Make an earlier revision current again (as a new revision)."""
    if revision.article_id != article.pk:
        raise KbError("That revision belongs to another article.")
    category = None
    if revision.category_id_at:
        category = Category.objects.filter(
            organization=article.organization, pk=revision.category_id_at
        ).first()
    return article_update(
        article=article,
        actor=actor,
        note=f"restored revision {revision.number}",
        title=revision.title,
        body=revision.body,
        excerpt=revision.excerpt,
        tags=revision.tags,
        category=category,
        visibility=revision.visibility,
        min_role=revision.min_role,
    )


def article_delete(*, article: Article, actor: Membership | None) -> None:
    check_editor(actor)
    article.delete()


def revision_diff(*, old: ArticleRevision | None, new: ArticleRevision) -> str:
    """A unified diff of two revisions' title, tags and body."""

    def lines(revision: ArticleRevision | None) -> list[str]:
        if revision is None:
            return []
        head = [f"# {revision.title}", f"tags: {', '.join(revision.tags or [])}", ""]
        return head + revision.body.splitlines()

    return "\n".join(
        difflib.unified_diff(
            lines(old),
            lines(new),
            fromfile=f"revision {old.number}" if old else "nothing",
            tofile=f"revision {new.number}",
            lineterm="",
        )
    )


def _after_save(article: Article) -> None:
    """Keep the search index in step: full text now, the embedding after commit."""
    search_index.article_index_text(article=article)
    _link_files(article)
    if (
        article.state == ArticleState.PUBLISHED
        and article.embedded_revision != article.revision_count
    ):
        from kb.tasks import index_article_embed

        pk = article.pk
        transaction.on_commit(lambda: _enqueue_embed(index_article_embed, pk))


def _link_files(article: Article) -> None:
    """Files the body shows belong to the article: readers of it may fetch them."""
    pattern = re.escape(files_prefix(article.organization)) + r"(\d+)/"
    ids = {int(m.group(1)) for m in re.finditer(pattern, article.body_html)}
    if ids:
        KbFile.objects.filter(
            organization=article.organization, pk__in=ids, article__isnull=True
        ).update(article=article)


def _enqueue_embed(task, pk: int) -> None:
    try:
        task.delay(pk)
    except Exception:  # the broker is down: the sweep embeds what is stale
        import logging

        logging.getLogger(__name__).warning("kb: embedding of article %s left to the sweep", pk)
