"""Hybrid search of the knowledge base: full text and sentence embeddings, fused.

Questions are written in many words, few of which appear in the answer, so full text
ORs the words and ranks (title > tags > body) instead of requiring them all. The local
embedding model ranks by meaning; the fused score is the cosine plus a bonus for words. On
PostgreSQL the full text is a weighted `tsvector` (with `unaccent`, the article's language
configuration, prefix matching as you type, trigram similarity for typos); on SQLite a
small in-process scorer gives the same kind of answer for the embedded default. Every
candidate passes through `articles_visible`, so search shows nothing the reader may not see.
"""

import functools
import logging
import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import BooleanField, F, FloatField
from django.db.models.expressions import RawSQL
from threadpoolctl import threadpool_limits

from kb.models import Article, EmbeddingIndex
from kb.selectors import Audience, articles_visible
from tisket.lib.html import html_to_text

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 24
SEMANTIC_POOL = 100
SEMANTIC_MIN_SCORE = 0.2
CONFIDENT_SEMANTIC_SCORE = 0.45
LEXICAL_POOL = 50
# Fusion: the cosine of meaning (0..1) plus the full-text score scaled to 0..1 times a
# weight. Measured on the evaluation set (make bench BENCH=kb_quality): reciprocal rank
# fusion gave Recall@5 0.89 and Recall@1 0.55; this gives 0.95 and 0.72, as word
# matches on long questions are mostly noise while a close meaning rarely is.
LEXICAL_WEIGHT = 0.1
# An article without an embedding (not in English) competes on its words alone,
# scaled as a good cosine would be.
UNEMBEDDED_WEIGHT = 0.6
TYPO_WEIGHT = 0.5
# Full text ranks at most about this many matching rows per query (see _informative).
MATCH_BUDGET = 1000
STATISTICS_SECONDS = 600

# PostgreSQL text search configurations by language; anything else uses 'simple'.
TEXT_CONFIGS = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "sv": "swedish",
    "da": "danish",
    "fi": "finnish",
    "nb": "norwegian",
    "no": "norwegian",
    "ru": "russian",
    "tr": "turkish",
    "hu": "hungarian",
    "ro": "romanian",
}

_WORD = re.compile(r"[^\W_]+")


@dataclass
class Hit:
    article: Article
    score: float


def text_config(locale: str) -> str:
    return TEXT_CONFIGS.get(locale.split("-")[0].lower(), "simple")


def embeddable(article: Article) -> bool:
    """The embedding model is English-only; other languages are searched by full text."""
    return article.locale.split("-")[0].lower() == "en"


def _plain_body(article: Article) -> str:
    return " ".join(html_to_text(article.body_html).split())


def embedding_text(article: Article) -> str:
    tags = ", ".join(article.tags or [])
    return (
        f"{article.title}. {tags}. {_plain_body(article)}"
        if tags
        else (f"{article.title}. {_plain_body(article)}")
    )


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- Indexing -----------------------------------------------------------------------------------


def article_index_text(*, article: Article) -> None:
    """Refresh the article's weighted tsvector (PostgreSQL; SQLite scores at query time)."""
    if not uses_postgres():
        return
    config = text_config(article.locale)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE kb_article SET search_vector =
                setweight(to_tsvector('{config}', tisket_unaccent(%s)), 'A') ||
                setweight(to_tsvector('{config}', tisket_unaccent(%s)), 'B') ||
                setweight(to_tsvector('{config}', tisket_unaccent(%s)), 'C')
            WHERE id = %s
            """,  # noqa: S608 - the configuration comes from TEXT_CONFIGS, never from input
            [
                article.title,
                " ".join(article.tags or []),
                _plain_body(article)[:100_000],
                article.pk,
            ],
        )


def embeddings_changed(*, organization_id: int) -> None:
    updated = EmbeddingIndex.objects.filter(organization_id=organization_id).update(
        version=F("version") + 1
    )
    if not updated:
        EmbeddingIndex.objects.get_or_create(organization_id=organization_id)
        EmbeddingIndex.objects.filter(organization_id=organization_id).update(
            version=F("version") + 1
        )


# --- Querying -----------------------------------------------------------------------------------


def query_words(query: str) -> list[str]:
    return _WORD.findall(query[:MAX_QUERY_CHARS].lower())[:MAX_QUERY_WORDS]


def search(
    *,
    audience: Audience,
    query: str,
    limit: int = 10,
    prefix: bool = False,
    semantic: bool = True,
    locale: str = "en",
    confident: bool = False,
) -> list[Hit]:
    """The articles this audience may read that best answer the query, best first.

    confident=True keeps only hits both rankings agree on, or close in meaning: for
    suggestions nobody asked for (an acknowledgement mail), where a wrong one costs trust.
    """
    words = query_words(query)
    if not words:
        return []
    limit = max(1, min(limit, 50))
    if uses_postgres():
        lexical = _normalized(_lexical_postgres(audience, words, prefix=prefix, locale=locale))
        if len(lexical) < 3:
            # Too few words matched: perhaps a typo. Titles close to the words, ranked below.
            typos = _normalized(_trigram_postgres(audience, words), top=TYPO_WEIGHT)
            lexical.update({pk: score for pk, score in typos.items() if pk not in lexical})
    else:
        lexical = _normalized(_lexical_python(audience, words, prefix=prefix))
    meaning: dict[int, float] = {}
    embedded: set[int] = set()
    if semantic:
        meaning, embedded = _semantic(audience, " ".join(words))
    if not meaning:
        fused = dict(lexical)
    else:
        # Meaning leads (the cosine), words add a bonus; an article the English model does
        # not cover (another language) is ranked by its words alone, on the same scale.
        fused = dict(meaning)
        for pk, score in lexical.items():
            weight = LEXICAL_WEIGHT if pk in embedded else UNEMBEDDED_WEIGHT
            fused[pk] = fused.get(pk, 0.0) + weight * score
        if confident:
            sure = {pk for pk, score in meaning.items() if score >= CONFIDENT_SEMANTIC_SCORE}
            sure |= set(lexical) & set(meaning)
            sure |= {pk for pk in lexical if pk not in embedded}
            fused = {pk: score for pk, score in fused.items() if pk in sure}
    best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:limit]
    articles = Article.objects.select_related("category").in_bulk([pk for pk, _ in best])
    return [
        Hit(article=articles[pk], score=round(score, 4)) for pk, score in best if pk in articles
    ]


def _normalized(ranked: list[tuple[int, float]], top: float = 1.0) -> dict[int, float]:
    """Scores scaled so that the best is `top`: each ranking's own scale means nothing."""
    if not ranked:
        return {}
    best = max(score for _, score in ranked) or 1.0
    return {pk: top * score / best for pk, score in ranked[:LEXICAL_POOL]}


def _lexical_postgres(
    audience: Audience, words: list[str], *, prefix: bool, locale: str
) -> list[tuple[int, float]]:
    configs = sorted({text_config(locale), "english"})
    lexemes = _query_lexemes(words[:-1] if prefix else words, configs)
    terms = [re.sub(r"['\\\\]", "", lexeme) for lexeme in _informative(lexemes)]
    text = " | ".join(f"'{term}'" for term in terms if term)
    if prefix and words:
        text = f"{text} | {words[-1]}:*" if text else f"{words[-1]}:*"
    if not text:
        return []
    # The lexemes are stemmed already: 'simple' parses the query without stemming them again.
    tsq = "to_tsquery('simple'::regconfig, tisket_unaccent(%s))"
    rows = (
        articles_visible(audience=audience)
        .alias(
            lex_match=RawSQL(  # noqa: S611
                f"kb_article.search_vector @@ {tsq}", [text], output_field=BooleanField()
            )
        )
        .filter(lex_match=True)
        .annotate(
            lex=RawSQL(  # noqa: S611
                f"ts_rank(kb_article.search_vector, {tsq}, 1)", [text], output_field=FloatField()
            )
        )
        .order_by("-lex", "pk")
        .values_list("pk", "lex")[:LEXICAL_POOL]
    )
    return list(rows)


_lexemes: dict[tuple[str, str], tuple[str, ...]] = {}
_LEXEME_CACHE_SIZE = 50_000


def _query_lexemes(words: list[str], configs: list[str]) -> list[str]:
    """The words as each configuration indexes them (stemmed, stop words dropped).

    A word's lexemes never change: they are kept in memory, so most questions need no
    query to PostgreSQL for them.
    """
    key = ",".join(configs)
    missing = sorted({w for w in words if (key, w) not in _lexemes})
    if missing:
        vectors = " || ".join(f"to_tsvector('{config}', tisket_unaccent(w))" for config in configs)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT w, tsvector_to_array({vectors}) FROM unnest(%s::text[]) AS w",  # noqa: S608
                [missing],
            )
            found = dict(cursor.fetchall())
        if len(_lexemes) > _LEXEME_CACHE_SIZE:
            _lexemes.clear()
        for word in missing:
            _lexemes[(key, word)] = tuple(found.get(word) or ())
    return list(dict.fromkeys(lexeme for w in words for lexeme in _lexemes[(key, w)]))


def _informative(lexemes: list[str]) -> list[str]:
    """The query's rarer lexemes: words in most articles match thousands and rank nothing.

    Frequencies come from PostgreSQL's own statistics of the column (ANALYZE): words
    it does not list as common are rare. Rarest first, the words are kept while the
    rows they may match stay within MATCH_BUDGET; the rarest two are always kept.
    """
    frequencies, rows = _lexeme_statistics()
    if not frequencies:
        return lexemes
    ranked = sorted(lexemes, key=lambda lexeme: frequencies.get(lexeme, 0.0))
    kept, expected = [], 0.0
    for lexeme in ranked:
        expected += frequencies.get(lexeme, 0.0) * rows
        if len(kept) >= 2 and expected > MATCH_BUDGET:
            break
        kept.append(lexeme)
    return kept


_statistics: dict[str, tuple[float, dict[str, float], float]] = {}


def _lexeme_statistics() -> tuple[dict[str, float], float]:
    """Common lexemes of the indexed articles and their share of rows (cached a while)."""
    now = time.monotonic()
    cached = _statistics.get(connection.alias)
    if cached is not None and now - cached[0] < STATISTICS_SECONDS:
        return cached[1], cached[2]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples
            FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
            WHERE s.tablename = 'kb_article' AND s.attname = 'search_vector'
            """
        )
        row = cursor.fetchone()
    frequencies: dict[str, float] = {}
    rows = 0.0
    if row and row[0] and row[1]:
        frequencies = dict(zip(row[0], row[1], strict=False))
        rows = float(row[2] or 0)
    _statistics[connection.alias] = (now, frequencies, rows)
    return frequencies, rows


def _trigram_postgres(audience: Audience, words: list[str]) -> list[tuple[int, float]]:
    """Titles with words close to the query's: what a typo leaves to find."""
    words = [w for w in dict.fromkeys(words) if len(w) >= 4][:6]
    if not words:
        return []
    near = " OR ".join(["tisket_unaccent(%s) <%% kb_article.title"] * len(words))
    closeness = " + ".join(["word_similarity(tisket_unaccent(%s), kb_article.title)"] * len(words))
    rows = (
        articles_visible(audience=audience)
        .alias(near=RawSQL(f"({near})", words, output_field=BooleanField()))  # noqa: S611
        .filter(near=True)
        .annotate(sim=RawSQL(closeness, words, output_field=FloatField()))  # noqa: S611
        .order_by("-sim", "pk")
        .values_list("pk", "sim")[:10]
    )
    return list(rows)


# A few English function words the SQLite scorer ignores (PostgreSQL has its own lists).
_STOP_WORDS = (
    "a an and are as at be by can do does for from how i if in is it my of on or our so "
    "that the their this to was we what when where which who why will with you your"
)
_STOP = frozenset(_STOP_WORDS.split())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _lexical_python(
    audience: Audience, words: list[str], *, prefix: bool
) -> list[tuple[int, float]]:
    """Full text for the embedded SQLite default: BM25 over title, tags and body."""
    terms = [_stem(w) for w in words if w not in _STOP] or [_stem(w) for w in words]
    last = terms[-1] if prefix else None
    rows = list(
        articles_visible(audience=audience).values_list("pk", "title", "tags", "body_html")[:5000]
    )
    if not rows:
        return []
    docs = []
    for pk, title, tags, body_html in rows:
        fields = (title, " ".join(tags or []), html_to_text(body_html))
        docs.append((pk, [Counter(_stem(w) for w in _WORD.findall(f.lower())) for f in fields]))
    n = len(docs)

    def matches(counter: Counter, term: str) -> int:
        if term == last:
            return sum(c for word, c in counter.items() if word.startswith(term))
        return counter.get(term, 0)

    df = {t: sum(1 for _, fs in docs if any(matches(f, t) for f in fs)) for t in set(terms)}
    scored = []
    for pk, fields in docs:
        score = 0.0
        for term in set(terms):
            if not df[term]:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            for weight, counter in zip((3.0, 2.0, 1.0), fields, strict=True):
                tf = matches(counter, term)
                if tf:
                    length = sum(counter.values()) or 1
                    score += weight * idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / 200))
        if score > 0:
            scored.append((pk, score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:LEXICAL_POOL]


# --- Semantic -----------------------------------------------------------------------------------

_vectors: dict[int, tuple[int, np.ndarray, np.ndarray, set[int]]] = {}
_vectors_lock = threading.Lock()


def _org_vectors(organization_id: int) -> tuple[np.ndarray, np.ndarray]:
    """The organization's article ids and vectors, reloaded when its index version moves."""
    from kb import embedding

    version = (
        EmbeddingIndex.objects.filter(organization_id=organization_id)
        .values_list("version", flat=True)
        .first()
        or 0
    )
    cached = _vectors.get(organization_id)
    if cached is not None and cached[0] == version:
        return cached[1], cached[2]
    with _vectors_lock:
        rows = list(
            Article.objects.filter(organization_id=organization_id, embedding__isnull=False)
            .values_list("pk", "embedding")
            .iterator(chunk_size=2000)
        )
        ids = np.array([pk for pk, _ in rows], dtype=np.int64)
        matrix = (
            np.vstack([embedding.from_bytes(bytes(blob)) for _, blob in rows])
            if rows
            else np.zeros((0, embedding.DIMENSIONS), dtype=np.float32)
        )
        _vectors[organization_id] = (version, ids, matrix, set(ids.tolist()))
    return ids, matrix


@functools.lru_cache(maxsize=1024)
def _query_vector(text: str) -> bytes:
    from kb import embedding

    return embedding.to_bytes(embedding.embed_one(text))


def _semantic(audience: Audience, text: str) -> tuple[dict[int, float], set[int]]:
    """Readable articles close in meaning, with their cosine; and which articles have vectors."""
    from kb import embedding

    if not embedding.available():
        return {}, set()
    ids, matrix = _org_vectors(audience.organization.pk)
    if not len(ids):
        return {}, set()
    vector = embedding.from_bytes(_query_vector(text))
    with threadpool_limits(limits=1, user_api="blas"):  # see kb.embedding
        scores = matrix @ vector
    pool = min(SEMANTIC_POOL, len(ids))
    top = np.argpartition(-scores, pool - 1)[:pool]
    top = [i for i in top[np.argsort(-scores[top])] if scores[i] >= SEMANTIC_MIN_SCORE]
    embedded = _embedded_ids(audience.organization.pk, ids)
    if not top:
        return {}, embedded
    candidates = [int(ids[i]) for i in top]
    readable = set(
        articles_visible(audience=audience).filter(pk__in=candidates).values_list("pk", flat=True)
    )
    return {int(ids[i]): float(scores[i]) for i in top if int(ids[i]) in readable}, embedded


def _embedded_ids(organization_id: int, ids: np.ndarray) -> set[int]:
    cached = _vectors.get(organization_id)
    return cached[3] if cached is not None else set(ids.tolist())


def vectors_forget() -> None:
    """Drop the in-memory vectors (tests and benchmarks that rebuild databases)."""
    _vectors.clear()
