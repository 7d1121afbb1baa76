"""No agent page scrolls sideways, on a desktop or a 390 px phone, even with a 400-character
subject in the queue, the conversation and the notifications."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from tests.tickets.conversation_seed import seed_conversation
from tickets import services

LONG = "Invoice " + "x" * 392  # 400 characters, one word: nothing to break at


def pages(conv, long_thread) -> list[tuple[str, str]]:
    """Every page an agent or an admin reaches from the menus, by name and address."""
    slug = {"org_slug": "acme"}
    return [
        ("queue", reverse("tickets:queue", kwargs=slug)),
        (
            "conversation",
            reverse("tickets:thread", kwargs={**slug, "thread": conv.thread.reference}),
        ),
        (
            "conversation-long",
            reverse("tickets:thread", kwargs={**slug, "thread": long_thread.reference}),
        ),
        ("new-conversation", reverse("tickets:thread-new", kwargs=slug)),
        ("new-ticket", reverse("tickets:ticket-new", kwargs=slug)),
        ("sla-dashboard", reverse("tickets:sla-dashboard", kwargs=slug)),
        ("reports", reverse("tickets:sla-reports", kwargs=slug)),
        ("clients", reverse("tickets:companies", kwargs=slug)),
        ("client", reverse("tickets:client", kwargs={**slug, "client": conv.thread.client_email})),
        ("quarantine", reverse("tickets:quarantine", kwargs=slug)),
        ("incidents", reverse("tickets:incidents", kwargs=slug)),
        ("sender-rules", reverse("tickets:sender-rules", kwargs=slug)),
        ("notifications", reverse("org:notifications", kwargs=slug)),
        ("members", reverse("org:members", kwargs=slug)),
        *(
            (f"settings-{name}", reverse(f"settings:{name}", kwargs=slug))
            for name in (
                "general",
                "members",
                "inboxes",
                "inbox-new",
                "inbound",
                "suppressions",
                "queues",
                "queue-new",
                "macros",
                "macro-new",
                "categories",
                "sla",
                "policy-new",
                "calendar-new",
                "customer-new",
                "tokens",
            )
        ),
    ]


@pytest.mark.parametrize("width", [1440, 390])
def test_no_agent_page_overflows_sideways(acme, inbox, login, width):
    conv = seed_conversation(acme, inbox)
    long_thread = deliver(make_mail(subject=LONG, message_id="<long@client.test>")).thread
    ticket = long_thread.ticket_link.ticket
    services.ticket_assign(ticket=ticket, assignee=acme.admin, actor=acme.agent)
    services.ticket_note_add(ticket=ticket, body=f"@admin look: {LONG}", actor=acme.agent)
    # A stranger writing into a conversation is held in quarantine, with its long subject.
    deliver(
        make_mail(
            sender="mallory@evil.test",
            subject=f"Re: [{conv.thread.reference}] {LONG}",
            message_id="<held@evil.test>",
        )
    )
    page = login(acme.admin, viewport={"width": width, "height": 900})
    overflowing = []
    for name, url in pages(conv, long_thread):
        response = page.goto(url)
        assert response.status == 200, (name, response.status)
        expect(page.locator("body")).to_be_visible()
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if wide[0] > wide[1]:
            overflowing.append((name, wide))
        if name in ("queue", "notifications", "conversation-long", "sla-dashboard", "quarantine"):
            shot(page, f"width-{width}-{name}")
    # The queue with rows selected: its bulk bar's three menus wrap on a phone.
    page.goto(reverse("tickets:queue", kwargs={"org_slug": "acme"}))
    page.wait_for_load_state("networkidle")
    for key in "jxjx":  # on a phone the boxes are hidden: the keys select
        page.keyboard.press(key)
    expect(page.locator(".bulkbar")).to_be_visible()
    wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1]:
        overflowing.append(("queue-selected", wide))
    assert overflowing == []
    assert page.errors == [] and page.dialogs == []
