"""The knowledge-base report: what readers saw and what it resolved, per article and period."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from kb.models import Article, Feedback, LedgerEntry, LedgerKind
from tisket.models import Organization


def kb_report(*, organization: Organization, days: int) -> dict:
    """Per article: views, votes, suggestions shown, clicks, resolutions; empty searches."""
    since = timezone.now() - timedelta(days=days)
    entries = LedgerEntry.objects.filter(organization=organization, created_at__gte=since)
    per_article = {
        row["article"]: row
        for row in entries.filter(article__isnull=False)
        .values("article")
        .annotate(
            views=Count("id", filter=Q(kind=LedgerKind.VIEW)),
            shown=Count("id", filter=Q(kind=LedgerKind.SHOWN)),
            clicked=Count("id", filter=Q(kind=LedgerKind.CLICKED)),
            resolved=Count("id", filter=Q(kind=LedgerKind.RESOLVED)),
        )
    }
    votes = {
        row["article"]: row
        for row in Feedback.objects.filter(
            article__organization=organization, created_at__gte=since
        )
        .values("article")
        .annotate(yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
    }
    ids = set(per_article) | set(votes)
    articles = Article.objects.filter(organization=organization, pk__in=ids).only(
        "id", "title", "slug"
    )
    rows = []
    for article in articles:
        counts = per_article.get(article.pk, {})
        vote = votes.get(article.pk, {})
        rows.append(
            {
                "article": article,
                "views": counts.get("views", 0),
                "shown": counts.get("shown", 0),
                "clicked": counts.get("clicked", 0),
                "resolved": counts.get("resolved", 0),
                "helpful_yes": vote.get("yes", 0),
                "helpful_no": vote.get("no", 0),
            }
        )
    rows.sort(key=lambda r: (-r["resolved"], -r["views"], r["article"].title))
    unanswered = list(
        entries.filter(kind=LedgerKind.SEARCH, results=0)
        .exclude(query="")
        .values("query")
        .annotate(times=Count("id"))
        .order_by("-times", "query")[:30]
    )
    searches = entries.filter(kind=LedgerKind.SEARCH).count()
    return {"rows": rows, "unanswered": unanswered, "searches": searches, "since": since}
