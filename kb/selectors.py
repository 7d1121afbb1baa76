"""Reads of the knowledge base. Every page, API call, search and suggestion comes through here.

An `Audience` says who is reading: nobody in particular (public), a client of the
organization, or a member with a role. An article is readable when it is live (published,
its time come), its own visibility admits the audience, and so do its category and that
category's parent.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from kb.models import (
    Article,
    ArticleRevision,
    ArticleState,
    Category,
    EditorGrant,
    HelpCentre,
    KbFile,
    Visibility,
)
from tisket.models import Membership, Organization, Role, role_at_least


@dataclass(frozen=True)
class Audience:
    organization: Organization
    role: str | None = None  # a member's role; None for anyone else
    client: bool = False  # holds a valid client link of this organization

    @classmethod
    def public(cls, organization: Organization) -> "Audience":
        return cls(organization=organization)

    @classmethod
    def for_client(cls, organization: Organization) -> "Audience":
        return cls(organization=organization, client=True)

    @classmethod
    def for_member(cls, membership: Membership) -> "Audience":
        return cls(organization=membership.organization, role=membership.role)

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def is_public(self) -> bool:
        return self.role is None and not self.client


def visibility_filter(audience: Audience, prefix: str = "") -> Q:
    """The rows (articles or categories, through `prefix`) this audience may read."""
    allowed = [Visibility.PUBLIC]
    if audience.client or audience.is_member:
        allowed.append(Visibility.CLIENTS)
    if audience.is_member:
        allowed.append(Visibility.MEMBERS)
    q = Q(**{f"{prefix}visibility__in": allowed})
    if audience.is_member:
        roles = [role for role in Role if role_at_least(audience.role, role)]
        q |= Q(**{f"{prefix}visibility": Visibility.ROLE, f"{prefix}min_role__in": roles})
    return q


def _category_filter(audience: Audience, prefix: str = "") -> Q:
    return visibility_filter(audience, prefix) & (
        Q(**{f"{prefix}parent__isnull": True}) | visibility_filter(audience, f"{prefix}parent__")
    )


def live_filter(prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}state": ArticleState.PUBLISHED,
            f"{prefix}published_at__lte": timezone.now(),
        }
    )


def can_edit(*, membership: Membership | None) -> bool:
    """KB editors: admins and owners always, other members when granted."""
    if membership is None:
        return False
    if membership.has_role(Role.ADMIN):
        return True
    return EditorGrant.objects.filter(membership_id=membership.pk).exists()


def help_centre_logo_path(*, organization: Organization, centre: HelpCentre) -> str:
    """The path of the help centre's logo, public like its pages ("" when it has none):
    the one picture of the organization, on its client pages and in its mail."""
    if centre.logo_id is None:
        return ""
    return reverse("kb:file", args=[organization.slug, centre.logo_id, centre.logo.filename])


def help_centre_for(*, organization: Organization) -> HelpCentre:
    """The organization's help centre settings (unsaved defaults when never set)."""
    try:
        return HelpCentre.objects.select_related("logo").get(organization=organization)
    except HelpCentre.DoesNotExist:
        return HelpCentre(organization=organization)


def categories_visible(*, audience: Audience) -> QuerySet[Category]:
    return Category.objects.filter(organization=audience.organization).filter(
        _category_filter(audience)
    )


def categories_with_counts(*, audience: Audience) -> QuerySet[Category]:
    """Visible categories with the number of live articles this audience may read in each."""
    readable = live_filter("articles__") & visibility_filter(audience, "articles__")
    return categories_visible(audience=audience).annotate(
        article_total=Count("articles", filter=readable)
    )


def category_get(*, audience: Audience, slug: str) -> Category:
    try:
        return categories_visible(audience=audience).select_related("parent").get(slug=slug)
    except Category.DoesNotExist:
        raise Http404("No such category.") from None


def category_get_by_id(*, audience: Audience, pk: int) -> Category:
    try:
        return categories_visible(audience=audience).select_related("parent").get(pk=pk)
    except (Category.DoesNotExist, ValueError, TypeError):
        raise Http404("No such category.") from None


def articles_visible(*, audience: Audience, include_unpublished: bool = False) -> QuerySet[Article]:
    """Articles this audience may read; with include_unpublished, drafts too (for editors)."""
    articles = Article.objects.filter(organization=audience.organization)
    if not include_unpublished:
        articles = articles.filter(live_filter())
    return articles.filter(visibility_filter(audience)).filter(
        Q(category__isnull=True) | _category_filter(audience, "category__")
    )


def article_get(*, audience: Audience, slug: str, include_unpublished: bool = False) -> Article:
    try:
        return (
            articles_visible(audience=audience, include_unpublished=include_unpublished)
            .select_related("category__parent")
            .get(slug=slug)
        )
    except Article.DoesNotExist:
        raise Http404("No such article.") from None


def article_get_by_id(*, audience: Audience, pk: int, include_unpublished: bool = False) -> Article:
    try:
        return (
            articles_visible(audience=audience, include_unpublished=include_unpublished)
            .select_related("category__parent")
            .get(pk=pk)
        )
    except (Article.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such article.") from None


def articles_in_category(*, audience: Audience, category: Category) -> QuerySet[Article]:
    return articles_visible(audience=audience).filter(category=category)


def articles_related(*, audience: Audience, article: Article, limit: int = 5) -> list[Article]:
    """Readable articles sharing the category or a tag, most shared tags first."""
    candidates = articles_visible(audience=audience).exclude(pk=article.pk)
    near = Q(category_id=article.category_id) if article.category_id else Q(pk__in=[])
    pool = list(candidates.filter(near | Q(locale=article.locale))[:200])
    tags = set(article.tags or [])

    def closeness(other: Article) -> tuple:
        shared = len(tags & set(other.tags or []))
        return (-shared, other.category_id != article.category_id, other.position, other.title)

    pool = [a for a in pool if a.category_id == article.category_id or tags & set(a.tags or [])]
    return sorted(pool, key=closeness)[:limit]


def article_translations(*, audience: Audience, article: Article) -> list[Article]:
    """Readable translations of the article, and its original, in other locales."""
    root = article.translation_of_id or article.pk
    return list(
        articles_visible(audience=audience)
        .filter(Q(pk=root) | Q(translation_of_id=root))
        .exclude(pk=article.pk)
        .only("id", "slug", "title", "locale")
        .order_by("locale")
    )


def article_revisions(*, article: Article) -> QuerySet[ArticleRevision]:
    return article.revisions.select_related("author__user")


def article_revision_get(*, article: Article, number: int) -> ArticleRevision:
    try:
        return article.revisions.select_related("author__user").get(number=number)
    except (ArticleRevision.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such revision.") from None


def kb_file_get(*, audience: Audience, pk: int) -> KbFile:
    """A file of an article this audience may read (or the help centre's logo)."""
    files = KbFile.objects.filter(organization=audience.organization)
    readable = Q(article__in=articles_visible(audience=audience))
    readable |= Q(pk__in=HelpCentre.objects.filter(logo__isnull=False).values("logo_id"))
    try:
        return files.filter(readable).get(pk=pk)
    except (KbFile.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such file.") from None


def kb_file_get_for_editor(*, organization: Organization, pk: int) -> KbFile:
    try:
        return KbFile.objects.get(organization=organization, pk=pk)
    except (KbFile.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such file.") from None
