"""The demo in a real browser: its main pages at 1440 and 390 px, with every kind of
conversation in them (these are the README's screenshots)."""

from io import StringIO

from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from threads.models import Thread
from tisket.models import Membership

SIDEWAYS = "document.documentElement.scrollWidth > document.documentElement.clientWidth"


def test_the_demos_pages_show_its_work(db, login):
    call_command("demo", stdout=StringIO())
    supervisor = Membership.objects.select_related("user").get(user__email="sky@acme.test")
    thread = Thread.objects.get(subject="The mobile app crashes on start")
    for width in (1440, 390):
        _walk(login(supervisor, viewport={"width": width, "height": 900}), thread, width)


def _walk(page, thread, width: int) -> None:
    pages = [
        ("queue", "/acme/", "table.queue"),
        ("conversation", f"/acme/threads/{thread.reference}/", ".convo"),
        ("sla-dashboard", "/acme/sla/", ".states"),
        ("reports", "/acme/reports/", "#report-csat"),
        ("client", f"/acme/clients/{thread.client_email}/", "h1.client-name"),
        ("companies", "/acme/clients/", "table.companies"),
        ("incidents", "/acme/incidents/", ".incident"),
        ("quarantine", "/acme/quarantine/", "main"),
    ]
    for name, url, selector in pages:
        assert page.goto(url).status == 200, name
        expect(page.locator(selector).first).to_be_visible()
        assert not page.evaluate(SIDEWAYS), name
        shot(page, f"demo-{name}-{width}")
    page.goto("/acme/?sla=breached")
    expect(page.locator("table.queue tbody tr").first).to_be_visible()
    page.goto("/acme/?status=all")
    page.select_option("select[name=category]", "Billing")  # the demo files its tickets
    page.wait_for_url("**category=Billing**")
    rows = page.locator("#queue-rows tr.row")
    expect(rows.filter(has_text="Invoice 2041 charges us twice").first).to_be_visible()
    expect(rows.filter(has_text="Dark mode?")).to_have_count(0)
    shot(page, f"demo-queue-category-{width}")
    assert page.errors == [] and page.dialogs == []
