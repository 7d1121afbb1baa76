"""Articles: Markdown made safe, revisions diffable and restorable, scheduled publishing."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kb import centre, ledger, selectors, services
from kb.models import ArticleState, Visibility
from kb.selectors import Audience
from tisket.errors import ConflictError, NotAllowedError


def test_markdown_is_rendered_and_hostile_markup_is_shown_as_text(acme):
    article = services.article_create(
        organization=acme.org,
        actor=acme.admin,
        title="Setup",
        body="# Step one\n\n<script>alert(1)</script> **bold** [ok](https://example.com) "
        "[bad](javascript:alert(1)) ![x](https://tracker.test/p.png) ![y](/hc/acme/files/3/y.png)",
    )
    html = article.body_html
    assert "<strong>bold</strong>" in html
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://example.com"' in html
    assert "javascript:" not in html
    assert "tracker.test" not in html
    assert 'src="/hc/acme/files/3/y.png"' in html
    assert article.excerpt.startswith("Step one")


def test_every_save_is_a_revision_that_diffs_and_restores(acme):
    article = services.article_create(
        organization=acme.org, actor=acme.admin, title="Refunds", body="Within 14 days."
    )
    services.article_update(article=article, actor=acme.admin, body="Within 30 days.")
    assert article.revision_count == 2
    first, second = sorted(article.revisions.all(), key=lambda r: r.number)
    assert second.author == acme.admin
    diff = services.revision_diff(old=first, new=second)
    assert "-Within 14 days." in diff
    assert "+Within 30 days." in diff
    services.article_restore(article=article, revision=first, actor=acme.admin)
    article.refresh_from_db()
    assert article.body == "Within 14 days."
    assert article.revision_count == 3
    assert article.revisions.get(number=3).note == "restored revision 1"


def test_only_kb_editors_write_and_admins_grant_the_permission(acme):
    with pytest.raises(NotAllowedError):
        services.article_create(organization=acme.org, actor=acme.agent, title="Nope")
    with pytest.raises(NotAllowedError):
        centre.editor_grant(membership=acme.agent, actor=acme.supervisor)
    centre.editor_grant(membership=acme.agent, actor=acme.admin)
    assert selectors.can_edit(membership=acme.agent)
    services.article_create(organization=acme.org, actor=acme.agent, title="Now yes")
    centre.editor_revoke(membership=acme.agent, actor=acme.admin)
    assert not selectors.can_edit(membership=acme.agent)


def test_scheduled_articles_appear_when_their_time_comes(acme):
    at = timezone.now() + timedelta(days=2)
    article = services.article_create(
        organization=acme.org, actor=acme.admin, title="New pricing", publish_at=at
    )
    assert article.state == ArticleState.PUBLISHED
    public = Audience.public(acme.org)
    assert not selectors.articles_visible(audience=public).filter(pk=article.pk).exists()
    with time_machine.travel(at + timedelta(minutes=1)):
        assert selectors.articles_visible(audience=public).filter(pk=article.pk).exists()


def test_archived_and_draft_articles_are_never_shown(acme):
    article = services.article_create(
        organization=acme.org, actor=acme.admin, title="Old", publish=True
    )
    services.article_unpublish(article=article, actor=acme.admin, archive=True)
    owner = Audience.for_member(acme.owner)
    assert not selectors.articles_visible(audience=owner).exists()
    assert selectors.articles_visible(audience=owner, include_unpublished=True).count() == 1


def test_slugs_are_unique_per_organization_and_made_from_titles(acme, globex):
    one = services.article_create(organization=acme.org, actor=None, title="Hello World")
    two = services.article_create(organization=acme.org, actor=None, title="Hello world")
    other = services.article_create(organization=globex.org, actor=None, title="Hello world")
    assert (one.slug, two.slug, other.slug) == ("hello-world", "hello-world-2", "hello-world")
    with pytest.raises(ConflictError):
        services.article_create(organization=acme.org, actor=None, title="x", slug="hello-world")


def test_categories_go_one_level_deep_and_stay_in_their_organization(acme, globex):
    top = services.category_create(organization=acme.org, actor=None, name="Billing")
    section = services.category_create(
        organization=acme.org, actor=None, name="Invoices", parent=top
    )
    with pytest.raises(services.KbError):
        services.category_create(organization=acme.org, actor=None, name="x", parent=section)
    theirs = services.category_create(organization=globex.org, actor=None, name="Theirs")
    with pytest.raises(services.KbError):
        services.category_create(organization=acme.org, actor=None, name="y", parent=theirs)
    with pytest.raises(services.KbError):
        services.article_create(organization=acme.org, actor=None, title="z", category=theirs)


def test_a_hidden_parent_hides_its_sections_articles(acme):
    top = services.category_create(
        organization=acme.org, actor=None, name="Staff", visibility=Visibility.MEMBERS
    )
    section = services.category_create(
        organization=acme.org, actor=None, name="Payroll", parent=top
    )
    article = services.article_create(
        organization=acme.org, actor=None, title="Pay day", category=section, publish=True
    )
    public = Audience.public(acme.org)
    assert not selectors.articles_visible(audience=public).filter(pk=article.pk).exists()
    assert not selectors.categories_visible(audience=public).exists()
    member = Audience.for_member(acme.viewer)
    assert selectors.articles_visible(audience=member).filter(pk=article.pk).exists()


def test_translations_link_to_one_original(acme):
    original = services.article_create(
        organization=acme.org, actor=None, title="Reset password", publish=True
    )
    french = services.article_create(
        organization=acme.org,
        actor=None,
        title="Réinitialiser le mot de passe",
        locale="fr",
        translation_of=original,
        publish=True,
    )
    german = services.article_create(
        organization=acme.org,
        actor=None,
        title="Passwort zurücksetzen",
        locale="de",
        translation_of=french,  # a translation of a translation names the original
        publish=True,
    )
    assert german.translation_of == original
    public = Audience.public(acme.org)
    others = selectors.article_translations(audience=public, article=french)
    assert {a.locale for a in others} == {"en", "de"}


def test_votes_count_and_keep_their_reason(acme):
    article = services.article_create(organization=acme.org, actor=None, title="A", publish=True)
    ledger.feedback_record(article=article, helpful=False, reason="  too   short ")
    ledger.feedback_record(article=article, helpful=True)
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert article.feedback.get(helpful=False).reason == "too short"
