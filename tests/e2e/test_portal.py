"""The client portal on a phone: sign in by email, the list, a new request, a conversation."""

import re

from playwright.sync_api import expect

from inboxes.services import inbox_update
from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from threads import outbound
from threads.models import Attachment, Message, OutboundMail, Thread
from tickets import services as tickets

PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_client_signs_in_sees_their_requests_and_opens_one_on_a_phone(acme, inbox, login):
    inbox_update(inbox=inbox, display_name="Acme Support")
    tickets.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    earlier = deliver(make_mail(subject="Cannot export my invoices")).thread
    # From now on the inbox acknowledges (once a day per sender, as for mail).
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    outbound.reply_send_skipping_ticket(
        thread=earlier, author=acme.agent, body="Fixed: **try again** now.\n\n- open Billing"
    )
    page = login(None, viewport=PHONE)

    page.goto("/hc/acme/requests/")
    expect(page).to_have_url(re.compile(r"/hc/acme/requests/sign-in/$"))
    page.get_by_label("Email address").fill("jane@client.test")
    no_sideways_scroll(page)
    shot(page, "portal-sign-in")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("h1")).to_have_text("Check your mail")

    mail = OutboundMail.objects.get(to=["jane@client.test"], kind="notification")
    link = re.search(r"https?://[^/\s]+(/hc/acme/requests/sign-in/\S+/)", mail.text).group(1)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Your requests")
    row = page.locator(".c-request", has_text="Cannot export my invoices")
    expect(row).to_contain_text("New reply")
    expect(row.locator("[data-status]")).to_have_text("New")
    no_sideways_scroll(page)
    shot(page, "portal-requests")

    page.get_by_role("link", name="New request", exact=True).first.click()
    page.get_by_label("Subject").fill("The printer prints blank pages")
    page.get_by_label("Your message").fill("Since this morning every page comes out blank.")
    page.set_input_files(
        "#request-files",
        files=[{"name": "test-page.txt", "mimeType": "text/plain", "buffer": b"blank\n"}],
    )
    no_sideways_scroll(page)
    shot(page, "portal-new-request")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".messages")).to_contain_text("We received your request")
    thread = Thread.objects.get(subject="The printer prints blank pages")
    expect(page.locator("h1")).to_have_text("The printer prints blank pages")
    expect(page.locator(".c-files")).to_contain_text("test-page.txt")
    assert Attachment.objects.filter(message__thread=thread).count() == 1
    assert OutboundMail.objects.filter(thread=thread, kind="auto_ack").count() == 1

    page.get_by_role("link", name="My requests").click()
    page.locator(".c-request a", has_text="Cannot export my invoices").click()
    expect(page.locator(".c-rich strong")).to_have_text("try again")
    expect(page.locator(".c-rich li")).to_have_text("open Billing")
    no_sideways_scroll(page)
    shot(page, "portal-conversation")
    reply = Message.objects.get(thread=earlier, direction="outbound")
    assert reply.client_read_by == "jane@client.test"
    assert page.errors == []
    assert page.dialogs == []
