"""Suggestions where a question is asked: the agent's Knowledge panel and the acknowledgement,
whose signed link lets a client close the conversation an article answered."""

import re

from django.conf import settings

from inboxes.services import inbox_update
from kb import centre, services
from kb.models import LedgerEntry, LedgerKind, LedgerPlace, Visibility
from tests.kb.conftest import publish
from tests.mail import deliver, make_mail
from threads.models import OutboundMail, Thread

ANSWERED = re.compile(r"\[This answered my question\]\((\S+)\)")


def _kb(org):
    return {
        "password": publish(
            org,
            "Reset your password",
            "Cannot log in? Open the sign-in page and choose Forgot password.",
            tags=["login"],
        ),
        "internal": publish(
            org,
            "Unlocking an account (agents)",
            "Log in to the admin console and unlock the account of a client who cannot log in.",
            visibility=Visibility.MEMBERS,
        ),
        "other": publish(org, "Office hours", "We are open from nine to five."),
        "staff_category": publish(
            org,
            "Login troubleshooting for staff",
            "When a client cannot log in, check the audit log first.",
            category=services.category_create(
                organization=org, actor=None, name="Staff", visibility=Visibility.MEMBERS
            ),
        ),
    }


def test_the_knowledge_panel_suggests_articles_for_the_conversation(acme, inbox, web):
    articles = _kb(acme.org)
    thread = deliver(make_mail(subject="Cannot log in", body="I cannot log in anymore")).thread
    page = web(acme.agent).get(f"/acme/threads/{thread.reference}/knowledge/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reset your password" in html
    assert "Unlocking an account (agents)" in html
    # A member-only article is offered as a passage, never as a link the client cannot open.
    assert "[Unlocking an account (agents)](" not in html
    assert "[Reset your password](http" in html
    shown = LedgerEntry.objects.filter(kind=LedgerKind.SHOWN, place=LedgerPlace.AGENT)
    assert articles["password"].pk in set(shown.values_list("article_id", flat=True))
    assert set(shown.values_list("conversation_id", flat=True)) == {thread.pk}


def test_the_agent_searches_and_inserting_counts_as_a_click(acme, inbox, web):
    articles = _kb(acme.org)
    thread = deliver(make_mail()).thread
    client = web(acme.agent)
    html = client.get(f"/acme/threads/{thread.reference}/knowledge/", {"q": "office"}).content
    assert b"Office hours" in html
    used = client.post(
        f"/acme/threads/{thread.reference}/knowledge/used/", {"article": articles["other"].pk}
    )
    assert used.status_code == 204
    clicked = LedgerEntry.objects.get(kind=LedgerKind.CLICKED)
    assert (clicked.article_id, clicked.conversation_id) == (articles["other"].pk, thread.pk)
    bad = client.post(f"/acme/threads/{thread.reference}/knowledge/used/", {"article": "x"})
    assert bad.status_code == 404


def test_viewers_get_no_knowledge_panel(acme, inbox, web):
    thread = deliver(make_mail()).thread
    assert web(acme.viewer).get(f"/acme/threads/{thread.reference}/knowledge/").status_code == 403


def test_the_acknowledgement_suggests_public_articles_and_the_client_closes_it(acme, inbox, client):
    articles = _kb(acme.org)
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    thread = deliver(make_mail(subject="Cannot log in", body="I forgot my password")).thread
    ack = OutboundMail.objects.get(kind=OutboundMail.Kind.AUTO_ACK)
    assert "These articles may answer your question:" in ack.text
    assert f"/hc/acme/a/{articles['password'].slug}/?pass=" in ack.text
    assert "Unlocking an account" not in ack.text  # members only: never in a client's mail
    shown = LedgerEntry.objects.filter(kind=LedgerKind.SHOWN, place=LedgerPlace.ACK_MAIL)
    assert shown.filter(article=articles["password"], conversation_id=thread.pk).exists()

    url = ANSWERED.search(ack.text).group(1).removeprefix(settings.SITE_URL)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Did the article answer your question?" in page.content
    thread.refresh_from_db()
    assert thread.status == Thread.Status.OPEN  # a GET changes nothing

    done = client.post(url)
    assert done.status_code == 200
    assert b"Glad it helped" in done.content
    thread.refresh_from_db()
    assert thread.status == Thread.Status.RESOLVED
    resolved = LedgerEntry.objects.get(kind=LedgerKind.RESOLVED)
    assert (resolved.article_id, resolved.conversation_id) == (articles["password"].pk, thread.pk)
    assert client.post(url).status_code == 200  # twice: still resolved, recorded once
    assert LedgerEntry.objects.filter(kind=LedgerKind.RESOLVED).count() == 1

    # The client writes again: reopened. The old link does not close it a second time.
    deliver(
        make_mail(
            subject="Re: Cannot log in", in_reply_to=f"<{thread.messages.first().message_id}>"
        )
    )
    thread.refresh_from_db()
    assert thread.status == Thread.Status.OPEN
    again = client.post(url)
    assert b"This link was used already" in again.content
    thread.refresh_from_db()
    assert thread.status == Thread.Status.OPEN
    assert LedgerEntry.objects.filter(kind=LedgerKind.RESOLVED).count() == 1


def test_a_forged_answered_link_changes_nothing(acme, inbox, client):
    _kb(acme.org)
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    thread = deliver(make_mail(body="I forgot my password")).thread
    ack = OutboundMail.objects.get(kind=OutboundMail.Kind.AUTO_ACK)
    url = ANSWERED.search(ack.text).group(1).removeprefix(settings.SITE_URL)
    forged = url.rstrip("/")[:-3] + "abc/"
    assert client.post(forged).status_code == 404
    thread.refresh_from_db()
    assert thread.status == Thread.Status.OPEN


def test_no_suggestions_when_the_help_centre_turns_them_off(acme, inbox):
    _kb(acme.org)
    centre.help_centre_update(organization=acme.org, actor=None, suggest_in_acknowledgements=False)
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    deliver(make_mail(body="I forgot my password"))
    ack = OutboundMail.objects.get(kind=OutboundMail.Kind.AUTO_ACK)
    assert "may answer your question" not in ack.text
