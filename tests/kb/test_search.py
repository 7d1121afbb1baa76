"""Hybrid search: questions find answers by their words, their meaning, or despite typos."""

import pytest
from django.db import connection

from kb import embedding, indexing, search, services
from kb.models import Article
from kb.selectors import Audience
from tests.kb.conftest import publish

needs_model = pytest.mark.skipif(not embedding.available(), reason="embedding model absent")


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL full text (the SQLite path is tested below)")


@pytest.fixture
def library(acme, django_capture_on_commit_callbacks):
    org = acme.org
    with django_capture_on_commit_callbacks(execute=True):
        articles = {
            "password": publish(
                org,
                "Reset your password",
                "Open Settings, choose Security and click Reset password. A link arrives by mail.",
                tags=["login", "account"],
            ),
            "refund": publish(
                org,
                "Refund policy",
                "We refund any order within 30 days of delivery, to the original payment method.",
                tags=["billing"],
            ),
            "cafe": publish(
                org, "Café opening hours", "Our café opens at eight and closes at six."
            ),
            "shipping": publish(
                org,
                "Shipping times",
                "Parcels leave our warehouse within two working days; delivery takes 3 to 5 days.",
            ),
            "french": publish(
                org,
                "Changer l'adresse de livraison",
                "Vous pouvez changer l'adresse de livraison tant que la commande n'est pas partie.",
                locale="fr",
            ),
        }
    return acme, articles


def titles(hits) -> list[str]:
    return [hit.article.title for hit in hits]


@needs_model
def test_publishing_computes_the_embedding_in_a_task_and_a_save_makes_it_stale(
    library, django_capture_on_commit_callbacks
):
    _, articles = library
    password = Article.objects.get(pk=articles["password"].pk)
    assert password.embedding is not None
    assert password.embedded_revision == password.revision_count
    french = Article.objects.get(pk=articles["french"].pk)
    assert french.embedding is None  # the model is English-only: full text serves it
    assert french.embedded_revision == french.revision_count
    services.article_update(article=password, actor=None, body="Changed.")  # no commit: no task
    assert indexing.articles_embed_stale() == 1
    password.refresh_from_db()
    assert password.embedded_revision == password.revision_count


@needs_model
def test_a_question_without_the_answers_words_finds_it_by_meaning(library):
    acme, _ = library
    public = Audience.public(acme.org)
    hits = search.search(audience=public, query="I forgot how to log in to my account")
    assert titles(hits)[0] == "Reset your password"
    hits = search.search(audience=public, query="can I get my money back?")
    assert titles(hits)[0] == "Refund policy"


def test_words_are_ored_and_ranked_so_a_long_question_still_matches(library):
    acme, _ = library
    public = Audience.public(acme.org)
    hits = search.search(
        audience=public, query="what is your policy when I want a refund", semantic=False
    )
    assert titles(hits)[0] == "Refund policy"


def test_the_last_word_is_a_prefix_while_typing(library):
    acme, _ = library
    public = Audience.public(acme.org)
    assert titles(search.search(audience=public, query="passw", prefix=True, semantic=False))[
        :1
    ] == ["Reset your password"]


def test_accents_do_not_matter(library):
    postgres_only()
    acme, _ = library
    public = Audience.public(acme.org)
    assert titles(search.search(audience=public, query="cafe", semantic=False)) == [
        "Café opening hours"
    ]


def test_a_typo_still_finds_the_title(library):
    postgres_only()
    acme, _ = library
    public = Audience.public(acme.org)
    hits = search.search(audience=public, query="pasword reest", semantic=False)
    assert titles(hits)[:1] == ["Reset your password"]


def test_an_article_in_french_is_found_by_its_own_language(library):
    postgres_only()
    acme, _ = library
    public = Audience.public(acme.org)
    hits = search.search(audience=public, query="changer adresse", semantic=False, locale="fr")
    assert titles(hits)[:1] == ["Changer l'adresse de livraison"]


def test_nonsense_and_empty_queries_find_nothing(library):
    acme, _ = library
    public = Audience.public(acme.org)
    assert search.search(audience=public, query="   ") == []
    assert search.search(audience=public, query="!!! ???") == []
    assert search.search(audience=public, query="zyxwvut qqqq", semantic=False) == []


def test_search_reads_a_bounded_number_of_queries(library, django_assert_max_num_queries):
    acme, _ = library
    public = Audience.public(acme.org)
    search.search(audience=public, query="refund")  # loads the vectors once
    with django_assert_max_num_queries(6):
        search.search(audience=public, query="how long does shipping take", limit=10)
