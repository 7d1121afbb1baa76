"""Knowledge-base search quality: does the right article come back for a question?

KB_EVAL names a JSON Lines file, one `{"question", "title", "body"}` a line (the
title may be empty); by default tests/bench/data/kb_eval.jsonl, questions and
articles written for this project (see tests/bench/data/README.md). Each distinct
(title, body) becomes a published article; every question is asked twice, by full
text only and by the hybrid search, and the rank of its article is scored:
Recall@1, Recall@5 and MRR@10.

Needs DATABASE_URL (PostgreSQL); it creates its own database.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.support import bench_database_url, recreate_database, setup_django

DEFAULT_EVAL = Path(__file__).parent / "data" / "kb_eval.jsonl"


def log(message: str) -> None:
    print(f"[kb_quality] {message}", file=sys.stderr, flush=True)


def load_pairs(path: Path) -> list[dict]:
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            pair = json.loads(line)
        except json.JSONDecodeError as error:
            sys.exit(f"bench kb_quality: {path}:{number}: not JSON ({error.msg})")
        if not isinstance(pair, dict) or not all(
            isinstance(pair.get(k), str) for k in ("question", "body")
        ):
            sys.exit(f'bench kb_quality: {path}:{number}: needs "question" and "body" strings')
        pair.setdefault("title", "")
        pairs.append(pair)
    if not pairs:
        sys.exit(f"bench kb_quality: {path} has no pairs")
    return pairs


def scores(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "r1": sum(1 for r in ranks if r == 1) / n,
        "r5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "mrr10": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
    }


def main() -> None:
    path = Path(os.environ.get("KB_EVAL") or DEFAULT_EVAL)
    if not path.is_file():
        sys.exit(f"bench kb_quality: no such file {path}")
    pairs = load_pairs(path)
    url = bench_database_url("kb_quality", "tisket_bench_kb_quality")
    recreate_database(url)
    setup_django(url, tempfile.mkdtemp(prefix="tisket-bench-"))

    from kb import embedding, search, services
    from kb.models import Article
    from kb.selectors import Audience
    from tisket import services as core

    owner, _ = core.user_get_or_create(email="owner@bench.test", full_name="Owner")
    org = core.organization_create(name="Bench", slug="bench", code="BENCH", owner=owner)
    articles: dict[tuple[str, str], int] = {}
    started = time.perf_counter()
    for pair in pairs:
        key = (pair["title"], pair["body"])
        if key in articles:
            continue
        title = pair["title"] or pair["body"].split(".")[0][:120] or "Untitled"
        article = services.article_create(
            organization=org, actor=None, title=title, body=pair["body"], publish=True
        )
        articles[key] = article.pk
    log(f"{len(articles)} articles written in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    rows = list(Article.objects.filter(organization=org))
    vectors = embedding.embed([search.embedding_text(a) for a in rows])
    for article, vector in zip(rows, vectors, strict=True):
        Article.objects.filter(pk=article.pk).update(
            embedding=embedding.to_bytes(vector), embedded_revision=article.revision_count
        )
    search.embeddings_changed(organization_id=org.pk)
    log(f"embedded in {time.perf_counter() - started:.1f}s")

    public = Audience.public(org)
    ranks: dict[str, list[int | None]] = {"keyword": [], "hybrid": []}
    started = time.perf_counter()
    for pair in pairs:
        expected = articles[(pair["title"], pair["body"])]
        for mode in ranks:
            hits = search.search(
                audience=public, query=pair["question"], limit=10, semantic=mode == "hybrid"
            )
            ids = [hit.article.pk for hit in hits]
            ranks[mode].append(ids.index(expected) + 1 if expected in ids else None)
    log(f"{2 * len(pairs)} searches in {time.perf_counter() - started:.1f}s")
    keyword, hybrid = scores(ranks["keyword"]), scores(ranks["hybrid"])
    print(
        f"BENCH kb_quality pairs={len(pairs)} articles={len(articles)} "
        f"keyword_recall1={keyword['r1']:.3f} keyword_recall5={keyword['r5']:.3f} "
        f"keyword_mrr10={keyword['mrr10']:.3f} "
        f"hybrid_recall1={hybrid['r1']:.3f} hybrid_recall5={hybrid['r5']:.3f} "
        f"hybrid_mrr10={hybrid['mrr10']:.3f}"
    )
