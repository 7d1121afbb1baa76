"""Every mail we send, through the outbox and a real SMTP server: an HTML part and a text
part in the organization's frame, its CSS inlined, the unsubscribe link on optional mail."""

import re
from html.parser import HTMLParser

import pytest

from inboxes.services import inbox_update
from interface.settings_pages.invites import invitation_send
from tests.mail import deliver, make_mail
from threads.outbound import MemberMail, notification_mails, reply_send_skipping_ticket
from threads.portal import portal_sign_in_request
from tickets import queues
from tickets import services as tickets
from tickets.models import Ticket
from tisket.branding.services import mail_branding_set
from tisket.models import Role
from tisket.tasks import password_reset_mail_send

JANE = "jane@client.test"
COLOUR = "#b03a2e"
STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.S)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://desk.example"


@pytest.fixture
def branded(acme, inbox):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    inbox_update(inbox=inbox, auto_ack_enabled=True, mail_on_waiting=True, mail_on_reopened=True)
    mail_branding_set(
        organization=acme.org,
        actor=acme.admin,
        colour=COLOUR,
        sender_name="Acme Care",
        postal_address="1 Main Street\n75001 Paris",
        wording={"acknowledgement": "Thanks for writing to {{ organization.name }}"},
    )
    return acme


def parts(mail) -> tuple[str, str]:
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}


class _Balance(HTMLParser):
    """Every element closed, in order: the frame is well formed whatever it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"


def assert_balanced(html: str) -> None:
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.open == []


def assert_framed(html: str) -> None:
    """A whole document, dark-mode aware, its look inline: <style> keeps only @media rules."""
    assert html.startswith("<!DOCTYPE html>") and '<meta name="color-scheme"' in html
    assert "1 Main Street" in html and "Acme Care" in html
    for block in STYLE_BLOCK.findall(html):
        assert block.strip().startswith("@media"), block[:80]
    assert re.search(r'style="[^"]*max-width: ?600px', html)  # the card, inline
    assert_balanced(html)


def sent_by_type(smtp) -> list:
    return [mail for _, mail in smtp.received]


def test_each_mail_type_has_both_parts_in_the_organizations_frame(
    branded, smtp, django_capture_on_commit_callbacks
):
    acme = branded
    with django_capture_on_commit_callbacks(execute=True):
        thread = deliver(make_mail()).thread  # the acknowledgement
    ticket = Ticket.objects.get(thread_links__thread=thread)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_set_status(
            ticket=ticket, status=Ticket.Status.WAITING_ON_CUSTOMER, actor=acme.agent
        )
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=acme.agent)
        notification_mails(
            [
                MemberMail(membership=acme.agent, subject="News", text="Jane replied.", url="/x/"),
                MemberMail(
                    membership=acme.agent,
                    subject="Digest",
                    text="3 unread.",
                    mail_type="digest",
                ),
            ]
        )
        invitation_send(
            organization=acme.org, email="new@acme.test", role=Role.AGENT, actor=acme.admin
        )
        portal_sign_in_request(organization=acme.org, email=JANE)
    mails = sent_by_type(smtp)
    headings = {
        "Thanks for writing to Acme": False,  # the admin's wording, its variable filled
        "We need a word from you": True,
        "Your request is resolved": True,
        "Your request is open again": True,
        "News from your desk": True,
        "Your daily digest": True,
        "You are invited to Acme": False,
        "Your sign-in link": False,
    }
    assert len(mails) == len(headings)
    for mail, (heading, optional) in zip(mails, headings.items(), strict=True):
        text, html = parts(mail)
        assert re.search(rf"<h1[^>]*>{heading}</h1>", html), heading
        assert_framed(html)
        assert COLOUR in html  # the band, inline
        assert "Acme Care\n1 Main Street\n75001 Paris" in text  # the text part's footer
        assert bool(mail["List-Unsubscribe"]) is optional, heading
        if optional:
            url = mail["List-Unsubscribe"].strip().strip("<>")
            assert f'href="{url}"' in html and f"Unsubscribe: {url}" in text
    # Mail without an inbox is sent from the installation's address in the sender's name.
    assert mails[4]["From"].startswith("Acme Care <")


def test_an_agents_reply_stays_a_persons_mail_with_a_thin_footer(
    branded, smtp, django_capture_on_commit_callbacks
):
    thread = deliver(make_mail()).thread
    smtp.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _message, outbound = reply_send_skipping_ticket(
            thread=thread, author=branded.agent, body="Update the app to **4.2**, then retry."
        )
    [(_, mail)] = smtp.received
    text, html = parts(mail)
    assert text.strip() == outbound.text.strip()  # the text part: what the agent wrote
    assert "<strong>4.2</strong>" in html and "<h1" not in html  # Markdown, no banner
    assert "Acme Care · 1 Main Street · 75001 Paris" in html
    assert f"border-top: 2px solid {COLOUR}" in html
    assert_balanced(html)
    assert mail["In-Reply-To"] and mail["List-Unsubscribe"] is None


def test_the_password_reset_has_both_parts_in_the_installations_frame(acme, smtp):
    assert password_reset_mail_send(acme.agent.user.email) == 1
    [(_, mail)] = smtp.received
    text, html = parts(mail)
    assert "reset the password" in text and "Reset your password" in html
    assert '<meta name="color-scheme"' in html and mail["List-Unsubscribe"] is None


def test_an_organization_without_branding_gets_the_default_frame(
    acme, inbox, smtp, django_capture_on_commit_callbacks
):
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail())
    [(_, mail)] = smtp.received
    text, html = parts(mail)
    assert "Thanks for writing to Acme" in html
    assert text.strip().splitlines()[-1].startswith("View this conversation online: ")
