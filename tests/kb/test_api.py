"""The knowledge-base API: editors write, members read, bad input is a clear 4xx."""

import pytest

from kb import centre, services
from kb.models import Article
from tests.conftest import api_client
from tests.kb.conftest import publish


@pytest.fixture
def editor(acme):
    return api_client(acme.admin)


def test_an_editor_writes_a_category_and_an_article_and_publishes_it(acme, editor):
    category = editor.post("/api/v1/kb/categories/", {"name": "Billing"}, format="json")
    assert category.status_code == 201
    created = editor.post(
        "/api/v1/kb/articles/",
        {
            "title": "Pay by transfer",
            "body": "Use the **invoice number**.",
            "tags": ["Billing", "billing", "bank"],
            "category": category.json()["id"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    article = created.json()
    assert article["state"] == "draft"
    assert article["tags"] == ["billing", "bank"]
    assert "<strong>invoice number</strong>" in article["body_html"]
    assert article["url"].endswith("/hc/acme/a/pay-by-transfer/")
    pk = article["id"]
    published = editor.patch(f"/api/v1/kb/articles/{pk}/", {"state": "published"}, format="json")
    assert published.json()["state"] == "published"
    changed = editor.patch(f"/api/v1/kb/articles/{pk}/", {"body": "Changed."}, format="json")
    assert changed.json()["revision_count"] == 3
    revisions = editor.get(f"/api/v1/kb/articles/{pk}/revisions/").json()
    assert [r["number"] for r in revisions] == [3, 2, 1]
    detail = editor.get(f"/api/v1/kb/articles/{pk}/revisions/3/").json()
    assert "+Changed." in detail["diff"]
    restored = editor.post(f"/api/v1/kb/articles/{pk}/revisions/1/restore/")
    assert restored.status_code == 200
    assert restored.json()["body"] == "Use the **invoice number**."
    assert editor.delete(f"/api/v1/kb/articles/{pk}/").status_code == 204
    assert not Article.objects.filter(pk=pk).exists()


def test_members_read_but_only_editors_write(acme):
    article = publish(acme.org, "Hello")
    agent = api_client(acme.agent)
    assert agent.get(f"/api/v1/kb/articles/{article.pk}/").status_code == 200
    refused = agent.patch(f"/api/v1/kb/articles/{article.pk}/", {"title": "x"}, format="json")
    assert refused.status_code == 403
    assert agent.post("/api/v1/kb/articles/", {"title": "x"}, format="json").status_code == 403
    assert agent.get(f"/api/v1/kb/articles/{article.pk}/revisions/").status_code == 403
    centre.editor_grant(membership=acme.agent, actor=None)
    granted = agent.patch(f"/api/v1/kb/articles/{article.pk}/", {"title": "Hi"}, format="json")
    assert granted.status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": ""}, 400),
        ({"title": "x", "tags": "not a list"}, 400),
        ({"title": "x", "category": 999999}, 400),
        ({"title": "x", "visibility": "everyone"}, 400),
        ({"title": "x", "locale": "not a locale!"}, 400),
        ({"title": "x", "slug": "taken"}, 409),
        ({"title": "x", "translation_of": 2**40}, 400),
    ],
)
def test_bad_article_input_is_a_clear_error_and_stores_nothing(acme, editor, body, status):
    publish(acme.org, "Taken", slug="taken")
    before = Article.objects.count()
    response = editor.post("/api/v1/kb/articles/", body, format="json")
    assert response.status_code == status, response.json()
    assert response.json()
    assert Article.objects.count() == before


def test_search_answers_with_ids_titles_urls_and_scores(acme):
    publish(acme.org, "Refund policy", "We refund within 30 days.")
    api = api_client(acme.viewer)
    answer = api.get("/api/v1/kb/search/", {"q": "refund"}).json()
    [hit] = answer["results"]
    assert set(hit) == {"id", "title", "excerpt", "url", "score"}
    assert api.get("/api/v1/kb/search/", {"q": "x" * 201}).status_code == 400
    assert api.get("/api/v1/kb/search/", {"q": "x", "limit": "0"}).status_code == 400
    # Digits other than ASCII ones are no number: a clear 400, never a 500.
    for odd in ("²", "٣", "9" * 30):
        assert api.get("/api/v1/kb/search/", {"q": "x", "limit": odd}).status_code == 400
        listed = api.get("/api/v1/kb/articles/", {"category": odd})
        assert listed.status_code == 400, listed.content


def test_the_public_search_is_rate_limited(acme, client, settings):
    settings.TISKET_KB_PUBLIC_SEARCH_RATE = "3/minute"
    publish(acme.org, "Refund policy")
    statuses = [
        client.get("/api/v1/kb/public/acme/search/", {"q": "refund"}).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v1/kb/public/nowhere/search/", {"q": "x"}).status_code in (404, 429)


def test_article_lists_take_a_constant_number_of_queries(
    acme, editor, django_assert_max_num_queries
):
    category = services.category_create(organization=acme.org, actor=None, name="Guides")
    for n in range(3):
        publish(acme.org, f"Article {n}", category=category, tags=["a"])
    with django_assert_max_num_queries(12) as few:
        editor.get("/api/v1/kb/articles/")
    for n in range(3, 20):
        publish(acme.org, f"Article {n}", category=category, tags=["a"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(editor.get("/api/v1/kb/articles/").json()["results"]) == 20
