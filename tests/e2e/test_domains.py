"""The Domains page in a real browser: add clientcorp.com, publish, check, send from it."""

from inboxes.models import InboxAddress, MailDomain
from inboxes.services import inbox_create
from tests.e2e.conftest import shot
from tests.inboxes.conftest import MX_HOST, publish, zone  # noqa: F401 (a fixture)


def test_an_admin_verifies_a_domain_and_sends_from_it(acme, login, zone):  # noqa: F811
    inbox = inbox_create(organization=acme.org, name="support", display_name="Acme Support")
    page = login(acme.admin, viewport={"width": 1440, "height": 900})
    page.goto("/acme/settings/domains/")
    page.get_by_label("Domain").fill("clientcorp.com")
    page.get_by_role("button", name="Add domain").click()
    page.get_by_text("clientcorp.com added").wait_for()
    domain = MailDomain.objects.get()
    # Before the records exist, the check says what to publish, in words.
    page.get_by_role("button", name="Check now").click()
    page.get_by_text("No TXT record at _tisket.clientcorp.com yet").wait_for()
    assert domain.ownership_record_value in page.content()

    publish(zone, domain)
    zone.txt["clientcorp.com"] = "v=spf1 mx -all"  # an SPF record without the relay
    page.get_by_role("button", name="Check now").click()
    page.get_by_text("clientcorp.com: verified.").wait_for()
    InboxAddress.objects.create(inbox=inbox, address="support@clientcorp.com")
    page.reload()
    page.get_by_role("button", name="Send from it").click()
    page.get_by_text("support sends from support@clientcorp.com.").wait_for()
    inbox.refresh_from_db()
    assert inbox.from_address == "support@clientcorp.com"
    assert "PRIVATE" not in page.content()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "settings:domain-1440")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sideways
    shot(page, "settings:domain-390")
    page.goto("/acme/settings/domains/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "settings:domains-390")
    assert page.errors == [] and page.dialogs == []
