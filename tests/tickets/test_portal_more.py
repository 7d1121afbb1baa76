"""The client portal's new-request help and history: article suggestions, a Markdown
preview, an inbox to choose, the status timeline, and a client company's requests."""

import re

import pytest
from django.test import Client

from inboxes.services import inbox_create, inbox_update
from kb import services as kb
from kb.models import LedgerEntry, LedgerKind, LedgerPlace, Visibility
from sla.services import customer_save
from tests.mail import deliver, make_mail
from tests.tickets.test_portal import (
    BOB,
    JANE,
    PNG,
    conversation,
    portal_url,
    signed_in,
    thread_url,
    upload,
)
from threads import outbound
from threads.models import Message, Thread
from tickets import csat, queues
from tickets import services as tickets
from tickets.models import Ticket
from tisket.services import organization_update


@pytest.fixture
def queue(acme, inbox):
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def publish(org, title, body, **fields):
    return kb.article_create(
        organization=org, actor=None, title=title, body=body, publish=True, **fields
    )


def suggest(browser: Client, org_slug: str = "acme", **data):
    return browser.post(portal_url(org_slug, "portal:new-suggest"), data)


# --- 1. Suggestions as the client types ---------------------------------------------------


def test_suggestions_are_public_articles_and_noted_once_per_form(acme, inbox, globex):
    public = publish(acme.org, "Reset your password", "Open Settings and choose Reset.")
    publish(acme.org, "Password vault for clients", "Reset it.", visibility=Visibility.CLIENTS)
    publish(acme.org, "Password rules for agents", "Reset.", visibility=Visibility.MEMBERS)
    publish(globex.org, "Reset your password at Globex", "Globex password reset.")
    browser = signed_in()

    first = suggest(browser, subject="Cannot reset my passw", body="")
    html = first.content.decode()
    assert first.status_code == 200
    assert "Reset your password" in html
    assert f'href="/hc/acme/a/{public.slug}/?from=portal"' in html
    assert "vault" not in html and "agents" not in html and "Globex" not in html
    assert f'name="shown" value="{public.pk}"' in html
    shown = LedgerEntry.objects.filter(kind=LedgerKind.SHOWN, place=LedgerPlace.CLIENT)
    assert [e.article_id for e in shown] == [public.pk]

    # The next keystrokes of the same form show it again without noting it again.
    again = suggest(browser, subject="Cannot reset my password", body="", shown=[str(public.pk)])
    assert "Reset your password" in again.content.decode()
    assert shown.count() == 1

    # Opening it from the suggestion is a click in the ledger.
    assert Client().get(f"/hc/acme/a/{public.slug}/?from=portal").status_code == 200
    clicked = LedgerEntry.objects.get(kind=LedgerKind.CLICKED, place=LedgerPlace.CLIENT)
    assert clicked.article_id == public.pk and clicked.organization_id == acme.org.pk


def test_suggestions_take_hostile_input_and_need_a_session_and_the_csrf_token(acme, inbox):
    publish(acme.org, "Reset your password", "Open Settings.")
    browser = signed_in()
    hostile = suggest(
        browser,
        subject="<script>alert(1)</script> password" * 20,
        body="x" * 60_000,
        shown=["1e9", "-3", "9" * 40, "<b>"],
    )
    assert hostile.status_code == 200
    assert "<script>" not in hostile.content.decode()
    assert suggest(browser, subject="", body="").content.decode().strip() == ""
    assert browser.get(portal_url(name="portal:new-suggest")).status_code == 405
    signed_out = Client().post(portal_url(name="portal:new-suggest"), {"subject": "password"})
    assert signed_out["Location"] == portal_url(name="portal:sign-in")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = browser.cookies
    assert strict.post(portal_url(name="portal:new-suggest"), {"subject": "x"}).status_code == 403


def test_the_new_request_form_asks_for_suggestions_as_the_client_types(acme, inbox):
    html = signed_in().get(portal_url(name="portal:new")).content.decode()
    assert f'hx-post="{portal_url(name="portal:new-suggest")}"' in html
    assert "from:#request-subject" in html and "from:#request-body" in html


# --- 2. A Markdown preview ----------------------------------------------------------------

HOSTILE = (
    "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) "
    '<img src=x onerror="alert(1)"> ![p](https://tracker.test/p.png)'
)


def test_the_preview_renders_markdown_through_the_sanitizing_renderer(acme, inbox):
    browser = signed_in()
    response = browser.post(portal_url(name="portal:preview"), {"body": HOSTILE})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html
    assert not re.search(r"<[^>]*\bon\w+=", html)
    assert 'src="https://tracker.test' not in html
    assert "Nothing to preview" in browser.post(portal_url(name="portal:preview")).content.decode()
    big = browser.post(portal_url(name="portal:preview"), {"body": "a" * 200_000})
    assert big.status_code == 200 and big.content.count(b"a") < 60_000


def test_the_preview_needs_the_csrf_token_and_a_session_and_is_limited(acme, inbox, monkeypatch):
    from tickets import client_pages

    browser = signed_in()
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = browser.cookies
    assert strict.post(portal_url(name="portal:preview"), {"body": "x"}).status_code == 403
    assert browser.get(portal_url(name="portal:preview")).status_code == 405
    assert Client().post(portal_url(name="portal:preview"))["Location"] == portal_url(
        name="portal:sign-in"
    )
    monkeypatch.setitem(client_pages.RATE_LIMITS, "GET", 2)
    codes = [
        browser.post(portal_url(name="portal:preview"), {"body": "x"}).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_the_reply_box_of_the_portal_and_of_the_signed_link_has_a_preview(acme, inbox):
    from threads.client_access import client_link_token

    thread = conversation(acme)
    page = signed_in().get(thread_url(thread)).content.decode()
    assert f'hx-post="{portal_url(name="portal:preview")}"' in page
    token = client_link_token(thread=thread, email=JANE)
    page = Client().get(f"/c/{token}/").content.decode()
    assert f'hx-post="/c/{token}/preview/"' in page
    preview = Client().post(f"/c/{token}/preview/", {"body": "- one\n- two"})
    assert "<li>one</li>" in preview.content.decode()
    assert Client().post("/c/not-a-token/preview/", {"body": "x"}).status_code == 404


# --- 3. The inbox to write to ---------------------------------------------------------------


def test_a_client_chooses_the_inbox_where_the_organization_has_several(
    acme, inbox, globex, globex_inbox
):
    billing = inbox_create(organization=acme.org, name="billing", auto_ack_enabled=False)
    inbox_update(inbox=billing, display_name="Billing questions")
    browser = signed_in()
    form = browser.get(portal_url(name="portal:new")).content.decode()
    assert re.search(rf'<option value="{inbox.pk}" selected>Support</option>', form)
    assert f'<option value="{billing.pk}">Billing questions</option>' in form

    data = {"subject": "Invoice twice", "body": "I was charged twice.", "nonce": "n" * 16}
    response = browser.post(portal_url(name="portal:new"), {**data, "inbox": billing.pk})
    thread = Thread.objects.get(subject="Invoice twice")
    assert response["Location"] == thread_url(thread)
    assert thread.inbox_id == billing.pk

    # Another organization's inbox, or nonsense, is a form error that keeps the text.
    for hostile in (globex_inbox.pk, "1 OR 1=1", "<b>"):
        refused = browser.post(
            portal_url(name="portal:new"), {**data, "subject": "Other", "inbox": hostile}
        )
        assert refused.status_code == 400
        assert "Choose what your request is about" in refused.content.decode()
        assert "I was charged twice." in refused.content.decode()
    assert not Thread.objects.filter(subject="Other").exists()
    assert not Thread.objects.filter(organization=globex.org).exists()


def test_with_one_inbox_there_is_nothing_to_choose(acme, inbox):
    form = signed_in().get(portal_url(name="portal:new")).content.decode()
    assert "<select" not in form
    browser = signed_in(BOB)
    browser.post(
        portal_url(name="portal:new"), {"subject": "Hello", "body": "Hi.", "nonce": "n" * 16}
    )
    assert Thread.objects.get(subject="Hello").inbox_id == inbox.pk


# --- 4. The timeline and the rating ---------------------------------------------------------


def test_the_timeline_tells_the_client_the_status_changes_and_nothing_internal(
    acme, inbox, queue, django_assert_max_num_queries
):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    tickets.ticket_assign(ticket=ticket, assignee=acme.agent2, actor=acme.agent)
    tickets.ticket_update(ticket=ticket, actor=acme.agent, tags=["vip-angry"])
    tickets.ticket_note_add(ticket=ticket, body="NOTE-secret", actor=acme.agent)
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.IN_PROGRESS, actor=acme.agent)
    for status in ("waiting_on_customer", "open", "resolved", "open", "resolved"):
        tickets.ticket_set_status(ticket=ticket, status=status, actor=acme.agent)
    ticket.refresh_from_db()
    csat.csat_record(token=csat.csat_token(ticket=ticket), score=4, comment="Quick, thanks")
    browser = signed_in()
    with django_assert_max_num_queries(30) as counted:
        page = browser.get(thread_url(thread))
    html = page.content.decode()
    timeline = html[html.index('class="c-timeline"') : html.index("</ol>")]
    labels = re.findall(r"<strong>([^<]+)</strong>", timeline)
    assert labels == [
        "Opened",
        "Waiting on you",
        "Resolved",
        "Reopened",
        "Resolved",
        "You rated 4 of 5",
    ]
    assert "You rated our help 4 out of 5" in html  # the rating of this resolution
    for internal in ("NOTE-secret", "vip-angry", acme.agent2.user.email, "In progress"):
        assert internal not in timeline
    assert "NOTE-secret" not in html and "vip-angry" not in html

    # Many more changes: not one query more.
    for status in ("open", "waiting_on_customer", "resolved") * 5:
        tickets.ticket_set_status(ticket=ticket, status=status, actor=acme.agent)
    with django_assert_max_num_queries(len(counted.captured_queries)):
        assert browser.get(thread_url(thread)).content.decode().count("Reopened") == 6


def test_a_conversation_without_ticket_shows_no_timeline(acme, inbox):
    thread = conversation(acme)
    html = signed_in().get(thread_url(thread)).content.decode()
    assert "c-timeline" not in html


# --- 5. A client company's requests ---------------------------------------------------------

ANN = "ann@clientcorp.test"
LEO = "leo@clientcorp.test"


@pytest.fixture
def company(acme):
    return customer_save(
        organization=acme.org,
        name="ClientCorp",
        policy=None,
        domains=["clientcorp.test", "clientcorp-eu.test"],
    )


def test_a_client_sees_their_companys_requests_only_where_the_organization_allows(
    acme, inbox, globex, globex_inbox, company, django_assert_max_num_queries
):
    leos = deliver(make_mail(sender=LEO, subject="Leo's VPN")).thread
    eu = deliver(make_mail(sender="eva@clientcorp-eu.test", subject="Eva's printer")).thread
    lookalike = deliver(make_mail(sender="x@evilclientcorp.test", subject="Lookalike")).thread
    sub = deliver(make_mail(sender="y@sub.clientcorp.test", subject="Subdomain")).thread
    janes = deliver(make_mail(sender=JANE, subject="Jane's")).thread
    other_org = deliver(make_mail(sender=LEO, to="help.globex@in.tisket.test")).thread
    browser = signed_in(ANN)

    # Off by default: Ann sees nothing of Leo's.
    assert leos.reference not in browser.get(portal_url()).content.decode()
    assert browser.get(thread_url(leos)).status_code == 404

    organization_update(organization=acme.org, portal_company_view=True)
    for n in range(5):
        deliver(make_mail(sender=LEO, subject=f"More {n}"))
    with django_assert_max_num_queries(7):
        html = browser.get(portal_url()).content.decode()
    assert leos.reference in html and eu.reference in html
    for hidden in (lookalike, sub, janes):
        assert hidden.reference not in html
        assert browser.get(thread_url(hidden)).status_code == 404
    assert browser.get(thread_url(other_org, org_slug="acme")).status_code == 404
    assert browser.get(thread_url(leos)).status_code == 200

    # Jane, of no company, still sees her own only.
    jane = signed_in(JANE).get(portal_url()).content.decode()
    assert janes.reference in jane and leos.reference not in jane


def test_a_colleagues_files_download_while_the_organization_shares(acme, inbox, company):
    thread = deliver(make_mail(sender=LEO, subject="Screen")).thread
    browser = signed_in(LEO)
    browser.post(
        thread_url(thread, "portal:thread-reply"),
        {"body": "Here.", "nonce": "n" * 16, "files": [upload("screen.png", PNG)]},
    )
    organization_update(organization=acme.org, portal_company_view=True)
    ann = signed_in(ANN)
    html = ann.get(thread_url(thread)).content.decode()
    link = re.search(r'href="(/c/files/[^"]+/screen.png)"', html).group(1)
    assert ann.get(link).status_code == 200
    organization_update(organization=acme.org, portal_company_view=False)
    assert ann.get(link).status_code == 410
    assert ann.get(thread_url(thread)).status_code == 404


def test_the_setting_is_off_by_default_and_on_the_general_settings_page(acme, web):
    assert acme.org.portal_company_view is False
    page = web(acme.admin).get("/acme/settings/")
    assert "Clients see their company" in page.content.decode()


def test_a_colleagues_reply_is_reviewed_first(acme, inbox, company):
    from threads.models import InboundMail

    thread = deliver(make_mail(sender=LEO, subject="Leo's VPN")).thread
    organization_update(organization=acme.org, portal_company_view=True)
    ann = signed_in(ANN)
    response = ann.post(
        thread_url(thread, "portal:thread-reply"), {"body": "Me too.", "nonce": "n" * 16}
    )
    assert response.status_code == 302
    row = InboundMail.objects.filter(source="client-page").latest("id")
    assert row.status == InboundMail.Status.QUARANTINED
    assert not thread.messages.filter(from_email=ANN).exists()


def test_a_free_mail_domain_gives_no_company_view(acme, inbox):
    # A customer who also writes from a free-mail address: the domain ties tickets to its
    # tier, but everyone at gmail.com is not the customer's staff.
    customer_save(
        organization=acme.org,
        name="ClientCorp",
        policy=None,
        domains=["clientcorp.test", "gmail.com"],
    )
    organization_update(organization=acme.org, portal_company_view=True)
    strangers = deliver(make_mail(sender="stranger@gmail.com", subject="Stranger's")).thread
    leos = deliver(make_mail(sender=LEO, subject="Leo's VPN")).thread

    attacker = signed_in("attacker@gmail.com")
    html = attacker.get(portal_url()).content.decode()
    assert strangers.reference not in html and leos.reference not in html
    assert attacker.get(thread_url(strangers)).status_code == 404
    assert attacker.get(thread_url(leos)).status_code == 404

    # The company's own staff see the company's domain, not every free-mail user.
    ann = signed_in(ANN)
    html = ann.get(portal_url()).content.decode()
    assert leos.reference in html
    assert strangers.reference not in html
    assert ann.get(thread_url(strangers)).status_code == 404


def test_a_colleague_cannot_close_reopen_or_rate_anothers_request(acme, inbox, queue, company):
    # A colleague reads the company's requests; what they write is reviewed first, and
    # what only the client decides (done, not done, how well we helped) is not theirs.
    thread = deliver(make_mail(sender=LEO, subject="Leo's VPN")).thread
    ticket = thread.ticket_link.ticket
    organization_update(organization=acme.org, portal_company_view=True)
    ann = signed_in(ANN)

    assert ann.post(thread_url(thread, "portal:thread-close")).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status != Ticket.Status.RESOLVED

    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=None)
    assert ann.post(thread_url(thread, "portal:thread-rate"), {"score": "1"}).status_code == 403
    assert not ticket.ratings.exists()
    assert ann.post(thread_url(thread, "portal:thread-reopen")).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    page = ann.get(thread_url(thread)).content.decode()
    assert f'action="{thread_url(thread, "portal:thread-rate")}"' not in page

    # Leo himself still decides.
    leo = signed_in(LEO)
    assert leo.post(thread_url(thread, "portal:thread-rate"), {"score": "5"}).status_code == 302
    assert ticket.ratings.get().score == 5


def test_a_colleague_reading_is_no_read_receipt_of_the_client(acme, inbox, company):
    thread = deliver(make_mail(sender=LEO, subject="Leo's VPN")).thread
    outbound.reply_send_skipping_ticket(thread=thread, author=acme.agent, body="Try again.")
    organization_update(organization=acme.org, portal_company_view=True)
    ann = signed_in(ANN)
    assert ann.get(thread_url(thread)).status_code == 200
    assert ann.post(thread_url(thread, "portal:thread-read")).status_code == 204
    reply = thread.messages.get(direction=Message.Direction.OUTBOUND)
    assert reply.client_read_at is None  # the desk is told the client read it: Leo has not

    signed_in(LEO).post(thread_url(thread, "portal:thread-read"))
    reply.refresh_from_db()
    assert reply.client_read_by == LEO
