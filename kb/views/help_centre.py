"""The public help centre at /hc/<org>/: home, categories, articles, search, votes, sitemap.

Who reads is decided once per request (`_audience`): a signed-in member of the
organization reads as their role, a client who came through one of our signed links as
a client, anyone else as the public. Every lookup goes through kb.selectors with it.
"""

from django.db.models import Prefetch
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from kb import centre, ledger, search, selectors
from kb.deflection import client_pass_read, portal_suggestion_opened
from kb.models import Article, Category, LedgerKind, LedgerPlace, Visibility
from kb.selectors import Audience
from tisket.models import Membership, Organization

CLIENT_SESSION_KEY = "kb_client_orgs"


def _audience(request: HttpRequest, organization: Organization) -> Audience:
    if request.user.is_authenticated:
        membership = (
            Membership.objects.filter(user=request.user, organization=organization)
            .select_related("organization")
            .first()
        )
        if membership is not None:
            request.membership = membership
            return Audience.for_member(membership)
    token = request.GET.get("pass")
    if token and client_pass_read(token=token) == organization.pk:
        orgs = set(request.session.get(CLIENT_SESSION_KEY, []))
        if organization.pk not in orgs:
            request.session[CLIENT_SESSION_KEY] = sorted(orgs | {organization.pk})
    if organization.pk in request.session.get(CLIENT_SESSION_KEY, []):
        return Audience.for_client(organization)
    return Audience.public(organization)


def _context(request: HttpRequest, org_slug: str) -> tuple[Audience, dict]:
    organization = get_object_or_404(Organization, slug=org_slug)
    audience = _audience(request, organization)
    branding = selectors.help_centre_for(organization=organization)
    return audience, {
        "organization": organization,
        "centre": branding,
        "centre_title": str(branding),
        "audience": audience,
        "can_edit": selectors.can_edit(membership=getattr(request, "membership", None)),
    }


def _tree(audience: Audience) -> list[Category]:
    """Top categories with their visible sections and counts, in order."""
    categories = list(selectors.categories_with_counts(audience=audience))
    tops = [c for c in categories if c.parent_id is None]
    for top in tops:
        top.visible_sections = [c for c in categories if c.parent_id == top.pk]
        top.total = top.article_total + sum(s.article_total for s in top.visible_sections)
    return [top for top in tops if top.total]


@require_GET
def home(request: HttpRequest, org_slug: str) -> HttpResponse:
    audience, context = _context(request, org_slug)
    popular = selectors.articles_visible(audience=audience).order_by("-view_count", "title")[:6]
    context.update(categories=_tree(audience), popular=popular)
    return render(request, "kb/home.html", context)


@require_GET
def category(request: HttpRequest, org_slug: str, category: str) -> HttpResponse:
    audience, context = _context(request, org_slug)
    found = selectors.category_get(audience=audience, slug=category)
    sections = list(
        selectors.categories_visible(audience=audience)
        .filter(parent=found)
        .prefetch_related(
            Prefetch(
                "articles",
                queryset=selectors.articles_visible(audience=audience),
                to_attr="visible_articles",
            )
        )
    )
    articles = selectors.articles_in_category(audience=audience, category=found)
    context.update(category=found, sections=sections, articles=articles)
    return render(request, "kb/category.html", context)


@require_GET
def article(request: HttpRequest, org_slug: str, article: str) -> HttpResponse:
    audience, context = _context(request, org_slug)
    found = selectors.article_get(audience=audience, slug=article)
    ledger.ledger_record(
        organization=audience.organization,
        kind=LedgerKind.VIEW,
        place=LedgerPlace.HELP_CENTRE,
        articles=[found],
    )
    if request.GET.get("from") == "portal" and found.visibility == Visibility.PUBLIC:
        # Opened from the suggestions of the portal's new-request form.
        portal_suggestion_opened(organization=audience.organization, article=found)
    context.update(
        article=found,
        related=selectors.articles_related(audience=audience, article=found),
        translations=selectors.article_translations(audience=audience, article=found),
        voted=request.session.get("kb_voted", {}).get(str(found.pk)),
    )
    return render(request, "kb/article.html", context)


@require_POST
def feedback(request: HttpRequest, org_slug: str, article: str) -> HttpResponse:
    """ "Was this helpful?": one answer per article and browser session."""
    audience, context = _context(request, org_slug)
    found = selectors.article_get(audience=audience, slug=article)
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        return HttpResponse("Answer yes or no.", status=400)
    voted = request.session.get("kb_voted", {})
    if str(found.pk) not in voted:
        ledger.feedback_record(
            article=found, helpful=answer == "yes", reason=request.POST.get("reason", "")
        )
        voted[str(found.pk)] = answer
        request.session["kb_voted"] = voted
    context.update(article=found, voted=voted[str(found.pk)])
    if request.htmx:
        return render(request, "kb/_feedback.html", context)
    return redirect("kb:article", org_slug=org_slug, article=found.slug)


@require_GET
def search_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Results for the query; as you type (htmx) only the result list."""
    audience, context = _context(request, org_slug)
    query = request.GET.get("q", "")[: search.MAX_QUERY_CHARS]
    typing = bool(request.htmx)
    hits = search.search(audience=audience, query=query, limit=8 if typing else 20, prefix=typing)
    if query.strip() and not typing:
        ledger.ledger_record(
            organization=audience.organization,
            kind=LedgerKind.SEARCH,
            place=LedgerPlace.HELP_CENTRE,
            query=query,
            results=len(hits),
        )
    context.update(query=query, hits=hits)
    if typing:
        return render(request, "kb/_search_results.html", context)
    return render(request, "kb/search.html", context)


@require_GET
def kb_file(request: HttpRequest, org_slug: str, pk: int, name: str) -> HttpResponse:
    """An article's image or file; only for those who may read the article."""
    audience, context = _context(request, org_slug)
    if context["can_edit"]:
        found = selectors.kb_file_get_for_editor(organization=audience.organization, pk=pk)
    else:
        found = selectors.kb_file_get(audience=audience, pk=pk)
    inline = found.content_type in centre.IMAGE_TYPES
    response = FileResponse(
        found.file.open("rb"),
        content_type=found.content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=found.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=3600" if audience.is_public else "private"
    return response


@require_GET
def brand_css(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The organization's colour as a stylesheet (the pages allow no inline style)."""
    organization = get_object_or_404(Organization, slug=org_slug)
    branding = selectors.help_centre_for(organization=organization)
    colour = branding.colour if centre.COLOUR_RE.match(branding.colour or "") else "#2f6fde"
    response = HttpResponse(f":root {{ --brand: {colour}; }}\n", content_type="text/css")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def sitemap(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Public categories and articles, for search engines."""
    organization = get_object_or_404(Organization, slug=org_slug)
    audience = Audience.public(organization)
    urls = [(reverse("kb:home", kwargs={"org_slug": org_slug}), None)]
    for found in selectors.categories_visible(audience=audience).only("slug"):
        urls.append((reverse("kb:category", args=[org_slug, found.slug]), None))
    for found in selectors.articles_visible(audience=audience).only("slug", "updated_at"):
        urls.append((reverse("kb:article", args=[org_slug, found.slug]), found.updated_at))
    return render(
        request,
        "kb/sitemap.xml",
        {"urls": [(request.build_absolute_uri(path), at) for path, at in urls]},
        content_type="application/xml",
    )


def article_url(*, article: Article) -> str:
    return reverse("kb:article", args=[article.organization.slug, article.slug])
