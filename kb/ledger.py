"""What readers did: "Was this helpful?" votes and the deflection ledger."""

from django.db import transaction
from django.db.models import F

from kb.models import Article, Feedback, LedgerEntry, LedgerKind
from tisket.models import Organization


def feedback_record(*, article: Article, helpful: bool, reason: str = "") -> Feedback:
    """A reader's "Was this helpful?" answer."""
    counter = "helpful_yes" if helpful else "helpful_no"
    with transaction.atomic():
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
        return Feedback.objects.create(
            article=article, helpful=helpful, reason=" ".join(reason.split())[:500]
        )


def ledger_record(
    *,
    organization: Organization,
    kind: str,
    place: str,
    articles: list[Article] | tuple = (),
    conversation_id: int | None = None,
    query: str = "",
    results: int = 0,
) -> None:
    """Write the ledger: one row per article (or one for a search)."""
    query = " ".join(query.split())[:200]
    if kind == LedgerKind.VIEW:
        Article.objects.filter(pk__in=[a.pk for a in articles]).update(
            view_count=F("view_count") + 1
        )
    rows = [
        LedgerEntry(
            organization=organization,
            kind=kind,
            place=place,
            article=article,
            conversation_id=conversation_id,
            query=query,
            results=results,
        )
        for article in articles
    ] or [
        LedgerEntry(
            organization=organization,
            kind=kind,
            place=place,
            conversation_id=conversation_id,
            query=query,
            results=results,
        )
    ]
    LedgerEntry.objects.bulk_create(rows)
