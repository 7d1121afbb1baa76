"""The knowledge base in a real browser: the help centre on a desktop and a phone, the
editor, and the agent's Knowledge panel."""

import pytest
from playwright.sync_api import expect

from interface.demo_kb import demo_knowledge_base
from kb.models import Article, Feedback
from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def articles(acme):
    demo_knowledge_base(acme.org)
    return acme


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_visitor_searches_as_they_type_reads_and_votes(articles, login):
    page = login(None, viewport=DESKTOP)
    page.goto("/hc/acme/")
    expect(page.locator("h1")).to_have_text("How can we help?")
    expect(page.locator(".hc-cards")).to_contain_text("Account and billing")
    expect(page.locator(".hc-cards")).not_to_contain_text("Agent playbooks")
    page.locator("#hc-q").press_sequentially("money back", delay=30)
    expect(page.locator("#hc-suggest")).to_contain_text("Refund policy")
    shot(page, "help-centre")
    page.locator("#hc-suggest a", has_text="Refund policy").click()
    expect(page.locator("h1")).to_have_text("Refund policy")
    expect(page.locator(".hc-crumbs")).to_contain_text("Account and billing")
    expect(page.locator(".hc-related")).to_be_visible()
    page.click("button:has-text('Yes')")
    expect(page.locator("#hc-feedback")).to_contain_text("Thanks for telling us")
    assert Feedback.objects.get().helpful is True
    shot(page, "help-article")
    assert page.errors == []


@pytest.mark.parametrize("path", ["/hc/acme/", "/hc/acme/a/change-your-payment-card/"])
def test_the_help_centre_reads_on_a_phone(articles, login, path):
    page = login(None, viewport=PHONE)
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    assert no_sideways_scroll(page)
    name = "help-centre-phone" if path == "/hc/acme/" else "help-article-phone"
    shot(page, name)


def test_an_editor_writes_previews_and_publishes(articles, login):
    acme = articles
    page = login(acme.admin, viewport=DESKTOP)
    page.goto("/acme/kb/articles/new/")
    page.fill("#id_title", "Pay by bank transfer")
    page.fill("#id_body", "Use the **invoice number** as the reference.")
    page.click("button:has-text('Preview')")
    expect(page.locator("#kb-preview strong")).to_have_text("invoice number")
    page.select_option("#id_category", label="Account and billing")
    shot(page, "kb-editor")
    page.click("button:has-text('Save and publish')")
    expect(page.locator(".messages")).to_contain_text("Published")
    article = Article.objects.get(title="Pay by bank transfer")
    assert article.is_live
    page.click("a:has-text('Revisions')")
    expect(page.locator(".kb-revs li")).to_have_count(2)
    expect(page.locator(".kb-diff")).to_be_visible()
    page.goto("/hc/acme/a/pay-by-bank-transfer/")
    expect(page.locator(".hc-body strong")).to_have_text("invoice number")
    assert page.errors == []


def test_the_agent_inserts_a_suggested_article_into_the_reply(articles, inbox, login):
    acme = articles
    thread = deliver(
        make_mail(subject="Locked out", body="I forgot my password and cannot sign in.")
    ).thread
    page = login(acme.agent, viewport=DESKTOP)
    page.goto(f"/acme/threads/{thread.reference}/")
    panel = page.locator("#knowledge")
    expect(panel).to_contain_text("Reset your password")
    panel.locator("li", has_text="Reset your password").locator(
        "button:has-text('Insert link')"
    ).click()
    expect(page.locator("#reply-body")).to_have_value(
        __import__("re").compile(r"\[Reset your password\]\(http")
    )
    shot(page, "knowledge-panel")
    assert page.errors == []
