"""The client pages in the organization's branding, on a desktop and on a phone."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.tickets.test_client_brand import brand
from tests.tickets.test_portal import JANE, conversation
from threads.client_access import client_link_url
from threads.models import OutboundMail

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", SIZES)
def test_the_portal_and_a_mails_link_wear_the_organizations_branding(acme, inbox, login, size):
    brand(acme)
    thread = conversation(acme)
    page = login(None, viewport=SIZES[size])

    page.goto("/hc/acme/requests/sign-in/")
    logo = page.locator(".c-top img.c-logo")
    expect(logo).to_be_visible()
    assert page.evaluate("document.querySelector('.c-top img.c-logo').naturalWidth") == 96
    expect(page.locator(".c-top")).to_contain_text("Acme Care")
    button = page.get_by_role("button", name="Email me a sign-in link")
    expect(button).to_have_css("background-color", "rgb(200, 40, 90)")
    shot(page, f"portal-brand-sign-in-{size}")

    page.get_by_label("Email address").fill(JANE)
    button.click()
    mail = OutboundMail.objects.get(to=[JANE], kind="notification")
    link = re.search(r"https?://[^/\s]+(/hc/acme/requests/sign-in/\S+/)", mail.text).group(1)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Your requests")
    expect(logo).to_be_visible()
    shot(page, f"portal-brand-requests-{size}")

    page.goto(urlsplit(client_link_url(thread=thread, email=JANE)).path)
    expect(page.locator(".c-top")).to_contain_text("Acme Care")
    expect(logo).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    shot(page, f"portal-brand-conversation-{size}")
