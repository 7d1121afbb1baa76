"""The client portal: sign-in by email, one's requests, a request's page, a new request."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inboxes.services import inbox_update
from tests.conftest import api_client
from tests.mail import deliver, make_mail
from threads import outbound
from threads.models import (
    Attachment,
    ClientSession,
    ClientSignIn,
    InboundMail,
    Message,
    OutboundMail,
    Thread,
)
from tickets import queues
from tickets import services as tickets
from tickets.models import Ticket
from tickets.portal.views import COOKIE

JANE = "jane@client.test"
BOB = "bob@other.test"


@pytest.fixture
def queue(acme, inbox):
    """The inbox opens a ticket for every new thread."""
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def portal_url(org_slug: str = "acme", name: str = "portal:home", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org_slug, **kwargs})


def thread_url(thread: Thread, name: str = "portal:thread", org_slug: str = "acme") -> str:
    return portal_url(org_slug, name, reference=thread.reference)


def sign_in_link(email: str) -> str:
    """The path of the sign-in link in the latest mail to the address."""
    mail = OutboundMail.objects.filter(to=[email]).order_by("-id").first()
    assert mail is not None, f"no sign-in mail to {email}"
    match = re.search(r"https?://[^/\s]+(/hc/[^\s]+/sign-in/[^\s]+/)", mail.text)
    assert match, mail.text
    return match.group(1)


def signed_in(email: str = JANE, org_slug: str = "acme") -> Client:
    """A browser of this address, signed in to the organization's portal by its mailed link."""
    browser = Client()
    response = browser.post(portal_url(org_slug, "portal:sign-in"), {"email": email})
    assert response.status_code == 200, response.content
    response = browser.post(sign_in_link(email))
    assert response.status_code == 302
    assert response["Location"] == portal_url(org_slug)
    return browser


def conversation(acme, body: str = "Please try again now.", sender: str = "Jane Client") -> Thread:
    thread = deliver(
        make_mail(sender=f"{sender} <{JANE}>", body="Hello, I cannot log in since this morning.")
    ).thread
    outbound.reply_send_skipping_ticket(thread=thread, author=acme.agent, body=body)
    thread.refresh_from_db()
    return thread


# --- Signing in -------------------------------------------------------------------------


def test_a_sign_in_link_is_mailed_and_works_once(
    acme, inbox, smtp, django_capture_on_commit_callbacks
):
    conversation(acme)
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(portal_url(name="portal:sign-in"), {"email": " Jane@Client.test "})
    assert response.status_code == 200
    assert b"Check your mail" in response.content
    link = sign_in_link(JANE)
    [(recipients, mail)] = [(r, m) for r, m in smtp.received if m["Subject"].startswith("Sign")]
    assert recipients == [JANE]
    assert mail["Subject"] == "Sign in to Acme Help"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert link in mail.get_body(("plain",)).get_content()
    row = ClientSignIn.objects.get()
    assert row.email == JANE and row.used_at is None
    assert link.rsplit("/", 2)[-2] not in row.token_hash  # only a digest is kept

    # Opening the link (or a mail scanner fetching it) signs nobody in: a button does.
    assert browser.get(link).status_code == 200
    assert ClientSession.objects.count() == 0
    response = browser.post(link)
    assert response.status_code == 302
    cookie = response.cookies[COOKIE]
    assert cookie["path"] == "/hc/acme/requests/"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert browser.get(portal_url()).status_code == 200

    again = Client().post(link)
    assert again.status_code == 410
    assert b"used already" in again.content
    opened_again = Client().get(link)
    assert opened_again.status_code == 410
    assert b"Ask for a new one below" in opened_again.content
    assert ClientSession.objects.count() == 1


def test_a_sign_in_link_expires(acme, inbox, settings):
    conversation(acme)
    Client().post(portal_url(name="portal:sign-in"), {"email": JANE})
    link = sign_in_link(JANE)
    later = timezone.now() + timedelta(minutes=settings.TISKET_PORTAL_SIGN_IN_MINUTES, seconds=1)
    with time_machine.travel(later):
        response = Client().post(link)
    assert response.status_code == 410
    assert ClientSession.objects.count() == 0


def test_a_made_up_or_another_organizations_link_signs_nobody_in(acme, inbox, globex):
    conversation(acme)
    Client().post(portal_url(name="portal:sign-in"), {"email": JANE})
    link = sign_in_link(JANE)
    assert Client().post(link.replace("/hc/acme/", "/hc/globex/")).status_code == 404
    assert (
        Client().post(portal_url(name="portal:sign-in-confirm", token="x" * 43)).status_code == 404
    )
    assert ClientSession.objects.count() == 0


def test_a_link_forwarded_to_someone_else_says_whose_it_is(acme, inbox):
    # An attacker asks for a link to their own address and sends it to a victim: one click
    # on "Sign in" and the victim's next request, written in the attacker's session, is
    # the attacker's to read. The page names the address the link signs in.
    Client().post(portal_url(name="portal:sign-in"), {"email": "mallory@evil.test"})
    victim = Client()
    page = victim.get(sign_in_link("mallory@evil.test")).content.decode()
    assert "mallory@evil.test" in page
    assert "not your address" in page


def test_the_answer_is_the_same_for_a_known_an_unknown_and_a_members_address(acme, inbox):
    conversation(acme)
    pages = {}
    for email in (JANE, "nobody@nowhere.test", acme.agent.user.email):
        response = Client().post(portal_url(name="portal:sign-in"), {"email": email})
        pages[email] = (response.status_code, response.content.decode().replace(email, "EMAIL"))
    csrf = re.compile(r"[A-Za-z0-9]{64}")  # each answer's own CSRF token
    answers = {(status, csrf.sub("", body)) for status, body in pages.values()}
    assert len(answers) == 1
    # A new client may sign in to open a request; members sign in to the desk instead.
    assert OutboundMail.objects.filter(to=[JANE]).exists()
    assert OutboundMail.objects.filter(to=["nobody@nowhere.test"]).exists()
    assert not OutboundMail.objects.filter(to=[acme.agent.user.email]).exists()
    assert not OutboundMail.objects.filter(to=[inbox.address]).exists()


def test_sign_in_mails_are_limited_per_email_and_per_address(acme, inbox, settings):
    settings.TISKET_PORTAL_SIGN_INS_PER_EMAIL = 2
    settings.TISKET_PORTAL_SIGN_INS_PER_ADDRESS = 5
    url = portal_url(name="portal:sign-in")
    codes = [Client().post(url, {"email": JANE}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert OutboundMail.objects.filter(to=[JANE]).count() == 2
    # From the same address, other emails run into the limit per address (3 asks so far).
    codes = [Client().post(url, {"email": f"c{i}@client.test"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert "Too many" in Client().post(url, {"email": "late@client.test"}).content.decode()


def test_someone_asking_for_a_victims_links_does_not_stop_the_victim(acme, inbox, settings):
    settings.TISKET_PORTAL_SIGN_INS_PER_EMAIL = 2
    settings.TISKET_PORTAL_SIGN_INS_PER_EMAIL_ALL = 4
    url = portal_url(name="portal:sign-in")

    def ask(address: str) -> int:
        return Client(REMOTE_ADDR=address).post(url, {"email": JANE}).status_code

    assert [ask("203.0.113.9") for _ in range(3)] == [200, 200, 429]  # the attacker
    assert ask("198.51.100.7") == 200  # Jane, at home, still gets her link
    # Many addresses cannot flood her mailbox either.
    assert [ask(f"192.0.2.{n}") for n in (1, 2)] == [200, 429]
    assert OutboundMail.objects.filter(to=[JANE]).count() == 4


def test_the_addresses_of_one_ipv6_network_count_as_one(acme, inbox, settings):
    """One host holds a whole /64: each of its addresses a key of its own would make the
    limits per client address nothing, and let one host use up a victim's asks."""
    settings.TISKET_PORTAL_SIGN_INS_PER_EMAIL = 2
    settings.TISKET_PORTAL_SIGN_INS_PER_EMAIL_ALL = 4
    url = portal_url(name="portal:sign-in")

    def ask(address: str, email: str = JANE) -> int:
        return Client(REMOTE_ADDR=address).post(url, {"email": email}).status_code

    assert [ask(f"2001:db8:1:2::{n}") for n in range(1, 4)] == [200, 200, 429]
    assert ask("2001:db8:1:3::1") == 200  # Jane, on another network
    assert OutboundMail.objects.filter(to=[JANE]).count() == 3
    settings.TISKET_PORTAL_SIGN_INS_PER_ADDRESS = 4
    codes = [ask(f"2001:db8:9:9::{n:x}", f"c{n}@client.test") for n in range(1, 6)]
    assert codes == [200, 200, 200, 200, 429]


def test_a_bad_address_is_a_form_error(acme, inbox):
    response = Client().post(portal_url(name="portal:sign-in"), {"email": "not an address"})
    assert response.status_code == 400
    assert b"Enter your email address" in response.content
    assert not OutboundMail.objects.exists()


def test_signing_out_ends_the_session(acme, inbox):
    conversation(acme)
    browser = signed_in()
    cookie = browser.cookies[COOKIE].value
    assert browser.post(portal_url(name="portal:sign-out")).status_code == 302
    stolen = Client()
    stolen.cookies[COOKIE] = cookie
    assert stolen.get(portal_url())["Location"] == portal_url(name="portal:sign-in")
    assert ClientSession.objects.get().ended_at is not None


def test_portal_forms_need_the_csrf_token(acme, inbox):
    conversation(acme)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(portal_url(name="portal:sign-in"), {"email": JANE}).status_code == 403
    page = strict.get(portal_url(name="portal:sign-in"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    response = strict.post(
        portal_url(name="portal:sign-in"),
        {"email": JANE, "csrfmiddlewaretoken": token.decode()},
        HTTP_ORIGIN="null",  # what a page under Referrer-Policy: no-referrer posts with
    )
    assert response.status_code == 200


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_every_conversation_of_the_address_with_status_and_unread(
    acme, inbox, queue, django_assert_max_num_queries
):
    first = conversation(acme)
    second = deliver(make_mail(sender=JANE, subject="Invoice for March")).thread
    theirs = deliver(make_mail(sender=BOB, subject="Bob's secret problem")).thread
    cc = deliver(make_mail(sender=BOB, cc=JANE, subject="Copied to Jane")).thread
    tickets.ticket_set_status(
        ticket=second.ticket_link.ticket, status=Ticket.Status.RESOLVED, actor=None
    )
    browser = signed_in()
    with django_assert_max_num_queries(6):
        page = browser.get(portal_url())
    html = page.content.decode()
    assert page.status_code == 200
    for thread in (first, second, cc):
        assert thread.reference in html
    assert theirs.reference not in html and "secret" not in html
    assert html.count("New reply</span>") == 1  # the agent's answer on the first
    assert 'data-status="resolved">Resolved<' in html
    assert html.index(cc.reference) < html.index(first.reference)  # latest activity first

    browser.get(thread_url(first))  # the page, then its browser's read receipt
    assert "New reply</span>" in browser.get(portal_url()).content.decode()
    assert browser.post(thread_url(first, "portal:thread-read")).status_code == 204
    assert "New reply</span>" not in browser.get(portal_url()).content.decode()


def test_the_list_does_not_grow_in_queries_with_conversations(
    acme, inbox, queue, django_assert_max_num_queries
):
    for n in range(15):
        deliver(make_mail(sender=JANE, subject=f"Question {n}"))
    browser = signed_in()
    with django_assert_max_num_queries(6):
        page = browser.get(portal_url())
    assert page.content.decode().count('<li class="c-request') == 15


# --- One conversation ---------------------------------------------------------------------


def test_a_conversation_shows_the_desks_markdown_rendered_and_no_note(acme, inbox, queue):
    thread = conversation(acme, body="**Done**, please:\n\n- log out\n- log in again")
    tickets.ticket_note_add(
        ticket=thread.ticket_link.ticket, body="NOTE-secret refund if angry", actor=acme.agent
    )
    page = signed_in().get(thread_url(thread))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<strong>Done</strong>" in html
    assert "<li>log out</li>" in html
    assert "**Done**" not in html
    assert "NOTE-secret" not in html
    assert page["Cache-Control"] == "no-store, private"
    assert page["Referrer-Policy"] == "no-referrer"


HOSTILE = (
    "<script>alert('x')</script> [click](javascript:alert(1)) "
    '<img src=x onerror="alert(1)"> ![pixel](https://tracker.test/p.png) '
    "[ok](https://example.test/ok) <iframe src=//evil.test></iframe>"
)


def test_hostile_markdown_in_a_reply_is_rendered_harmless(acme, inbox):
    thread = conversation(acme, body=HOSTILE)
    html = signed_in().get(thread_url(thread)).content.decode()
    body = html[html.index('class="c-messages"') :]
    assert "<script>alert" not in body
    assert "javascript:" not in body
    assert not re.search(r"<[^>]*\bon\w+=", body)  # no event handler in any tag
    assert "<img src=x" not in body and "<iframe" not in body
    assert 'src="https://tracker.test' not in body  # nothing loads from elsewhere
    assert 'href="https://example.test/ok"' in body
    assert "&lt;script&gt;" in body  # shown as text


def test_a_clients_hostile_text_is_harmless_and_their_markdown_rendered(acme, inbox):
    thread = conversation(acme)
    deliver(make_mail(sender=JANE, subject=f"Re: [{thread.reference}]", body="**mailed**"))
    browser = signed_in()
    response = browser.post(
        thread_url(thread, "portal:thread-reply"),
        {"body": "<script>alert(1)</script> **bold here**", "nonce": "n" * 16},
    )
    assert response.status_code == 302
    html = browser.get(thread_url(thread)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <strong>bold here</strong>" in html
    assert "<script>alert(1)" not in html
    assert "**mailed**" in html  # what they mailed is shown as the text it is
    # The desk sees the web reply rendered, as the client's preview showed it.
    stored = Message.objects.filter(thread=thread, direction="inbound").latest("id")
    assert "<strong>bold here</strong>" in stored.html and "<script" not in stored.html


def test_another_client_and_another_organization_get_404(acme, inbox, globex, globex_inbox):
    janes = conversation(acme)
    bobs = deliver(make_mail(sender=BOB, subject="Bob's")).thread
    other = deliver(make_mail(sender=JANE, to="help.globex@in.tisket.test")).thread
    assert other.organization_id == globex.org.pk
    browser = signed_in()
    names = ["portal:thread", "portal:thread-reply", "portal:thread-close", "portal:thread-reopen"]
    for name in [*names, "portal:thread-rate"]:
        method = browser.get if name == "portal:thread" else browser.post
        assert method(thread_url(bobs, name)).status_code == 404, name
        assert method(thread_url(other, name)).status_code == 404, name
        assert method(thread_url(other, name, org_slug="globex")).status_code == 302, name
    assert browser.get(thread_url(janes)).status_code == 200
    assert (
        not Message.objects.filter(thread__in=[bobs, other], direction="inbound")
        .exclude(from_email__in=[BOB, JANE])
        .exists()
    )
    # Acme's session is not globex's: the same address must sign in there on its own.
    assert browser.get(portal_url("globex"))["Location"] == portal_url("globex", "portal:sign-in")
    assert browser.get(thread_url(other, org_slug="globex")).status_code == 302
    assert Message.objects.filter(thread=bobs).count() == 1


def test_the_page_marks_the_desks_replies_read_and_the_agent_sees_it(acme, inbox, web):
    thread = conversation(acme)
    reply = Message.objects.get(thread=thread, direction="outbound")
    agent_page = web(acme.agent).get(f"/acme/threads/{thread.reference}/")
    assert "Read by the client" not in agent_page.content.decode()

    jane = signed_in()
    page = jane.get(thread_url(thread)).content.decode()
    reply.refresh_from_db()
    assert reply.client_read_at is None  # opening the link marks nothing: scanners open it
    read_url = thread_url(thread, "portal:thread-read")
    assert f'hx-post="{read_url}"' in page  # the browser posts once it has shown the page
    assert jane.get(read_url).status_code == 405
    assert jane.post(read_url).status_code == 204
    reply.refresh_from_db()
    assert reply.client_read_at is not None and reply.client_read_by == JANE
    first_read = reply.client_read_at
    assert signed_in().post(read_url).status_code == 204
    reply.refresh_from_db()
    assert reply.client_read_at == first_read  # the first reading counts

    agent_page = web(acme.agent).get(f"/acme/threads/{thread.reference}/")
    assert "Read by the client" in agent_page.content.decode()
    assert JANE in agent_page.content.decode()
    listed = api_client(acme.agent).get(f"/api/v1/threads/{thread.reference}/messages/").json()
    read = {m["direction"]: m["client_read_at"] for m in listed["results"]}
    assert read["outbound"] is not None and read["inbound"] is None


# --- Replies and files --------------------------------------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_reply_with_files_goes_through_the_pipeline_and_files_download(acme, inbox, queue):
    thread = conversation(acme)
    browser = signed_in()
    response = browser.post(
        thread_url(thread, "portal:thread-reply"),
        {
            "body": "Here is the screenshot.",
            "nonce": "reply-nonce-1",
            "files": [upload("screen.png", PNG, "image/png"), upload("notes.txt", b"step 1\n")],
        },
    )
    assert response.status_code == 302
    mail = InboundMail.objects.get(source="client-page")
    assert mail.status == InboundMail.Status.ACCEPTED and mail.thread_id == thread.pk
    files = {a.filename: a for a in Attachment.objects.filter(message=mail.message)}
    assert files["screen.png"].content_type == "image/png"
    assert files["notes.txt"].content_type == "text/plain"

    html = browser.get(thread_url(thread)).content.decode()
    link = re.search(r'href="(/c/files/[^"]+/screen.png)"', html).group(1)
    download = Client().get(link)  # the signed link is the credential
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_hostile_uploads_are_typed_by_content_and_named_safely(acme, inbox):
    thread = conversation(acme)
    browser = signed_in()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html_page = b"<html><body><script>alert(document.cookie)</script></body></html>"
    browser.post(
        thread_url(thread, "portal:thread-reply"),
        {
            "body": "Files.",
            "nonce": "reply-nonce-2",
            "files": [
                upload("cat.png", svg, "image/png"),
                upload("invoice.pdf", html_page, "application/pdf"),
                upload("../../etc/passwd", b"root:x:0:0\n", "text/plain"),
            ],
        },
    )
    stored = list(Attachment.objects.filter(message__thread=thread).order_by("id"))
    types = {a.filename: a.content_type for a in stored}
    assert not any(t.startswith("image/") for t in [types["cat.png"]])
    assert types["cat.png"] not in ("image/svg+xml", "text/html", "application/xml")
    assert types["invoice.pdf"] != "application/pdf"
    assert "passwd" in types and not any("/" in a.filename for a in stored)
    assert types["invoice.pdf"] == "text/html"  # what it is, and so only ever a download
    html = browser.get(thread_url(thread)).content.decode()
    for name in ("cat.png", "invoice.pdf"):
        link = re.search(rf'href="(/c/files/[^"]+/{name})"', html).group(1)
        response = Client().get(link)
        assert response["Content-Disposition"].startswith("attachment"), name
        assert response["X-Content-Type-Options"] == "nosniff"
    assert not response["Content-Type"].startswith("application/pdf")


def test_too_many_too_large_or_empty_files_are_refused_with_the_text_kept(acme, inbox):
    thread = conversation(acme)
    inbox_update(inbox=inbox, max_message_bytes=1024)
    browser = signed_in()
    url = thread_url(thread, "portal:thread-reply")
    cases = [
        ([upload(f"f{i}.txt", b"x") for i in range(11)], "10 files at most"),
        ([upload("big.bin", b"x" * 2048)], "more than 0 MB together"),
        ([upload("empty.txt", b"")], "is empty"),
    ]
    for files, error in cases:
        response = browser.post(url, {"body": "Keep me.", "files": files})
        assert response.status_code == 400
        html = response.content.decode()
        assert error in html and "Keep me." in html
    assert not InboundMail.objects.filter(source="client-page").exists()


def test_a_file_link_is_bound_to_its_conversation_and_expires(acme, inbox):
    thread = conversation(acme)
    deliver(
        make_mail(
            sender=JANE,
            subject=f"[{thread.reference}] Re: x",
            attachments=[("a.txt", "text/plain", b"hello")],
        )
    )
    html = signed_in().get(thread_url(thread)).content.decode()
    link = re.search(r'href="(/c/files/[^"]+/a.txt)"', html).group(1)
    assert Client().get(link).status_code == 200
    assert Client().get(link.replace("/c/files/", "/c/files/x")).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        assert Client().get(link).status_code == 410
    thread.client_link_version += 1  # the desk withdrew the conversation's links
    thread.save(update_fields=["client_link_version"])
    assert Client().get(link).status_code == 410


# --- A new request ------------------------------------------------------------------------


def test_a_new_request_enters_the_pipeline_like_a_mail(acme, inbox, queue):
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    browser = signed_in("new.client@client.test")
    form = browser.get(portal_url(name="portal:new"))
    nonce = re.search(rb'name="nonce" value="([^"]+)"', form.content).group(1).decode()
    data = {"subject": "  Printer   on fire ", "body": "It smokes.", "nonce": nonce}
    response = browser.post(
        portal_url(name="portal:new"), {**data, "files": [upload("p.png", PNG)]}
    )
    thread = Thread.objects.get(subject="Printer on fire")
    assert response.status_code == 302
    assert response["Location"] == thread_url(thread)
    assert thread.client_email == "new.client@client.test"
    assert InboundMail.objects.get(thread=thread).source == "client-page"
    assert Ticket.objects.filter(thread_links__thread=thread, queue=queue).exists()
    ack = OutboundMail.objects.get(thread=thread, kind=OutboundMail.Kind.AUTO_ACK)
    assert ack.to == ["new.client@client.test"]
    assert Attachment.objects.get(message__thread=thread).content_type == "image/png"
    page = browser.get(thread_url(thread)).content.decode()
    assert "It smokes." in page and f"its reference is {thread.reference}" in page
    # The same form posted again, seconds later, is the same mail: one request.
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        again = browser.post(
            portal_url(name="portal:new"), {**data, "files": [upload("p.png", PNG)]}
        )
    assert again["Location"] == thread_url(thread)
    assert Thread.objects.filter(subject="Printer on fire").count() == 1


def test_a_reply_posted_twice_seconds_apart_is_stored_once(acme, inbox):
    thread = conversation(acme)
    browser = signed_in()
    page = browser.get(thread_url(thread)).content
    nonce = re.search(rb'name="nonce" value="([^"]+)"', page).group(1).decode()
    form = {"body": "Thanks, it works.", "nonce": nonce}
    browser.post(thread_url(thread, "portal:thread-reply"), form)
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        browser.post(thread_url(thread, "portal:thread-reply"), form)
    statuses = InboundMail.objects.filter(source="client-page").values_list("status", flat=True)
    assert sorted(statuses) == ["accepted", "duplicate"]
    [reply] = Message.objects.filter(thread=thread, text__contains="it works")
    assert reply.sent_at is not None  # the Date the form's nonce gave, whole seconds


def test_a_new_request_without_subject_or_text_is_a_form_error(acme, inbox):
    browser = signed_in()
    response = browser.post(portal_url(name="portal:new"), {"subject": "", "body": "Hi"})
    assert response.status_code == 400 and b"Give your request a subject" in response.content
    response = browser.post(portal_url(name="portal:new"), {"subject": "Hi", "body": " "})
    assert response.status_code == 400 and b"Write a message first" in response.content
    assert not Thread.objects.exists()


def test_signed_out_pages_go_to_the_sign_in_form(acme, inbox):
    thread = conversation(acme)
    for url in (portal_url(), portal_url(name="portal:new"), thread_url(thread)):
        assert Client().get(url)["Location"] == portal_url(name="portal:sign-in")
    assert Client().get("/hc/nowhere/requests/").status_code == 404


def test_a_session_that_asks_too_much_is_slowed_down(acme, inbox, monkeypatch):
    from tickets import client_pages

    thread = conversation(acme)
    browser = signed_in()
    monkeypatch.setitem(client_pages.RATE_LIMITS, "GET", 3)
    codes = [browser.get(thread_url(thread)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_the_help_centre_links_to_the_portal(acme, inbox):
    page = Client().get("/hc/acme/")
    assert 'href="/hc/acme/requests/">Your requests</a>' in page.content.decode()


def test_spent_sign_in_links_and_sessions_are_cleared(acme, inbox):
    from threads.portal import portal_clear

    conversation(acme)
    browser = signed_in()  # one used link, one live session
    Client().post(portal_url(name="portal:sign-in"), {"email": JANE})  # one live link
    browser.post(portal_url(name="portal:sign-out"))
    live = signed_in()
    assert portal_clear() == 3  # two used links and the ended session
    assert ClientSignIn.objects.count() == 1
    assert live.get(portal_url()).status_code == 200


def test_the_signed_link_marks_read_but_a_member_viewing_as_the_client_does_not(acme, inbox, web):
    from threads.client_access import client_link_token

    thread = conversation(acme)
    reply = Message.objects.get(thread=thread, direction="outbound")
    supervisor = web(acme.supervisor)
    started = supervisor.post(
        f"/acme/threads/{thread.reference}/view-as-client/", {"reason": "checking a reply"}
    )
    assert supervisor.get(started["Location"]).status_code == 200
    reply.refresh_from_db()
    assert reply.client_read_at is None
    viewed = supervisor.get(started["Location"]).content.decode()
    assert 'hx-trigger="load delay' not in viewed  # the member's view posts no read receipt

    token = client_link_token(thread=thread, email=JANE)
    browser = Client()
    assert browser.get(reverse("client:thread", kwargs={"token": token})).status_code == 200
    reply.refresh_from_db()
    assert reply.client_read_at is None  # a link scanner's GET is no reading
    read = browser.post(reverse("client:thread-read", kwargs={"token": token}))
    assert read.status_code == 204
    reply.refresh_from_db()
    assert reply.client_read_by == JANE


def test_an_installation_admin_ends_a_clients_session(acme, inbox, client):
    from tests.factories import UserFactory

    conversation(acme)
    browser = signed_in()
    session = ClientSession.objects.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = client.get(reverse("admin:threads_clientsession_changelist"))
    assert JANE in changelist.content.decode()
    assert session.key_hash not in changelist.content.decode()
    client.post(
        reverse("admin:threads_clientsession_changelist"),
        {"action": "end_sessions", "_selected_action": [session.pk]},
    )
    assert browser.get(portal_url())["Location"] == portal_url(name="portal:sign-in")
