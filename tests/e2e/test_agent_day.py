"""An agent's day in a real browser: the queue, its filters and keys, bulk changes, the SLA
dashboard, the quarantine and the bell. (The conversation has its own browser tests.)"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.factories import always_open_policy
from tests.mail import deliver, make_mail
from tickets import queues, services
from tickets.models import Ticket
from tickets.sla import sla_sweep
from tisket.models import Notification


def _desk(acme, inbox):
    always_open_policy(
        acme.org,
        {
            "normal": {"first_response_minutes": 240, "resolution_minutes": 2880},
            "urgent": {"first_response_minutes": 30, "resolution_minutes": 240},
        },
    )
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    subjects = [
        ("jane@client.test", "Cannot log in since the update"),
        ("bob@buyer.test", "Invoice 2041 charges us twice"),
        ("ana@shop.test", "Export to CSV is empty"),
        ("li@studio.test", "Password reset mail never arrives"),
    ]
    results = [
        deliver(make_mail(to=inbox.address, sender=s, subject=t, message_id=f"<d{n}@x.test>"))
        for n, (s, t) in enumerate(subjects)
    ]
    tickets = [Ticket.objects.get(thread_links__thread=r.thread) for r in results]
    services.ticket_update(ticket=tickets[1], actor=None, priority="urgent", tags=["billing"])
    services.ticket_assign(ticket=tickets[0], assignee=acme.agent, actor=acme.supervisor)
    overdue = tickets[1].created_at - timedelta(minutes=5)  # as if opened long ago
    Ticket.objects.filter(pk=tickets[1].pk).update(
        first_response_due_at=overdue,
        first_response_alert_at=overdue,
        sla_due_at=overdue,
        sla_warn_at=overdue,
    )
    sla_sweep()
    first = results[0]
    deliver(
        make_mail(
            to=inbox.address,
            sender="mallory@evil.test",
            subject=f"Re: [{first.thread.reference}] Cannot log in",
            message_id="<held@evil.test>",
        )
    )
    return results, tickets


def test_the_queue_filters_selects_and_changes_tickets(acme, inbox, login):
    _desk(acme, inbox)
    page = login(acme.agent)
    page.goto("/acme/")
    rows = page.locator("#queue-rows tr.row")
    assert rows.count() == 4
    shot(page, "queue")

    page.select_option("select[name=priority][aria-label=Priority]", "urgent")
    page.wait_for_url("**priority=urgent**")
    assert rows.count() == 1 and "Invoice 2041" in rows.first.inner_text()
    assert "Breached" in rows.first.inner_text()
    page.click("text=Clear")
    page.fill("#queue-search", "CSV")
    page.press("#queue-search", "Enter")
    page.wait_for_url("**q=CSV**")
    assert rows.count() == 1

    page.goto("/acme/?assignee=none")
    assert rows.count() == 2  # the urgent breach went up to a supervisor
    for key in "jxjx":  # whenever the views' counts arrive (their own test below)
        page.keyboard.press(key)
    assert page.locator(".selected-count").inner_text() == "2 selected"
    page.select_option("select[data-action=assignee]", "me")
    page.wait_for_load_state()
    assert "Updated 2 tickets" in page.locator(".messages").inner_text()
    mine = Ticket.objects.filter(assignee=acme.agent).count()
    assert mine == 3

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/acme/")
    shot(page, "queue-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sideways
    for link in page.locator("nav.mainnav a").all():  # every section in sight, none scrolled off
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.errors == [] and page.dialogs == []


def test_saved_view_dashboard_quarantine_and_bell(acme, inbox, login):
    _desk(acme, inbox)
    page = login(acme.agent)
    page.goto("/acme/?priority=urgent")
    page.click("text=Save these filters as a view")
    page.fill("#view-name", "Urgent now")
    page.click("text=Save view")
    assert page.locator(".views a[aria-current=page]").inner_text().startswith("Urgent now")

    page.click("nav.mainnav >> text=SLA")
    assert page.locator(".state.breached .n").inner_text() == "1"
    assert page.locator("svg.chart").count() == 3
    shot(page, "sla-dashboard")

    page.click("nav.mainnav >> text=Quarantine")
    assert "mallory@evil.test" in page.inner_text("table.quarantine")
    shot(page, "quarantine")
    page.click("button:has-text('Release')")
    assert "Released into" in page.locator(".messages").inner_text()

    assert Notification.objects.filter(recipient=acme.agent, read_at__isnull=True).exists()
    assert page.locator(".bell .count").is_visible()
    page.click(".bell")
    page.wait_for_url("**/acme/notifications/**")
    shot(page, "notifications")
    page.locator("button.notice").first.click()
    assert "/acme/tickets/" in page.url or "/acme/threads/" in page.url
    assert page.errors == [] and page.dialogs == []


@pytest.mark.parametrize("counts", ["before the keys", "after the keys"])
def test_the_queue_answers_its_keys_whenever_the_view_counts_arrive(acme, inbox, login, counts):
    _desk(acme, inbox)
    page = login(acme.agent)
    held = []
    if counts == "after the keys":  # the counts' answer waits until the keys are pressed
        page.route(lambda url: "counts=1" in url, lambda route: held.append(route))
    page.goto("/acme/?assignee=none")
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(2)
    if counts == "before the keys":
        expect(page.locator("#count-unassigned")).to_have_text("2")
    else:
        page.wait_for_function("document.readyState === 'complete'")
        expect(page.locator("#count-unassigned")).to_have_text("")
    selected = page.locator(".selected-count")
    current = page.locator("#queue-rows tr.row.is-current")

    for key in "jxjx":
        page.keyboard.press(key)
    expect(selected).to_have_text("2 selected")
    expect(current).to_have_count(1)
    assert current.get_attribute("data-href") == rows.nth(1).get_attribute("data-href")
    page.keyboard.press("k")
    page.keyboard.press("x")
    expect(selected).to_have_text("1 selected")
    assert current.get_attribute("data-href") == rows.nth(0).get_attribute("data-href")
    if counts == "after the keys":
        assert len(held) == 1
        held.pop().continue_()
    expect(page.locator("#count-unassigned")).to_have_text("2")
    expect(selected).to_have_text("1 selected")  # the counts moved nothing
    assert current.get_attribute("data-href") == rows.nth(0).get_attribute("data-href")
    assert rows.nth(1).locator('input[name="thread"]').is_checked()

    page.keyboard.press("/")
    expect(page.locator("#queue-search")).to_be_focused()
    page.keyboard.type("jk")  # typed into the search, not taken as moves
    expect(page.locator("#queue-search")).to_have_value("jk")
    assert current.get_attribute("data-href") == rows.nth(0).get_attribute("data-href")
    page.keyboard.press("Escape")
    expect(page.locator("#queue-search")).not_to_be_focused()
    page.keyboard.press("j")
    assert current.get_attribute("data-href") == rows.nth(1).get_attribute("data-href")
    second = rows.nth(1).get_attribute("data-href")
    page.keyboard.press("o")
    page.wait_for_url(f"**{second}")

    page.go_back()
    expect(rows).to_have_count(2)
    rows.nth(0).locator('input[name="thread"]').click()  # focus on a box: the keys still move
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(current).to_have_count(1)
    first = rows.nth(0).get_attribute("data-href")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{first}")
    assert page.errors == [] and page.dialogs == []
