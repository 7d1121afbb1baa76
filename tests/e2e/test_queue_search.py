"""The queue in a real browser: search over what was written, sorting, view counts, unread
rows and the client-replied marker; on a phone each row keeps its status and assignee."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from tickets import queues, services
from tickets.models import Ticket

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def seed(acme, inbox):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    rows = [
        ("Coffee machine", "Le café était froid ce matin.", "Renée Dupont <renee@client.test>"),
        ("Printer jammed", "The printer jammed on page two.", "Ana <ana@client.test>"),
        ("Invoice question", "Where is my invoice for March?", "Bo <bo@client.test>"),
    ]
    results = [
        deliver(make_mail(to=inbox.address, subject=s, body=b, sender=f, message_id=f"<e{n}@c>"))
        for n, (s, b, f) in enumerate(rows)
    ]
    tickets = [Ticket.objects.get(thread_links__thread=r.thread) for r in results]
    services.ticket_assign(ticket=tickets[0], assignee=acme.agent, actor=None)
    services.ticket_assign(ticket=tickets[2], assignee=acme.agent2, actor=None)
    services.ticket_update(ticket=tickets[1], actor=None, priority="urgent", tags=["hardware"])
    services.ticket_note_add(ticket=tickets[2], body="Finance says: sent Tuesday", actor=acme.agent)
    services.thread_reply_send(thread=results[1].thread, author=acme.agent, body="Looking.")
    return results


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_queue_searches_sorts_counts_and_marks_unread(acme, inbox, login, viewport):
    results = seed(acme, inbox)
    page = login(acme.agent, viewport=viewport)
    name = "desktop" if viewport is DESKTOP else "phone"
    page.goto("/acme/")
    expect(page.locator("#count-unresolved")).to_have_text("3")
    expect(page.locator("#count-mine")).to_have_text("1")
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(3)
    expect(page.locator("tr.is-unread")).to_have_count(3)
    coffee = rows.filter(has_text="Coffee machine")
    expect(coffee.locator(".badge.replied")).to_be_visible()
    expect(rows.filter(has_text="Printer jammed").locator(".badge.replied")).to_have_count(0)
    shot(page, f"queue-unread-{name}")
    # Each row keeps its status and its assignee in sight, on a phone too.
    expect(coffee.locator("td.state .status")).to_be_visible()
    expect(coffee.locator("td.assignee")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"queue-unread-{name}")

    page.fill("#queue-search", "CAFE etait")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Coffee machine")
    page.fill("#queue-search", "finance status:new")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Invoice question")
    shot(page, f"queue-search-{name}")
    page.fill("#queue-search", "before:someday")
    page.keyboard.press("Enter")
    expect(page.locator(".form-error")).to_contain_text("before:someday is not a date")

    page.goto("/acme/?sort=priority")
    expect(rows.first).to_contain_text("Printer jammed")
    if viewport is DESKTOP:
        page.click("th[aria-sort] a")  # the same column, the other way
        expect(rows.last).to_contain_text("Printer jammed")
        shot(page, "queue-sorted-desktop")

    page.goto(f"/acme/threads/{results[0].thread.reference}/")
    expect(page.locator("h1")).to_contain_text("Coffee machine")
    page.wait_for_timeout(0)
    page.goto("/acme/")
    expect(page.locator("tr.is-unread")).to_have_count(2)
    assert page.errors == [] and page.dialogs == []
