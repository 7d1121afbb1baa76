"""Every client page wears the organization's branding: its help centre's title, logo, colour."""

import struct
import zlib

from django.test import Client

from kb import centre
from tests.tickets.test_portal import JANE, conversation, portal_url, signed_in, thread_url
from threads.client_access import client_link_url


def png(width: int = 96, height: int = 32, rgb: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    """A plain PNG of one colour: a logo for the tests."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def brand(acme, *, logo: bool = True):
    file = None
    if logo:
        file = centre.kb_file_upload(
            organization=acme.org, actor=None, name="logo.png", content=png(), image_only=True
        )
    return centre.help_centre_update(
        organization=acme.org, actor=None, title="Acme Care", colour="#c8285a", logo=file
    )


def assert_branded(html: str, helped) -> None:
    assert "Acme Care" in html
    assert f"/hc/acme/files/{helped.logo_id}/logo.png" in html
    assert 'href="/hc/acme/brand.css"' in html and "client-branded" in html


def test_portal_pages_wear_the_help_centres_branding(acme, inbox):
    helped = brand(acme)
    assert_branded(Client().get(portal_url(name="portal:sign-in")).content.decode(), helped)
    thread = conversation(acme)
    browser = signed_in()
    for url in (portal_url(), portal_url(name="portal:new"), thread_url(thread)):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert_branded(response.content.decode(), helped)


def test_the_conversation_behind_a_mails_link_wears_it_too(acme, inbox):
    helped = brand(acme)
    thread = conversation(acme)
    response = Client().get(client_link_url(thread=thread, email=JANE))
    assert response.status_code == 200
    assert_branded(response.content.decode(), helped)


def test_without_a_logo_the_initial_stands_in(acme, inbox):
    brand(acme, logo=False)
    html = Client().get(portal_url(name="portal:sign-in")).content.decode()
    assert '<span class="c-mark" aria-hidden="true">A</span>' in html
    assert "<img" not in html.split("</header>")[0]


def test_the_colour_is_served_as_a_stylesheet(acme):
    brand(acme, logo=False)
    css = Client().get("/hc/acme/brand.css").content.decode()
    assert "--brand: #c8285a" in css
