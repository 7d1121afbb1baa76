"""Article embeddings for semantic search: computed after publishing, swept when stale."""

from django.db.models import F

from kb import search as search_index
from kb.models import Article, ArticleState


def article_embed(*, article_id: int) -> bool:
    """Compute the article's embedding when it is stale; False when nothing was done."""
    from kb import embedding

    article = Article.objects.filter(pk=article_id).first()
    if article is None or article.embedded_revision == article.revision_count:
        return False
    revision = article.revision_count
    if not search_index.embeddable(article):
        # Full text serves it alone; marked done so the sweep passes it by.
        Article.objects.filter(pk=article.pk, revision_count=revision).update(
            embedding=None, embedded_revision=revision
        )
        search_index.embeddings_changed(organization_id=article.organization_id)
        return False
    if not embedding.available():
        return False
    vector = embedding.embed_one(search_index.embedding_text(article))
    # Only the revision it was computed from: a save meanwhile leaves it stale for the sweep.
    Article.objects.filter(pk=article.pk, revision_count=revision).update(
        embedding=embedding.to_bytes(vector), embedded_revision=revision
    )
    search_index.embeddings_changed(organization_id=article.organization_id)
    return True


def articles_embed_stale(*, limit: int = 200) -> int:
    """Embed published articles whose embedding is missing or stale (the sweep's work)."""
    done = 0
    stale = (
        Article.objects.filter(state=ArticleState.PUBLISHED)
        .exclude(embedded_revision=F("revision_count"))
        .values_list("pk", flat=True)[:limit]
    )
    for pk in list(stale):
        done += article_embed(article_id=pk)
    return done
