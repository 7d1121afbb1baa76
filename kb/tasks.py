"""Background work of the knowledge base: article embeddings for semantic search."""

from celery import shared_task

from kb import indexing


@shared_task(soft_time_limit=120, time_limit=180)
def index_article_embed(article_id: int) -> bool:
    """Compute a published article's embedding (safe to run twice: stale ones only)."""
    return indexing.article_embed(article_id=article_id)


@shared_task(soft_time_limit=240, time_limit=300)
def index_articles_embed_stale() -> int:
    """Embed what a lost task left stale (beat runs it every few minutes)."""
    return indexing.articles_embed_stale()
