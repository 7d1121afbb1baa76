"""The help centre's pages, votes, files and branding, and the editor's own actions."""

import base64
import xml.etree.ElementTree as ET

from kb import centre, services
from kb.models import Article, Category, Feedback, KbFile, Visibility
from tests.kb.conftest import publish

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_an_article_page_has_its_meta_tags_and_member_pages_are_not_indexed(acme, client):
    publish(acme.org, "Refund policy", "We refund within 30 days.", excerpt="Refunds in short.")
    staff = publish(acme.org, "Staff notes", "x", visibility=Visibility.MEMBERS)
    html = client.get("/hc/acme/a/refund-policy/").content.decode()
    assert '<meta name="description" content="Refunds in short.">' in html
    assert '<meta property="og:title" content="Refund policy">' in html
    assert 'rel="canonical"' in html
    assert "noindex" not in html
    client.force_login(acme.agent.user)
    assert "noindex" in client.get(f"/hc/acme/a/{staff.slug}/").content.decode()


def test_a_vote_counts_once_per_visitor_and_keeps_its_reason(acme, client):
    article = publish(acme.org, "Refund policy")
    url = "/hc/acme/a/refund-policy/feedback/"
    assert client.post(url, {"helpful": "maybe"}).status_code == 400
    client.post(url, {"helpful": "no", "reason": "Says nothing about gift cards"})
    client.post(url, {"helpful": "yes"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
    assert Feedback.objects.get().reason == "Says nothing about gift cards"
    assert client.get(url).status_code == 405  # votes never come by GET


def test_the_sitemap_is_xml_with_absolute_urls(acme, client):
    publish(acme.org, "Refund policy")
    root = ET.fromstring(client.get("/hc/acme/sitemap.xml").content)  # noqa: S314 - our own page
    locations = [el.text for el in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "http://testserver/hc/acme/a/refund-policy/" in locations
    assert client.get("/hc/nowhere/sitemap.xml").status_code == 404


def test_branding_comes_from_the_help_centre_settings(acme, client):
    logo = centre.kb_file_upload(
        organization=acme.org, actor=None, name="logo.png", content=PNG, image_only=True
    )
    centre.help_centre_update(
        organization=acme.org, actor=None, title="Acme Support", colour="#AA3300", logo=logo
    )
    assert client.get("/hc/acme/brand.css").content.decode() == ":root { --brand: #aa3300; }\n"
    home = client.get("/hc/acme/").content.decode()
    assert "Acme Support" in home
    assert client.get(f"/hc/acme/files/{logo.pk}/logo.png").status_code == 200
    try:
        centre.help_centre_update(organization=acme.org, actor=None, colour="red;}body{x")
    except services.KbError:
        pass
    else:
        raise AssertionError("a colour that is not #rrggbb was accepted")


def test_an_articles_images_follow_its_visibility(acme, client):
    image = centre.kb_file_upload(
        organization=acme.org, actor=None, name="s.png", content=PNG, image_only=True
    )
    url = f"/hc/acme/files/{image.pk}/s.png"
    assert client.get(url).status_code == 404  # used by no article yet
    article = publish(acme.org, "Staff", f"![s]({url})", visibility=Visibility.MEMBERS)
    assert KbFile.objects.get(pk=image.pk).article == article
    assert client.get(url).status_code == 404
    client.force_login(acme.viewer.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_home_page_takes_a_constant_number_of_queries(
    acme, client, django_assert_max_num_queries
):
    category = services.category_create(organization=acme.org, actor=None, name="A")
    publish(acme.org, "One", category=category)
    with django_assert_max_num_queries(20) as few:
        client.get("/hc/acme/")
    for n in range(8):
        more = services.category_create(organization=acme.org, actor=None, name=f"C{n}")
        services.category_create(organization=acme.org, actor=None, name=f"S{n}", parent=more)
        publish(acme.org, f"Article {n}", category=more)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/hc/acme/").status_code == 200


def test_the_editor_is_for_kb_editors(acme, web):
    assert web(acme.agent).get("/acme/kb/").status_code == 403
    centre.editor_grant(membership=acme.agent, actor=None)
    assert web(acme.agent).get("/acme/kb/").status_code == 200


def test_the_editor_uploads_images_only(acme, web):
    client = web(acme.admin)
    bad = client.post("/acme/kb/images/", {"image": _upload("x.png", b"<script>x</script>")})
    assert bad.status_code == 400
    assert "image" in bad.json()["detail"]
    good = client.post("/acme/kb/images/", {"image": _upload("shot.png", PNG)})
    assert good.status_code == 200
    assert good.json()["markdown"].startswith("![shot](/hc/acme/files/")


def test_the_editor_restores_a_revision_and_reorders_categories(acme, web):
    client = web(acme.admin)
    article = publish(acme.org, "Refunds", "Within 14 days.")
    services.article_update(article=article, actor=acme.admin, body="Within 30 days.")
    page = client.get(f"/acme/kb/articles/{article.pk}/revisions/?show=2")
    assert "Within 30 days." in page.content.decode()
    restore = client.post(f"/acme/kb/articles/{article.pk}/revisions/1/restore/")
    assert restore.status_code == 302
    assert Article.objects.get(pk=article.pk).body == "Within 14 days."
    first = services.category_create(organization=acme.org, actor=None, name="First")
    second = services.category_create(organization=acme.org, actor=None, name="Second")
    client.post("/acme/kb/categories/", {"move": second.pk, "direction": "up"})
    order = list(Category.objects.order_by("position").values_list("pk", flat=True))
    assert order == [second.pk, first.pk]


def _upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_admins_brand_the_help_centre_from_the_editor(acme, web, client):
    page = web(acme.admin).post(
        "/acme/kb/settings/",
        {"title": "Acme Care", "colour": "#117733", "logo": _upload("l.png", PNG)},
    )
    assert page.status_code == 302
    assert "#117733" in client.get("/hc/acme/brand.css").content.decode()
    assert "Acme Care" in client.get("/hc/acme/").content.decode()
    bad = web(acme.admin).post("/acme/kb/settings/", {"title": "x", "colour": "blue"})
    assert "#rrggbb" in bad.content.decode()
    assert web(acme.supervisor).get("/acme/kb/settings/").status_code == 403


def test_admins_grant_and_withdraw_the_editor_permission(acme, globex, web):
    from kb.selectors import can_edit

    admin = web(acme.admin)
    assert (
        admin.post("/acme/kb/settings/", {"editor": acme.agent.pk, "grant": "1"}).status_code == 302
    )
    assert can_edit(membership=acme.agent)
    admin.post("/acme/kb/settings/", {"editor": acme.agent.pk, "grant": "0"})
    assert not can_edit(membership=acme.agent)
    theirs = admin.post("/acme/kb/settings/", {"editor": globex.agent.pk, "grant": "1"})
    assert theirs.status_code == 404
    assert not can_edit(membership=globex.agent)
