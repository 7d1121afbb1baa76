"""The settings pages in a real browser: invite a member, tune an inbox, create an SLA policy."""

import re

from inboxes.models import Inbox
from inboxes.services import inbox_create
from sla import services as sla_services
from sla.models import SlaPolicy
from tests.e2e.conftest import shot
from tests.factories import PASSWORD
from threads.models import OutboundMail
from tisket.models import Membership, Role

LINK = re.compile(r"https?://[^/\s]+(/accounts/invitations/[\w-]+/)")


def _fits_a_phone(page) -> None:
    """At 390 px wide, nothing of the page sticks out sideways (lists scroll in their panel)."""
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_admin_invites_a_member_who_accepts_and_joins(acme, login, live_server):
    page = login(acme.admin)
    page.goto("/acme/")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Members").click()
    page.get_by_label("Email").fill("casey@example.com")
    page.get_by_label("Role", exact=True).select_option("supervisor")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent to casey@example.com.").wait_for()
    assert page.locator("table.list.compact").get_by_text("casey@example.com").is_visible()
    shot(page, "settings:members")
    _fits_a_phone(page)

    text = OutboundMail.objects.get(to=["casey@example.com"]).text
    path = LINK.search(text).group(1)
    newcomer = login(None)
    newcomer.goto(path)
    newcomer.get_by_text("Create your account to join.").wait_for()
    newcomer.get_by_label("Your name").fill("Casey Jones")
    newcomer.get_by_label("Password", exact=True).fill(PASSWORD)
    newcomer.get_by_label("Password, again").fill(PASSWORD)
    newcomer.get_by_role("button", name="Create account and join").click()
    newcomer.wait_for_url(f"{live_server.url}/acme/")
    newcomer.get_by_text("Welcome to Acme.").wait_for()
    membership = Membership.objects.get(organization=acme.org, user__email="casey@example.com")
    assert membership.role == Role.SUPERVISOR

    # The link is spent: opening it again says so, as 410 Gone.
    again = login(None)
    assert again.goto(path).status == 410
    again.get_by_text("This invitation was used already.").wait_for()
    assert [e for e in again.errors if "410 (Gone)" not in e] == []
    for each in (page, newcomer, again):
        assert each.dialogs == []
    assert page.errors == [] and newcomer.errors == []


def test_an_admin_changes_an_inboxs_colour_and_acknowledgement(acme, login):
    inbox = inbox_create(organization=acme.org, name="support", display_name="Acme Support")
    page = login(acme.admin)
    page.goto("/acme/settings/inboxes/")
    page.get_by_role("link", name="Acme Support").click()
    page.get_by_label("Colour").fill("#0e9384")
    page.get_by_label("Acknowledgement text").fill(
        "Hello {{ client_name }}, we got your mail and answer within a day."
    )
    # Only the chosen transport's settings show.
    assert page.get_by_label("SMTP host").is_hidden()
    page.get_by_label("Its own SMTP server").check()
    assert page.get_by_label("SMTP host").is_visible()
    page.get_by_label("The installation's default").check()
    page.get_by_role("button", name="Save inbox").click()
    page.get_by_text("Inbox support saved.").wait_for()
    inbox.refresh_from_db()
    assert inbox.color == "#0e9384"
    assert inbox.auto_ack_text.startswith("Hello {{ client_name }}")

    page.get_by_role("link", name="Acme Support").click()
    page.get_by_role("button", name="Fetch now").click()
    page.locator("#imap-result .check-result.fail").wait_for()
    assert "no IMAP mailbox" in page.locator("#imap-result").inner_text()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar belongs at the top of the shot
    shot(page, "settings:inbox")
    _fits_a_phone(page)
    assert Inbox.objects.get(pk=inbox.pk).transport == "default"
    assert page.errors == [] and page.dialogs == []


def test_an_admin_creates_an_sla_policy(acme, login):
    calendar = sla_services.calendar_create(
        organization=acme.org, name="Paris office", timezone_name="Europe/Paris"
    )
    sla_services.calendar_import_holidays(calendar=calendar, country="FR", years=[2026])
    sla_services.calendar_create(organization=acme.org, name="Around the clock", always_open=True)
    gold = sla_services.policy_create(
        organization=acme.org,
        name="Enterprise",
        calendar=calendar,
        targets={
            "urgent": {"first_response_minutes": 15, "resolution_minutes": 240},
            "high": {"first_response_minutes": 60},
        },
    )
    sla_services.customer_save(
        organization=acme.org, name="Initech", policy=gold, domains=["initech.com"]
    )
    page = login(acme.admin)
    page.goto("/acme/settings/sla/")
    page.get_by_role("link", name="New policy").click()
    page.get_by_label("Name").fill("Standard")
    page.get_by_label("Calendar").select_option(label="Paris office")
    page.get_by_label("Default policy").check()
    page.get_by_label("Urgent first response").fill("30m")
    page.get_by_label("Urgent resolution").fill("4h")
    page.get_by_label("High first response").fill("2 hours")  # not a duration
    page.get_by_role("button", name="Create policy").click()
    page.get_by_text("is not a duration").wait_for()
    assert not SlaPolicy.objects.filter(name="Standard").exists()
    page.get_by_label("High first response").fill("2h")
    page.get_by_label("Normal resolution").fill("1d")
    page.get_by_role("button", name="Create policy").click()
    page.get_by_text("Policy Standard created.").wait_for()

    policy = SlaPolicy.objects.get(organization=acme.org, name="Standard")
    assert policy.is_default
    assert {t.priority: t.first_response_minutes for t in policy.targets.all()} == {
        "urgent": 30,
        "high": 120,
        "normal": None,
    }
    card = page.locator(".policy-card", has_text="Standard")
    assert "4h" in card.inner_text() and "Default" in card.inner_text()
    shot(page, "settings:sla")
    _fits_a_phone(page)
    assert page.errors == [] and page.dialogs == []
