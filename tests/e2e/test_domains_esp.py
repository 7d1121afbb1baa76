"""The Domains page when the installation sets domains up at Postmark (sending, and mail in
through a server of its own), on a desktop and a phone."""

from inboxes.models import MailDomain
from tests.e2e.conftest import shot
from tests.inboxes.conftest import publish, zone  # noqa: F401 (a fixture)
from tests.inboxes.test_esp_domains import postmark  # noqa: F401 (a fixture)


def test_a_new_domain_shows_what_postmark_asks_for(acme, login, postmark):  # noqa: F811
    page = login(acme.admin, viewport={"width": 1440, "height": 900})
    page.goto("/acme/settings/domains/")
    page.get_by_label("Domain").fill("clientcorp.com")
    page.get_by_role("button", name="Add domain").click()
    page.get_by_text("clientcorp.com added").wait_for()
    page.reload()  # Postmark was asked once the domain was stored
    page.get_by_text("pm-bounces.clientcorp.com").first.wait_for()
    assert MailDomain.objects.get().esp_id

    postmark.published.add("clientcorp.com")
    page.get_by_role("button", name="Ask Postmark to check again").click()
    page.get_by_text("Postmark sees every record of clientcorp.com.").wait_for()
    page.locator("h2", has_text="At Postmark").scroll_into_view_if_needed()
    shot(page, "settings:domain-postmark-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "settings:domain-postmark-390")


def test_a_verified_domain_shows_the_mx_record_for_mail_in_through_postmark(
    acme,
    login,
    postmark,  # noqa: F811
    zone,  # noqa: F811
):
    page = login(acme.admin, viewport={"width": 1440, "height": 900})
    page.goto("/acme/settings/domains/")
    page.get_by_label("Domain").fill("clientcorp.com")
    page.get_by_role("button", name="Add domain").click()
    page.get_by_text("clientcorp.com added").wait_for()
    page.get_by_text("Once the domain verifies, Postmark receives its mail too").wait_for()
    domain = MailDomain.objects.get()
    publish(zone, domain, mx=False)
    page.get_by_role("button", name="Check now").click()
    page.get_by_text("clientcorp.com: verified.").wait_for()
    page.reload()  # Postmark was asked for a server once the domain verified
    page.get_by_text("inbound.postmarkapp.com").first.wait_for()
    assert len(postmark.servers) == 1

    zone.mx["clientcorp.com"] = ["inbound.postmarkapp.com"]
    page.get_by_role("button", name="Check now").click()
    page.get_by_text("names Postmark: mail to it reaches Tisket").wait_for()
    page.locator("h3", has_text="Mail in through Postmark").scroll_into_view_if_needed()
    shot(page, "settings:domain-postmark-inbound-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "settings:domain-postmark-inbound-390")
    assert page.errors == [] and page.dialogs == []
