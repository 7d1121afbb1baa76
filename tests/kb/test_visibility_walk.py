"""The visibility walk: every KB page, API call, search and suggestion by reader by article.

Each reader must see exactly the articles their audience admits, through every door; a
member of another organization reads Acme's help centre as the public does.
"""

import pytest

from kb import search, selectors
from kb.deflection import client_pass
from kb.selectors import Audience
from tests.conftest import api_client

# Which of kb_acme's articles each reader may read.
PUBLIC = {"public"}
CLIENT = PUBLIC | {"clients"}
MEMBER = CLIENT | {"members", "in_hidden_category"}
SUPERVISOR = MEMBER | {"supervisors"}
READERS = {
    "anonymous": PUBLIC,
    "client": CLIENT,
    "viewer": MEMBER,
    "agent": MEMBER,
    "supervisor": SUPERVISOR,
    "admin": SUPERVISOR,
    "owner": SUPERVISOR,
    "globex_owner": PUBLIC,
}
# One word in each article's title, to search for it.
WORDS = {
    "public": "password",
    "clients": "invoices",
    "members": "refund",
    "supervisors": "escalation",
    "in_hidden_category": "door",
    "draft": "upcoming",
}


def _browser(client, reader: str, acme, globex):
    if reader == "client":
        assert client.get(f"/hc/acme/?pass={client_pass(organization=acme.org)}").status_code == 200
    elif reader == "globex_owner":
        client.force_login(globex.owner.user)
    elif reader != "anonymous":
        client.force_login(acme.member(reader).user)
    return client


@pytest.mark.parametrize("reader", list(READERS))
def test_help_centre_pages_show_each_reader_only_what_they_may_read(
    kb_acme, globex, client, reader
):
    acme, articles = kb_acme
    browser = _browser(client, reader, acme, globex)
    allowed = READERS[reader]
    for name, article in articles.items():
        status = browser.get(f"/hc/acme/a/{article.slug}/").status_code
        assert status == (200 if name in allowed else 404), (reader, name, status)
        found = browser.get("/hc/acme/search/", {"q": WORDS[name]}).content.decode()
        assert (article.title in found) == (name in allowed), (reader, name)
        typing = browser.get("/hc/acme/search/", {"q": WORDS[name]}, HTTP_HX_REQUEST="true")
        assert (article.title in typing.content.decode()) == (name in allowed), (reader, name)
    home = browser.get("/hc/acme/").content.decode()
    assert ("Internal" in home) == ("in_hidden_category" in allowed)
    internal = browser.get("/hc/acme/c/internal/").status_code
    assert internal == (200 if "in_hidden_category" in allowed else 404)
    guides = browser.get("/hc/acme/c/guides/").content.decode()
    for name in ("public", "clients", "members", "supervisors"):
        assert (articles[name].title in guides) == (name in allowed), (reader, name)


def test_the_sitemap_and_public_search_name_public_articles_only(kb_acme, client):
    acme, articles = kb_acme
    client.force_login(acme.owner.user)  # even signed in: the sitemap is for search engines
    sitemap = client.get("/hc/acme/sitemap.xml").content.decode()
    for name, article in articles.items():
        assert (f"/a/{article.slug}/" in sitemap) == (name == "public"), name
        answer = client.get(f"/api/v1/kb/public/acme/search/?q={WORDS[name]}").json()
        titles = [hit["title"] for hit in answer["results"]]
        assert (article.title in titles) == (name == "public"), name


@pytest.mark.parametrize("role", ["viewer", "agent", "supervisor", "admin", "owner"])
def test_the_api_shows_each_role_only_what_it_may_read(kb_acme, role):
    acme, articles = kb_acme
    allowed = READERS[role]
    api = api_client(acme.member(role))
    listed = {a["title"] for a in api.get("/api/v1/kb/articles/").json()["results"]}
    for name, article in articles.items():
        assert (article.title in listed) == (name in allowed), (role, name)
        detail = api.get(f"/api/v1/kb/articles/{article.pk}/").status_code
        editor = role in ("admin", "owner")
        expected = 200 if name in allowed or (editor and name == "draft") else 404
        assert detail == expected, (role, name, detail)
        hits = api.get("/api/v1/kb/search/", {"q": WORDS[name]}).json()["results"]
        assert (article.title in {h["title"] for h in hits}) == (name in allowed), (role, name)
    categories = {c["name"] for c in api.get("/api/v1/kb/categories/").json()["results"]}
    assert categories == {"Guides", "Internal"}


def test_a_token_capped_below_its_member_reads_as_its_cap(kb_acme):
    acme, articles = kb_acme
    api = api_client(acme.owner, role="agent")
    listed = {a["title"] for a in api.get("/api/v1/kb/articles/").json()["results"]}
    assert articles["supervisors"].title not in listed
    assert articles["members"].title in listed


@pytest.mark.parametrize("reader", list(READERS))
def test_search_and_selectors_agree_for_every_audience(kb_acme, globex, reader):
    acme, articles = kb_acme
    if reader == "anonymous" or reader == "globex_owner":
        audience = Audience.public(acme.org)
    elif reader == "client":
        audience = Audience.for_client(acme.org)
    else:
        audience = Audience.for_member(acme.member(reader))
    visible = set(selectors.articles_visible(audience=audience).values_list("pk", flat=True))
    assert visible == {articles[name].pk for name in READERS[reader]}
    for name, article in articles.items():
        hits = search.search(audience=audience, query=WORDS[name])
        assert (article.pk in {h.article.pk for h in hits}) == (name in READERS[reader])


def test_another_organization_sees_nothing_of_acme_through_its_own_doors(kb_acme, globex):
    _, articles = kb_acme
    api = api_client(globex.owner)
    assert api.get("/api/v1/kb/articles/").json()["results"] == []
    assert api.get("/api/v1/kb/categories/").json()["results"] == []
    for article in articles.values():
        assert api.get(f"/api/v1/kb/articles/{article.pk}/").status_code == 404
        assert api.patch(f"/api/v1/kb/articles/{article.pk}/", {"title": "x"}).status_code == 404
    hits = api.get("/api/v1/kb/search/", {"q": "password"}).json()["results"]
    assert hits == []
