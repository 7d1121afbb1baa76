"""The knowledge-base editor at /<org>/kb/: articles, categories, revisions, the report.

Open to KB editors (admins, and members granted the permission); the help centre shows
what they publish.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kb import centre, reports, selectors, services
from kb.forms import ArticleForm, CategoryForm, HelpCentreForm, PublishForm
from kb.models import Article, Category, EditorGrant
from kb.selectors import Audience
from tisket.errors import TisketError
from tisket.lib.params import id_param
from tisket.models import Role
from tisket.selectors import member_get, members_list
from tisket.views import org_view


def _editor(request: HttpRequest) -> Audience:
    if not selectors.can_edit(membership=request.membership):
        raise PermissionDenied("Only knowledge-base editors may open the editor.")
    return Audience.for_member(request.membership)


def _article(request: HttpRequest, pk: int) -> Article:
    return selectors.article_get_by_id(audience=_editor(request), pk=pk, include_unpublished=True)


@org_view()
def index(request: HttpRequest) -> HttpResponse:
    audience = _editor(request)
    articles = selectors.articles_visible(audience=audience, include_unpublished=True)
    state = request.GET.get("state", "")
    if state in ("draft", "published", "archived"):
        articles = articles.filter(state=state)
    query = request.GET.get("q", "").strip()[:200]
    if query:
        articles = articles.filter(title__icontains=query)
    articles = articles.select_related("category").order_by("-updated_at")[:200]
    return render(
        request,
        "kb/editor/index.html",
        {
            "nav": "kb",
            "tab": "articles",
            "articles": articles,
            "state": state,
            "query": query,
            "now": timezone.now(),
            "help_url": reverse("kb:home", args=[request.organization.slug]),
        },
    )


@org_view()
def categories(request: HttpRequest) -> HttpResponse:
    """The categories in order; POST adds one, or moves one up or down."""
    _editor(request)
    organization = request.organization
    form = CategoryForm(request.POST or None, organization=organization)
    if request.method == "POST":
        try:
            if "move" in request.POST:
                _move(request)
                return redirect("kb:editor-categories", org_slug=organization.slug)
            if form.is_valid():
                services.category_create(
                    organization=organization, actor=request.membership, **form.cleaned_data
                )
                messages.success(request, "Category added.")
                return redirect("kb:editor-categories", org_slug=organization.slug)
        except TisketError as error:
            form.add_error(None, str(error))
    rows = list(Category.objects.filter(organization=organization).order_by("position", "name"))
    tops = [c for c in rows if c.parent_id is None]
    for top in tops:
        top.children = [c for c in rows if c.parent_id == top.pk]
    return render(
        request,
        "kb/editor/categories.html",
        {"nav": "kb", "tab": "categories", "tops": tops, "form": form},
    )


def _move(request: HttpRequest) -> None:
    """Swap a category with its neighbour among its siblings."""
    organization = request.organization
    moved = selectors.category_get_by_id(
        audience=Audience.for_member(request.membership), pk=request.POST.get("move")
    )
    everything = list(
        Category.objects.filter(organization=organization).order_by("position", "name", "pk")
    )
    siblings = [c for c in everything if c.parent_id == moved.parent_id]
    index = next(i for i, c in enumerate(siblings) if c.pk == moved.pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    rest = [c.pk for c in everything if c.parent_id != moved.parent_id]
    services.categories_reorder(
        organization=organization, actor=request.membership, ids=[c.pk for c in siblings] + rest
    )


@org_view()
def category_edit(request: HttpRequest, category: int) -> HttpResponse:
    audience = _editor(request)
    found = selectors.category_get_by_id(audience=audience, pk=category)
    initial = {
        "name": found.name,
        "slug": found.slug,
        "description": found.description,
        "parent": found.parent,
        "visibility": found.visibility,
        "min_role": found.min_role,
    }
    form = CategoryForm(
        request.POST or None, initial=initial, organization=request.organization, exclude=found
    )
    if request.method == "POST":
        try:
            if "delete" in request.POST:
                services.category_delete(category=found, actor=request.membership)
                messages.success(request, "Category deleted.")
                return redirect("kb:editor-categories", org_slug=request.organization.slug)
            if form.is_valid():
                fields = dict(form.cleaned_data)
                if not fields["slug"]:
                    fields.pop("slug")
                services.category_update(category=found, actor=request.membership, **fields)
                messages.success(request, "Category saved.")
                return redirect("kb:editor-categories", org_slug=request.organization.slug)
        except TisketError as error:
            form.add_error(None, str(error))
    return render(
        request,
        "kb/editor/category_form.html",
        {"nav": "kb", "tab": "categories", "form": form, "category": found},
    )


@org_view()
def article_edit(request: HttpRequest, article: int | None = None) -> HttpResponse:
    """Write or change an article; the buttons also publish, schedule, unpublish, archive."""
    _editor(request)
    found = _article(request, article) if article is not None else None
    initial = {"visibility": "public", "min_role": "viewer", "locale": "en"}
    if found is not None:
        initial = {
            "title": found.title,
            "slug": found.slug,
            "category": found.category,
            "tags": ", ".join(found.tags or []),
            "excerpt": found.excerpt,
            "body": found.body,
            "locale": found.locale,
            "translation_of": found.translation_of,
            "visibility": found.visibility,
            "min_role": found.min_role,
        }
    form = ArticleForm(
        request.POST or None, initial=initial, organization=request.organization, article=found
    )
    publish_form = PublishForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if form.is_valid() and publish_form.is_valid():
                found = _article_save(request, found, form.cleaned_data)
                _article_state(request, found, action, publish_form.cleaned_data["publish_at"])
                return redirect(
                    "kb:editor-article", org_slug=request.organization.slug, article=found.pk
                )
        except TisketError as error:
            form.add_error(None, str(error))
    return render(
        request,
        "kb/editor/article_form.html",
        {
            "nav": "kb",
            "tab": "articles",
            "form": form,
            "publish_form": publish_form,
            "article": found,
            "now": timezone.now(),
        },
    )


def _article_save(request: HttpRequest, found: Article | None, data: dict) -> Article:
    note = data.pop("note", "")
    if found is None:
        return services.article_create(
            organization=request.organization, actor=request.membership, **data
        )
    if data.get("excerpt") == found.excerpt:
        data.pop("excerpt")  # unchanged: regenerated from the body when it was automatic
    return services.article_update(article=found, actor=request.membership, note=note, **data)


def _article_state(request: HttpRequest, found: Article, action: str, at) -> None:
    if action == "publish":
        services.article_publish(article=found, actor=request.membership, at=at)
        messages.success(request, "Scheduled." if at and at > timezone.now() else "Published.")
    elif action in ("unpublish", "archive"):
        services.article_unpublish(
            article=found, actor=request.membership, archive=action == "archive"
        )
        messages.success(request, "Archived." if action == "archive" else "Back to draft.")
    else:
        messages.success(request, "Saved.")


@org_view()
def article_revisions(request: HttpRequest, article: int) -> HttpResponse:
    """Every revision; ?show=<n> shows its diff against the one before."""
    found = _article(request, article)
    revisions = list(selectors.article_revisions(article=found))
    shown = None
    diff = ""
    if revisions:
        try:
            number = int(request.GET.get("show", revisions[0].number))
        except ValueError:
            number = revisions[0].number
        shown = next((r for r in revisions if r.number == number), revisions[0])
        previous = next((r for r in revisions if r.number < shown.number), None)
        diff = services.revision_diff(old=previous, new=shown)
    return render(
        request,
        "kb/editor/revisions.html",
        {
            "nav": "kb",
            "tab": "articles",
            "article": found,
            "revisions": revisions,
            "shown": shown,
            "diff_lines": diff.splitlines(),
        },
    )


@org_view()
@require_POST
def revision_restore(request: HttpRequest, article: int, revision: int) -> HttpResponse:
    found = _article(request, article)
    chosen = selectors.article_revision_get(article=found, number=revision)
    services.article_restore(article=found, revision=chosen, actor=request.membership)
    messages.success(request, f"Revision {chosen.number} restored as a new revision.")
    return redirect("kb:editor-revisions", org_slug=request.organization.slug, article=found.pk)


@org_view()
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The Markdown as the help centre will show it (htmx)."""
    _editor(request)
    body = request.POST.get("body", "")[:200_000]
    html = services.render_body(organization=request.organization, body=body)
    return render(request, "kb/editor/_preview.html", {"html": html})


@org_view()
@require_POST
def image_upload(request: HttpRequest) -> JsonResponse:
    """Store an image; answers the Markdown that shows it."""
    _editor(request)
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"detail": "Choose an image to upload."}, status=400)
    if upload.size > settings.TISKET_KB_FILE_MAX_BYTES:
        return JsonResponse({"detail": "The image is too large."}, status=400)
    try:
        stored = centre.kb_file_upload(
            organization=request.organization,
            actor=request.membership,
            name=upload.name,
            content=upload.read(),
            image_only=True,
        )
    except TisketError as error:
        return JsonResponse({"detail": str(error)}, status=error.status_code)
    url = reverse("kb:file", args=[request.organization.slug, stored.pk, stored.filename])
    alt = stored.filename.rsplit(".", 1)[0].replace("]", "")
    return JsonResponse({"id": stored.pk, "url": url, "markdown": f"![{alt}]({url})"})


@org_view()
def report(request: HttpRequest) -> HttpResponse:
    """Per article: views, votes, suggestions shown and clicked, conversations resolved."""
    _editor(request)
    raw = request.GET.get("days", "30")
    days = min(id_param(raw) or 30, 365)
    data = reports.kb_report(organization=request.organization, days=days)
    return render(
        request, "kb/editor/report.html", {"nav": "kb", "tab": "report", "days": days, **data}
    )


@org_view(Role.ADMIN)
def help_centre_settings(request: HttpRequest) -> HttpResponse:
    """The help centre's title, colour, logo, and suggestions in acknowledgements (admins)."""
    branding = selectors.help_centre_for(organization=request.organization)
    initial = {
        "title": branding.title,
        "colour": branding.colour,
        "suggest_in_acknowledgements": branding.suggest_in_acknowledgements,
    }
    if request.method == "POST" and "editor" in request.POST:
        return _editor_grant(request)
    form = HelpCentreForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            logo = None
            if data["logo"] is not None:
                logo = centre.kb_file_upload(
                    organization=request.organization,
                    actor=request.membership,
                    name=data["logo"].name,
                    content=data["logo"].read(settings.TISKET_KB_FILE_MAX_BYTES + 1),
                    image_only=True,
                )
            centre.help_centre_update(
                organization=request.organization,
                actor=request.membership,
                title=data["title"],
                colour=data["colour"],
                logo=logo,
                suggest_in_acknowledgements=data["suggest_in_acknowledgements"],
            )
            messages.success(request, "Help centre saved.")
            return redirect("kb:editor-settings", org_slug=request.organization.slug)
        except TisketError as error:
            form.add_error(None, str(error))
    return render(
        request,
        "kb/editor/settings.html",
        {
            "nav": "kb",
            "tab": "settings",
            "form": form,
            "centre": branding,
            "members": _members_below_admin(request),
        },
    )


def _members_below_admin(request: HttpRequest) -> list:
    granted = set(
        EditorGrant.objects.filter(membership__organization=request.organization).values_list(
            "membership_id", flat=True
        )
    )
    members = [
        m for m in members_list(organization=request.organization) if not m.has_role(Role.ADMIN)
    ]
    for member in members:
        member.kb_editor = member.pk in granted
    return members


def _editor_grant(request: HttpRequest) -> HttpResponse:
    """Grant or withdraw the KB-editor permission of a member below admin."""
    member = member_get(organization=request.organization, pk=id_param(request.POST["editor"]))
    if request.POST.get("grant") == "1":
        centre.editor_grant(membership=member, actor=request.membership)
        messages.success(request, f"{member.user.get_full_name()} may now edit the knowledge base.")
    else:
        centre.editor_revoke(membership=member, actor=request.membership)
        messages.success(
            request, f"{member.user.get_full_name()} no longer edits the knowledge base."
        )
    return redirect("kb:editor-settings", org_slug=request.organization.slug)
