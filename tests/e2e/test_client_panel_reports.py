"""The client panel and the reports in a real browser, on a desktop and a 390 px phone: the
client's name in a conversation opens their page, their company opens its page, and the
reports page draws every chart with its numbers and a CSV link."""

from playwright.sync_api import expect

from sla import services as sla_services
from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from tests.tickets.conversation_seed import seed_conversation
from tests.tickets.report_seed import seed_reports

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
SIDEWAYS = "document.documentElement.scrollWidth > document.documentElement.clientWidth"


def test_the_clients_name_opens_their_page_and_their_companys(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    for n, subject in enumerate(["Export to CSV fails", "Invoice for March"]):
        deliver(
            make_mail(
                to=inbox.address,
                sender="Jane Client <jane@client.test>",
                subject=subject,
                message_id=f"<more-{n}@client.test>",
            )
        )
    deliver(
        make_mail(
            to=inbox.address,
            sender="Bob Buyer <bob@client.test>",
            subject="Two seats more",
            message_id="<bob@client.test>",
        )
    )
    policy = conv.ticket.sla_policy
    company = sla_services.customer_save(
        organization=acme.org, name="Client & Co", policy=policy, domains=["client.test"]
    )
    page = login(acme.agent, viewport=DESKTOP)
    page.goto(f"/acme/threads/{conv.thread.reference}/")
    page.locator(".convo-meta a.client-link").click()
    expect(page.locator("h1.client-name")).to_contain_text("Jane Client")
    expect(page.locator("table.client-conversations tbody tr")).to_have_count(3)
    expect(page.locator("#client-company")).to_contain_text("Client & Co")
    shot(page, "client-desktop")
    page.set_viewport_size(PHONE)
    assert not page.evaluate(SIDEWAYS)
    shot(page, "client-phone")

    page.set_viewport_size(DESKTOP)
    page.locator("#client-company a").click()
    expect(page.locator("h1")).to_have_text("Client & Co")
    expect(page.locator("#company-tier")).to_contain_text(policy.name)
    expect(page.locator("table.client-conversations tbody tr")).to_have_count(4)
    expect(page.locator(".company-clients")).to_contain_text("bob@client.test")
    shot(page, "company-desktop")
    page.set_viewport_size(PHONE)
    assert not page.evaluate(SIDEWAYS)
    shot(page, "company-phone")
    page.goto("/acme/clients/")
    expect(page.locator(f"a[href='/acme/clients/companies/{company.pk}/']")).to_be_visible()
    assert not page.evaluate(SIDEWAYS)
    assert page.errors == [] and page.dialogs == []


def test_the_reports_page_draws_every_report_with_its_numbers(acme, login):
    seed_reports(acme)
    page = login(acme.supervisor, viewport=DESKTOP)
    page.goto("/acme/reports/?from=2026-03-01&to=2026-03-04")
    for report in ("resolved", "breaches", "tiers", "companies", "csat"):
        section = page.locator(f"#report-{report}")
        expect(section.locator("svg.chart")).to_be_visible()
        expect(section.locator("table").first).to_be_visible()
        expect(section.locator("a.csv")).to_have_attribute(
            "href", f"/acme/reports/{report}.csv?from=2026-03-01&to=2026-03-04"
        )
    expect(page.locator("#report-breaches h2")).to_contain_text("3")
    shot(page, "reports-desktop")
    with page.expect_download() as download:
        page.locator("#report-breaches a.csv").click()
    assert download.value.suggested_filename == "acme-breaches-20260301-20260304.csv"

    page.select_option("select[name=priority]", "high")
    page.locator(".report-filters button").click()
    expect(page.locator("#report-breaches h2")).to_contain_text("1")
    page.set_viewport_size(PHONE)
    assert not page.evaluate(SIDEWAYS)
    shot(page, "reports-phone")
    assert page.errors == [] and page.dialogs == []
