"""The mail branding editor in a real browser: the preview follows what the admin types, the
test mail leaves, and each mail type's HTML part as Chromium renders it (var/screenshots/mail/)."""

import struct
import zlib

from playwright.sync_api import expect

from kb.centre import help_centre_update, kb_file_upload
from tests.e2e.conftest import SCREENSHOTS, shot
from threads.models import OutboundMail
from tisket.branding.models import MailBranding
from tisket.branding.services import mail_branding_set
from tisket.branding.types import MAIL_TYPES

PAGE = "/acme/settings/branding/"


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain PNG of one colour, made here: the logo of the made-up organization."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _logo(acme) -> None:
    logo = kb_file_upload(
        organization=acme.org,
        actor=acme.admin,
        name="logo.png",
        content=_png(64, 64, (250, 244, 230)),
        image_only=True,
    )
    help_centre_update(organization=acme.org, actor=acme.admin, logo=logo)


def test_the_preview_follows_the_form_and_a_test_mail_leaves(acme, login, live_server, settings):
    settings.SITE_URL = live_server.url
    _logo(acme)
    page = login(acme.admin)
    page.goto("/acme/settings/")
    page.get_by_role("navigation", name="Settings").get_by_role(
        "link", name="Mail branding"
    ).click()
    frame = page.frame_locator(".mail-preview-frame")
    expect(frame.locator("h1")).to_have_text("Thanks for writing to Acme")
    page.get_by_label("Sender name").fill("Acme Care Team")
    page.get_by_label("Postal address").fill("1 Main Street\n75001 Paris")
    page.get_by_label("Acknowledgement: heading").fill("Thanks, {{ recipient }}")
    expect(frame.locator("h1")).to_have_text(f"Thanks, {acme.admin.user.email}")
    expect(frame.locator(".footer, td").last).to_contain_text("75001 Paris")
    expect(frame.locator("img")).to_have_count(1)  # the help centre's logo
    page.get_by_label("Preview").select_option("reply")
    expect(frame.locator("strong").first).to_have_text("4.2")
    expect(frame.get_by_text("Acme Care Team · 1 Main Street · 75001 Paris")).to_be_visible()
    expect(page.locator(".text-part pre")).to_contain_text("update the driver to **4.2**")
    shot(page, "settings:branding")

    # Hostile wording: the preview says why and the save refuses it.
    page.get_by_label("Invitation: heading").fill("{% include 'x' %}")
    expect(page.locator("#mail-preview .field-error").first).to_be_visible()
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator(".field-error").first).to_contain_text("tags are not allowed")
    assert not MailBranding.objects.filter(organization=acme.org).exists()
    page.get_by_label("Invitation: heading").fill("Join {{ organization.name }}")

    page.get_by_role("button", name="Send me a test").click()
    expect(page.locator(".messages")).to_contain_text("on its way")
    test = OutboundMail.objects.get(mail_type="test")
    assert test.to == [acme.admin.user.email] and "Acme Care Team" in test.html
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator(".messages")).to_contain_text("Mail branding saved.")
    assert MailBranding.objects.get(organization=acme.org).sender_name == "Acme Care Team"

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "settings:branding-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.errors == [] and page.dialogs == []


def test_each_mail_types_html_part_as_chromium_renders_it(acme, login, live_server, settings):
    settings.SITE_URL = live_server.url
    _logo(acme)
    mail_branding_set(
        organization=acme.org,
        actor=acme.admin,
        colour="#1d5c8f",
        sender_name="Acme Support",
        postal_address="Acme Ltd\n1 Main Street\n75001 Paris, France",
        wording={},
    )
    (SCREENSHOTS / "mail").mkdir(parents=True, exist_ok=True)
    page = login(acme.admin)
    for key in MAIL_TYPES:
        for width in (1440, 390):
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(f"{PAGE}mail/?type={key}")
            assert response.status == 200
            # A whole document with its doctype: Chromium renders it in standards mode.
            assert page.evaluate("document.compatMode") == "CSS1Compat"
            # Nothing sticks out sideways, at either width.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            shot(page, f"mail/{key}-{width}")
    page.emulate_media(color_scheme="dark")
    for key in ("acknowledgement", "reply"):
        page.set_viewport_size({"width": 390, "height": 900})
        page.goto(f"{PAGE}mail/?type={key}")
        shot(page, f"mail/{key}-390-dark")
    assert page.errors == []
