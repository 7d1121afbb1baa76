"""Accounts in a browser: a password reset by mail, the profile, two-factor sign-in, the audit."""

import re
from pathlib import Path

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.conftest import shot
from tests.factories import PASSWORD
from tisket.models import User

LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "a brand new passphrase 42"


def _both_widths(page, name: str) -> None:
    """A screenshot at 1440 px and at 390 px, where nothing may stick out sideways."""
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, f"{name}-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    shot(page, f"{name}-390")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_member_resets_a_forgotten_password_by_mail(acme, login, mailoutbox, live_server):
    page = login(None)
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("agent@acme.test")
    _both_widths(page, "password-reset")
    page.get_by_role("button", name="Mail me a link").click()
    page.get_by_text("Check your mail").wait_for()
    _both_widths(page, "password-reset-sent")

    path = LINK.search(mailoutbox[-1].body).group(1)
    page.goto(path)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    _both_widths(page, "password-reset-choose")
    page.get_by_role("button", name="Set password").click()
    page.get_by_text("Your password is set").wait_for()
    assert User.objects.get(email="agent@acme.test").check_password(NEW_PASSWORD)

    page.goto(path)
    page.get_by_text("This link does not work").wait_for()
    assert page.errors == [] and page.dialogs == []


def test_a_member_edits_their_profile(acme, login):
    page = login(acme.agent)
    page.goto("/acme/")
    page.locator(".usermenu .who").click()
    page.get_by_label("Name").fill("Alex Martin")
    page.get_by_label("Handle").fill("alex")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_label("Signature").fill("Alex\nAcme support")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Profile saved.").wait_for()
    _both_widths(page, "account-profile")
    user = User.objects.get(pk=acme.agent.user.pk)
    assert (user.handle, user.timezone) == ("alex", "Europe/Paris")
    page.get_by_role("link", name="Sessions and tokens").click()
    page.get_by_text("This session").wait_for()
    _both_widths(page, "account-sessions")
    assert page.errors == [] and page.dialogs == []


def test_a_member_turns_on_two_factor_and_signs_in_with_it(acme, login, live_server):
    page = login(acme.agent)
    page.goto("/accounts/two-factor/")
    page.locator(".qr svg").wait_for()
    _both_widths(page, "account-two-factor-setup")
    device = TOTPDevice.objects.get(user=acme.agent.user, confirmed=False)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("Code", exact=True).fill(f"{code:06d}")
    page.get_by_role("button", name="Turn on").click()
    page.get_by_text("Your recovery codes").wait_for()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    _both_widths(page, "account-two-factor-codes")

    fresh = login(None)
    fresh.goto("/accounts/login/")
    fresh.get_by_label("Email").fill("agent@acme.test")
    fresh.get_by_label("Password").fill(PASSWORD)
    fresh.get_by_role("button", name="Log in").click()
    fresh.get_by_text("Type the six-digit code").wait_for()
    _both_widths(fresh, "login-two-factor")
    fresh.get_by_label("Code").fill(codes[0])
    fresh.get_by_role("button", name="Verify").click()
    fresh.wait_for_url(f"{live_server.url}/acme/")
    fresh.get_by_text("You signed in with a recovery code; 9 left.").wait_for()
    assert page.errors == [] and fresh.errors == []


def test_an_admin_reads_and_filters_the_audit_log(acme, login):
    from tisket import services

    services.membership_set_role(membership=acme.agent, role="supervisor", actor=acme.owner)
    services.api_token_create(membership=acme.admin, name="ci", created_by=acme.admin.user)
    page = login(acme.admin)
    page.goto("/acme/settings/")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Audit log").click()
    page.locator("table.audit").get_by_text("Changed a member's role").wait_for()
    _both_widths(page, "settings-audit")
    page.get_by_label("What").select_option("token")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"action=token"))
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 1 and "Created an API token" in rows.first.inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert "token.created" in Path(download.value.path()).read_text()
    assert page.errors == [] and page.dialogs == []


def test_a_supervisor_views_a_conversation_as_its_client(acme, inbox, login):
    from tests.mail import deliver, make_mail

    thread = deliver(make_mail(to=inbox.address, body="My order never arrived.")).thread
    page = login(acme.supervisor)
    page.goto(f"/acme/threads/{thread.reference}/")
    page.get_by_text("View as client").click()
    page.get_by_label("Why? (kept in the audit log)").fill("the client says a reply is missing")
    page.get_by_role("button", name="Open read-only, 30 minutes").click()
    page.get_by_text("Viewing as jane@client.test").wait_for()
    page.get_by_text("My order never arrived.").wait_for()
    assert page.locator("#reply-body").count() == 0  # not the client's own form
    _both_widths(page, "view-as-client")
    page.get_by_role("button", name="Stop viewing").click()
    page.get_by_text("You stopped viewing as the client.").wait_for()
    assert page.errors == [] and page.dialogs == []


def test_a_member_chooses_what_reaches_them_and_reads_the_bell_page_by_page(acme, login):
    from tisket.models import Notification

    Notification.objects.bulk_create(
        Notification(organization=acme.org, recipient=acme.agent, kind="assigned", title=f"N{n}")
        for n in range(120)
    )
    page = login(acme.agent)
    page.goto("/acme/")
    assert page.locator(".bell-count").inner_text() == "99+"
    page.locator(".bell").click()
    page.get_by_text("Page 1 of 3").wait_for()
    page.get_by_role("button", name="Mark read: N119").click()
    page.get_by_role("link", name="Older").click()
    page.get_by_text("Page 2 of 3").wait_for()
    page.get_by_role("link", name="notification settings").click()

    page.get_by_label("Client replied, by email").select_option("queues")
    assert page.get_by_label("SLA breach, by email").locator("option").all_inner_texts() == [
        "Mine",
        "My queues",
        "All",
    ]
    page.get_by_label("Quiet from").fill("22:00")
    page.get_by_label("Quiet until").fill("07:00")
    page.get_by_label("One digest mail a day instead").check()
    _both_widths(page, "notification-preferences")
    page.get_by_role("button", name="Save notifications").click()
    page.get_by_text("Notifications in Acme saved.").wait_for()
    assert page.get_by_label("Client replied, by email").input_value() == "queues"
    acme.agent.refresh_from_db()
    assert acme.agent.email_digest and str(acme.agent.quiet_hours_start) == "22:00:00"
    assert page.errors == [] and page.dialogs == []
