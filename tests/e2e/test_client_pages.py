"""The client's page in a real browser: open the link of our mail, read, reply, rate."""

import re

import pytest
from playwright.sync_api import expect

from inboxes.services import inbox_update
from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from threads import outbound
from threads.client_access import client_link_token
from threads.models import Message
from tickets import queues
from tickets import services as tickets
from tickets.models import Rating, Ticket


@pytest.fixture
def conversation(acme, inbox):
    inbox_update(inbox=inbox, display_name="Acme Support")
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    thread = deliver(
        make_mail(
            subject="Cannot export my invoices",
            body="Hello,\n\nthe export button on the billing page does nothing since "
            "yesterday. I need the invoices of March for our accountant.\n\nThanks, Jane",
        )
    ).thread
    outbound.reply_send_skipping_ticket(
        thread=thread,
        author=acme.agent,
        body="Hi Jane,\n\nthanks for the report. We found the cause: a timeout on large "
        "accounts. Could you try again now and tell us whether the file arrives?\n\nBest, Sam",
    )
    tickets.ticket_note_add(
        ticket=thread.ticket_link.ticket, body="NOTE-e2e-55a1 refund if angry", actor=acme.agent
    )
    return thread


def test_a_client_reads_replies_and_rates_from_the_link(conversation, login):
    thread = conversation
    token = client_link_token(thread=thread, email="jane@client.test")
    page = login(None)
    page.goto(f"/c/{token}/")
    expect(page.locator("h1")).to_have_text("Cannot export my invoices")
    expect(page.locator(".c-brand")).to_contain_text("Acme Help")  # the help centre's title
    expect(page.locator(".c-msg")).to_have_count(2)
    expect(page.locator(".c-msg").nth(1)).to_contain_text("a timeout on large accounts")
    expect(page.locator("body")).not_to_contain_text("NOTE-e2e-55a1")
    shot(page, "client-page")

    page.fill("textarea[name=body]", "It works now, the file arrived. Thank you!")
    page.click("button:has-text('Send reply')")
    expect(page.locator(".messages")).to_contain_text("Your message was sent")
    expect(page.locator(".c-msg")).to_have_count(3)
    expect(page.locator(".c-msg").last).to_contain_text("the file arrived")
    assert Message.objects.filter(thread=thread, direction="inbound").count() == 2

    ticket = thread.ticket_link.ticket
    ticket.refresh_from_db()
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=None)
    page.reload()
    expect(page.locator("[data-status]")).to_have_text("Resolved")
    expect(page.locator("#rating h2")).to_have_text("How did we do?")
    page.click("label[for=score-5]")
    page.fill("textarea[name=comment]", "Fast and friendly.")
    shot(page, "client-rating")
    page.click("button:has-text('Send rating')")
    expect(page.locator("#rating")).to_contain_text("You rated our help 5 out of 5")
    assert Rating.objects.get().score == 5
    assert page.errors == []
    assert page.dialogs == []


def test_the_page_reads_well_on_a_phone_and_a_bad_link_is_kind(conversation, login):
    token = client_link_token(thread=conversation, email="jane@client.test")
    page = login(None)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/c/{token}/")
    expect(page.locator(".c-msg")).to_have_count(2)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways
    page.goto(f"/c/{token[:-4]}abcd/")
    expect(page.locator("h1")).to_have_text(re.compile("not valid"))
    expect(page.locator("body")).to_contain_text("Reply to the last email")
    card = page.locator(".c-notice")
    assert card.evaluate("e => getComputedStyle(e).textAlign") == "center"  # styled
    # The one error is the page's own status: a bad link is a 404.
    assert page.errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    assert page.dialogs == []
