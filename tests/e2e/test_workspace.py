"""The agent's workspace in a real browser: a refused reply keeps what was typed and attached,
a failed delivery is unmissable, a ticket-less thread is closed without writing or linked to a
ticket, long subjects and phones never make a page scroll sideways."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.mail import deliver, deliver_without_ticket, make_mail
from tests.tickets.conversation_seed import seed_conversation
from threads.models import Message, OutboundMail, Thread
from tickets import services
from tickets.models import TicketThread

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def test_a_reply_refused_for_a_bad_cc_keeps_its_text_and_files(acme, inbox, login, smtp):
    conv = seed_conversation(acme, inbox)
    page = login(acme.agent, viewport=DESKTOP)
    url = f"/acme/threads/{conv.thread.reference}/"
    page.goto(url)
    page.fill("#reply-cc", "bob@client.test, not-an-address")
    page.fill("#reply-body", "Here are the steps.")
    page.set_input_files(
        "#pane-reply input[type=file]",
        files=[{"name": "steps.txt", "mimeType": "text/plain", "buffer": b"1. Update\n"}],
    )
    page.click("#pane-reply [data-send]")
    expect(page.locator("[data-reply-error]")).to_contain_text("not-an-address")
    assert page.url.endswith(url)
    expect(page.locator("#reply-body")).to_have_value("Here are the steps.")
    expect(page.locator("#reply-cc")).to_have_value("bob@client.test, not-an-address")
    assert page.evaluate("document.querySelector('#pane-reply input[type=file]').files.length") == 1
    shot(page, "reply-refused")
    page.reload()  # the address answers GET
    expect(page.locator("h1")).to_have_text("Cannot log in since this morning")

    page.fill("#reply-cc", "bob@client.test")
    page.fill("#reply-body", "Here are the steps.")
    page.set_input_files(
        "#pane-reply input[type=file]",
        files=[{"name": "steps.txt", "mimeType": "text/plain", "buffer": b"1. Update\n"}],
    )
    page.click("#pane-reply [data-send]")
    page.wait_for_url(re.compile(r"#message-\d+$"))
    reply = Message.objects.filter(thread=conv.thread).latest("id")
    assert list(reply.attachments.values_list("filename", flat=True)) == ["steps.txt"]
    expect(page.locator(f"#message-{reply.pk} .attachments")).to_contain_text("steps.txt")
    # The browser logs the refused post (400) as a failed resource: nothing else went wrong.
    assert [e for e in page.errors if "status of 400" not in e] == [] and page.dialogs == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_failed_delivery_shows_in_the_header_and_the_queue(acme, inbox, login, viewport):
    from threads.outbound import reply_send_skipping_ticket

    conv = seed_conversation(acme, inbox)
    OutboundMail.objects.update(status=OutboundMail.Status.SENT)
    _, row = reply_send_skipping_ticket(thread=conv.thread, author=acme.agent, body="Done.")
    OutboundMail.objects.filter(pk=row.pk).update(
        status=OutboundMail.Status.FAILED, last_error="550 5.1.1 No such user"
    )
    other = deliver(make_mail(subject="Fine", message_id="<fine@client.test>"))
    page = login(acme.agent, viewport=viewport)
    page.goto(f"/acme/threads/{conv.thread.reference}/")
    banner = page.locator("[data-delivery-failed]")
    expect(banner).to_contain_text("Delivery failed")
    expect(banner).to_contain_text("550 5.1.1 No such user")
    name = "desktop" if viewport is DESKTOP else "phone"
    shot(page, f"delivery-failed-{name}")
    page.goto("/acme/")
    page.click("text=Delivery failed")
    expect(page.locator("tr.row")).to_have_count(1)
    expect(page.locator("tr.row")).to_contain_text(conv.thread.subject)
    expect(page.locator("tr.row .badge.danger")).to_have_text("Delivery failed")
    assert other.thread.subject not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"queue-delivery-failed-{name}")
    assert page.errors == [] and page.dialogs == []


def test_an_agent_closes_a_ticketless_thread_without_writing(acme, inbox, login):
    thread = deliver_without_ticket(make_mail(subject="Old conversation")).thread
    page = login(acme.agent, viewport=DESKTOP)
    page.goto(f"/acme/threads/{thread.reference}/")
    expect(page.locator("#side-panel")).to_contain_text("This conversation has no ticket")
    expect(page.locator("#side-panel")).not_to_contain_text("no queue")
    page.select_option("#f-thread-status", "closed")
    page.click("#side-panel >> text=Set status")
    expect(page.locator(".messages")).to_contain_text("Status changed.")
    shot(page, "ticketless-closed")
    thread.refresh_from_db()
    assert thread.status == Thread.Status.CLOSED
    assert not thread.messages.filter(direction="outbound").exists()
    assert page.errors == [] and page.dialogs == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_agent_links_a_ticketless_thread_to_a_ticket_from_its_panel(
    acme, globex, inbox, login, viewport
):
    thread = deliver_without_ticket(make_mail(subject="Printer still jammed")).thread
    printer = services.ticket_create(
        organization=acme.org, subject="Printers of the second floor", actor=None
    )
    services.ticket_create(organization=acme.org, subject="Invoice 2041 twice", actor=None)
    theirs = services.ticket_create(organization=globex.org, subject="Printers", actor=None)
    name = "desktop" if viewport is DESKTOP else "phone"
    page = login(acme.agent, viewport=viewport)
    page.goto(f"/acme/threads/{thread.reference}/")
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Or link it to a ticket")
    page.fill("#f-link-ticket", "printers")
    picks = page.locator("#ticket-picks button.pick")
    expect(picks).to_have_count(1)  # ours alone: the other organization's is never offered
    expect(picks.first).to_contain_text(printer.reference)
    assert theirs.reference not in page.locator("#ticket-picks").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"ticketless-link-pick-{name}")
    picks.first.click()
    expect(page.locator(".messages")).to_contain_text(f"Conversation linked to {printer.reference}")
    expect(panel).not_to_contain_text("This conversation has no ticket")
    page.locator("details.timeline summary").click()
    expect(page.locator("ol.events")).to_contain_text(f"linked the conversation {thread.reference}")
    shot(page, f"ticketless-linked-{name}")
    assert TicketThread.objects.get(thread=thread).ticket == printer
    assert page.errors == [] and page.dialogs == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_agent_mentions_a_colleague_from_the_note_box(acme, inbox, login, viewport):
    from tisket.models import Notification

    conv = seed_conversation(acme, inbox)
    page = login(acme.agent, viewport=viewport)
    page.goto(f"/acme/threads/{conv.thread.reference}/")
    page.click(".composer-tab[data-tab=note]")
    page.locator("#note-body").type("Could @riv")
    options = page.locator("#mention-list [role=option]")
    expect(options).to_have_count(1)
    expect(options).to_contain_text("Sam Rivera")
    name = "desktop" if viewport is DESKTOP else "phone"
    shot(page, f"mention-autocomplete-{name}")
    page.keyboard.press("Enter")
    expect(page.locator("#note-body")).to_have_value("Could @sam.rivera ")
    page.locator("#note-body").type("check the SSO logs?")
    page.click("#pane-note [data-send]")
    page.wait_for_url(re.compile(r"#note-\d+$"))
    notice = Notification.objects.get(recipient=acme.agent2, kind=Notification.Kind.MENTIONED)
    assert notice.title == f"Alex mentioned you on {conv.thread.reference}"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.errors == [] and page.dialogs == []
