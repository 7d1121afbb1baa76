"""An agent's day in a real browser: the queue, its filters and keys, bulk changes, the SLA
dashboard, the quarantine and the bell. (The conversation has its own browser tests.)"""

from datetime import timedelta

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
    page.wait_for_load_state("networkidle")  # the views' counts are fetched after the page
    page.evaluate("document.activeElement.blur()")  # the keys go to the page, not a field
    for box in page.locator('#queue-rows input[name="thread"]').all():
        box.check()
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
