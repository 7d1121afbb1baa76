"""Browser tests: Playwright driving Debian's Chromium against a live Tisket server.

Each test gets pytest-django's live server (a real HTTP server on a free port,
on the test database) and a fresh browser context. `login(membership)` opens a
page already signed in as that member. `shot(page, name)` saves a screenshot
under var/screenshots/ (a test artifact; the README shows the main pages).
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import require_service

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("TISKET_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Playwright waits for an element or a page this long before failing, expect() included:
# a bound for a loaded machine, not a speed any test asserts.
WAIT_AT_MOST = 30_000  # ms
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    require_service(
        "Chromium", Path(CHROMIUM).exists(), "install Debian's chromium package (CI does)"
    )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_AT_MOST)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context_for(browser, live_server) -> Iterator[Callable]:
    """Make browser contexts on the live server; each is closed after the test."""
    contexts = []

    def make(membership=None, **options):
        options.setdefault("viewport", {"width": 1360, "height": 860})
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(WAIT_AT_MOST)
        if membership is not None:
            client = Client()
            client.force_login(membership.user)
            host = live_server.url.split("//", 1)[1].split(":")[0]
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                        "domain": host,
                        "path": "/",
                    }
                ]
            )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def login(context_for) -> Callable:
    """A page signed in as the member, with script errors and dialogs collected."""

    def open_page(membership, **options):
        page = context_for(membership, **options).new_page()
        page.errors = []  # uncaught script errors
        page.dialogs = []  # alert(), confirm(), prompt(): never expected
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        return page

    return open_page


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact.

    The window is stretched to the page's height first: Chromium leaves frames
    below the first screen blank in a full-page shot.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1360, "height": 860}
    page.wait_for_load_state()  # a click that navigates may still be loading
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
