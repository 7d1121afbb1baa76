"""The agent's Knowledge panel in the reply box: articles suggested for the conversation.

Suggestions come from the conversation's subject and the client's latest message; the
agent may search instead, and insert a link or a quoted passage into the reply. What is
suggested and what is used goes to the knowledge base's deflection ledger.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from kb import ledger, search, selectors
from kb.models import LedgerKind, LedgerPlace
from kb.selectors import Audience
from threads.selectors import thread_get, thread_question
from tickets import visibility
from tisket.lib.params import id_param
from tisket.models import Role
from tisket.views import org_view

SUGGESTIONS = 5


@require_GET
@org_view(Role.AGENT)
def thread_knowledge(request: HttpRequest, thread: str) -> HttpResponse:
    found = thread_get(
        organization=request.organization,
        reference=thread,
        scope=visibility.thread_scope(request.membership),
    )
    audience = Audience.for_member(request.membership)
    query = request.GET.get("q", "").strip()[: search.MAX_QUERY_CHARS]
    hits = search.search(
        audience=audience,
        query=query or thread_question(thread=found),
        limit=SUGGESTIONS,
        prefix=bool(query),
    )
    if not query and hits:
        ledger.ledger_record(
            organization=request.organization,
            kind=LedgerKind.SHOWN,
            place=LedgerPlace.AGENT,
            articles=[hit.article for hit in hits],
            conversation_id=found.pk,
        )
    site = request.build_absolute_uri("/").rstrip("/")
    # What the client could open (the article and its categories alike), in one query.
    for_client = set(
        selectors.articles_visible(audience=Audience.for_client(request.organization))
        .filter(pk__in=[hit.article.pk for hit in hits])
        .values_list("pk", flat=True)
    )
    items = []
    for hit in hits:
        article = hit.article
        public = article.pk in for_client
        url = site + reverse("kb:article", args=[request.organization.slug, article.slug])
        items.append(
            {
                "article": article,
                "url": url,
                "for_client": public,
                # A link only where the client may open it; a passage always.
                "link": f"[{article.title}]({url})" if public else "",
                "passage": "\n".join(f"> {line}" for line in article.excerpt.splitlines())
                + (f"\n\n{url}" if public else ""),
            }
        )
    return render(
        request,
        "kb/_knowledge.html",
        {"thread": found, "items": items, "query": query, "can_edit": False},
    )


@require_POST
@org_view(Role.AGENT)
def thread_knowledge_used(request: HttpRequest, thread: str) -> HttpResponse:
    """The agent inserted an article into the reply: the ledger counts a click."""
    found = thread_get(
        organization=request.organization,
        reference=thread,
        scope=visibility.thread_scope(request.membership),
    )
    article = selectors.article_get_by_id(
        audience=Audience.for_member(request.membership), pk=id_param(request.POST.get("article"))
    )
    ledger.ledger_record(
        organization=request.organization,
        kind=LedgerKind.CLICKED,
        place=LedgerPlace.AGENT,
        articles=[article],
        conversation_id=found.pk,
    )
    return HttpResponse(status=204)


urlpatterns = [
    path("threads/<str:thread>/knowledge/", thread_knowledge, name="thread-knowledge"),
    path(
        "threads/<str:thread>/knowledge/used/",
        thread_knowledge_used,
        name="thread-knowledge-used",
    ),
]
