"""The client portal on a phone: sign in by email, the list, a new request, a conversation."""

import re

from playwright.sync_api import expect

from inboxes.services import inbox_create, inbox_update
from kb import services as kb
from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from threads import outbound
from threads.models import Attachment, Message, OutboundMail, Thread
from tickets import queues
from tickets import services as tickets

PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_client_signs_in_sees_their_requests_and_opens_one_on_a_phone(acme, inbox, login):
    inbox_update(inbox=inbox, display_name="Acme Support")
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    earlier = deliver(make_mail(subject="Cannot export my invoices")).thread
    # From now on the inbox acknowledges (once a day per sender, as for mail).
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    outbound.reply_send_skipping_ticket(
        thread=earlier, author=acme.agent, body="Fixed: **try again** now.\n\n- open Billing"
    )
    kb.article_create(
        organization=acme.org,
        actor=None,
        title="Printer prints blank pages",
        body="Check the toner, then print a test page.",
        publish=True,
    )
    billing = inbox_create(organization=acme.org, name="billing", auto_ack_enabled=False)
    inbox_update(inbox=billing, display_name="Billing")
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
    expect(page.get_by_label("What is it about?")).to_have_value(str(inbox.pk))
    page.get_by_label("What is it about?").select_option(label="Billing")
    page.get_by_label("What is it about?").select_option(label="Acme Support")
    page.get_by_label("Subject").press_sequentially("The printer prints blank pages")
    suggestion = page.locator(".c-suggest-list a", has_text="Printer prints blank pages")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_have_attribute("target", "_blank")
    page.get_by_label("Your message").fill("Since this morning **every** page comes out blank.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#request-body-preview strong")).to_have_text("every")
    page.set_input_files(
        "#request-files",
        files=[{"name": "test-page.txt", "mimeType": "text/plain", "buffer": b"blank\n"}],
    )
    no_sideways_scroll(page)
    shot(page, "portal-new-request")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".messages")).to_contain_text("We received your request")
    thread = Thread.objects.get(subject="The printer prints blank pages")
    assert thread.inbox_id == inbox.pk
    expect(page.locator("h1")).to_have_text("The printer prints blank pages")
    expect(page.locator(".c-msg.theirs .c-rich strong")).to_have_text("every")
    expect(page.locator(".c-files")).to_contain_text("test-page.txt")
    assert Attachment.objects.filter(message__thread=thread).count() == 1
    assert OutboundMail.objects.filter(thread=thread, kind="auto_ack").count() == 1

    page.get_by_role("link", name="My requests").click()
    # Shown a moment, the page tells the desk its replies were read (a mail scanner's
    # GET of the link would not).
    with page.expect_response(lambda r: r.url.endswith("/read/") and r.status == 204):
        page.locator(".c-request a", has_text="Cannot export my invoices").click()
    expect(page.locator(".c-rich strong")).to_have_text("try again")
    expect(page.locator(".c-rich li")).to_have_text("open Billing")
    ticket = earlier.ticket_link.ticket
    for status in ("waiting_on_customer", "resolved"):
        tickets.ticket_set_status(ticket=ticket, status=status, actor=acme.agent)
    page.reload()
    expect(page.locator(".c-timeline li")).to_have_count(3)
    expect(page.locator(".c-timeline")).to_contain_text("Waiting on you")
    expect(page.locator(".c-timeline li").last).to_contain_text("Resolved")
    no_sideways_scroll(page)
    shot(page, "portal-conversation")
    reply = Message.objects.filter(thread=earlier, direction="outbound").order_by("id").first()
    assert reply.client_read_by == "jane@client.test"
    assert page.errors == []
    assert page.dialogs == []
