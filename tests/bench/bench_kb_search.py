"""Knowledge-base search speed over 50,000 articles: full text alone, and hybrid.

The articles are synthetic: titles and bodies drawn from the evaluation set's words
and invented ones (a long tail, as real text has), in one organization, with a random
unit vector each as its embedding (the speed of the search does not depend on what the
vectors mean; computing 50,000 real ones would take hours here). The queries are the
evaluation set's questions, distinct, so each hybrid search also embeds its question.
Each figure is the time of search() for 200 questions, after one warm-up that loads
the organization's vectors into memory.

Needs DATABASE_URL (PostgreSQL); it creates its own database.
"""

import io
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.support import bench_database_url, recreate_database, setup_django

ARTICLES = 50_000
QUERIES = 200
TARGET_KEYWORD_P95_MS = 20
TARGET_HYBRID_P95_MS = 50
EVAL = Path(__file__).parent / "data" / "kb_eval.jsonl"


def log(message: str) -> None:
    print(f"[kb_search] {message}", file=sys.stderr, flush=True)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _write_articles(org_id: int, questions_text: str) -> None:
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    rng = random.Random(16)
    known = sorted(set(re.findall(r"[a-z]+", questions_text.lower())))
    invented = [
        "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(3))
        for _ in range(6000)
    ]
    vocabulary = known + invented
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(vocabulary))]
    rng.shuffle(weights)
    vectors = np.random.default_rng(16).standard_normal((ARTICLES, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    now = timezone.now().isoformat()
    buffer = io.StringIO()
    for n in range(ARTICLES):
        title = " ".join(rng.choices(vocabulary, weights, k=rng.randint(3, 8))).capitalize()
        body = " ".join(rng.choices(vocabulary, weights, k=rng.randint(60, 160)))
        vector = "\\\\x" + vectors[n].astype("<f4").tobytes().hex()
        buffer.write(
            "\t".join(
                [
                    str(org_id),
                    f"{title[:190]}",
                    f"a-{n}",
                    body,
                    f"<p>{body}</p>",
                    body[:200],
                    "[]",
                    "en",
                    "published",
                    now,
                    "public",
                    "viewer",
                    "0",
                    "1",
                    now,
                    now,
                    vector,
                    "1",
                    "0",
                    "0",
                    "0",
                ]
            )
            + "\n"
        )
    buffer.seek(0)
    columns = (
        "organization_id, title, slug, body, body_html, excerpt, tags, locale, state, "
        "published_at, visibility, min_role, position, revision_count, created_at, "
        "updated_at, embedding, embedded_revision, view_count, helpful_yes, helpful_no"
    )
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY kb_article ({columns}) FROM STDIN") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        cursor.execute(
            """
            UPDATE kb_article SET search_vector =
                setweight(to_tsvector('english', tisket_unaccent(title)), 'A') ||
                setweight(to_tsvector('english', tisket_unaccent(body)), 'C')
            """
        )
        cursor.execute("ANALYZE kb_article")


def main() -> None:
    url = bench_database_url("kb_search", "tisket_bench_kb_search")
    recreate_database(url)
    setup_django(url, tempfile.mkdtemp(prefix="tisket-bench-"))

    from kb import embedding, search
    from kb.selectors import Audience
    from tisket import services as core

    pairs = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line]
    questions = list(dict.fromkeys(pair["question"] for pair in pairs))[:QUERIES]
    owner, _ = core.user_get_or_create(email="owner@bench.test", full_name="Owner")
    org = core.organization_create(name="Bench", slug="bench", code="BENCH", owner=owner)
    started = time.perf_counter()
    text = " ".join(f"{p['title']} {p['body']} {p['question']}" for p in pairs)
    _write_articles(org.pk, text)
    search.embeddings_changed(organization_id=org.pk)
    log(f"{ARTICLES} articles written and indexed in {time.perf_counter() - started:.1f}s")

    public = Audience.public(org)
    started = time.perf_counter()
    search.search(audience=public, query="warm up the vectors")
    log(f"vectors loaded in {time.perf_counter() - started:.1f}s")
    timings: dict[str, list[float]] = {"keyword": [], "hybrid": []}
    found = {"keyword": 0, "hybrid": 0}
    for question in questions:
        for mode in timings:
            if mode == "hybrid":
                embedding.embed_one("clear the CPU caches of the previous search")
            started = time.perf_counter()
            hits = search.search(audience=public, query=question, semantic=mode == "hybrid")
            timings[mode].append((time.perf_counter() - started) * 1000)
            found[mode] += bool(hits)
    keyword, hybrid = p95(timings["keyword"]), p95(timings["hybrid"])
    log(
        f"keyword median {statistics.median(timings['keyword']):.1f} ms, "
        f"hybrid median {statistics.median(timings['hybrid']):.1f} ms; "
        f"targets p95 < {TARGET_KEYWORD_P95_MS} and < {TARGET_HYBRID_P95_MS} ms"
    )
    print(
        f"BENCH kb_search articles={ARTICLES} queries={len(questions)} "
        f"keyword_p95_ms={keyword:.1f} hybrid_p95_ms={hybrid:.1f} "
        f"keyword_answered={found['keyword']} hybrid_answered={found['hybrid']}"
    )
