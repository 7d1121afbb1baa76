"""Inboxes: an inactive one refuses its mail and sends nothing automatic; one default inbox
for new conversations; the list's processed-mail count and latest failure."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inboxes.models import Inbox
from inboxes.selectors import inbox_default
from inboxes.services import inbox_create, inbox_default_set, inbox_update
from tests.conftest import api_client
from tests.mail import deliver, make_mail
from threads.models import InboundMail, OutboundMail, Thread
from tickets import services as tickets
from tickets.conversations import conversation_start
from tickets.models import Ticket
from tisket.errors import TisketError


@pytest.fixture
def acked(acme):
    """An inbox that acknowledges new conversations and tells the client when resolved."""
    return inbox_create(
        organization=acme.org, name="support", auto_ack_enabled=True, mail_on_resolved=True
    )


def test_an_inactive_inbox_refuses_mail_with_the_reason_and_acknowledges_nothing(acme, acked):
    inbox_update(inbox=acked, is_active=False)
    result = deliver(make_mail(to=acked.address))
    row = InboundMail.objects.get(pk=result.inbound.pk)
    assert row.status == "rejected"
    assert f"The inbox {acked.address} is inactive" in row.reason
    assert row.raw_bytes()  # the log keeps the mail itself
    assert not Thread.objects.exists()
    assert not OutboundMail.objects.exists()


def test_an_active_inbox_acknowledges_the_same_mail(acme, acked):
    deliver(make_mail(to=acked.address))
    assert OutboundMail.objects.filter(kind=OutboundMail.Kind.AUTO_ACK).count() == 1


@pytest.mark.parametrize(("active", "mails"), [(True, 1), (False, 0)])
def test_an_inactive_inbox_sends_no_status_mail(acme, acked, active, mails):
    thread = deliver(make_mail(to=acked.address)).thread
    OutboundMail.objects.all().delete()
    inbox_update(inbox=acked, is_active=active)
    thread.inbox.refresh_from_db()
    ticket = Ticket.objects.get(thread_links__thread=thread)
    tickets.conversation_set_status(
        thread=thread, ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent
    )
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.RESOLVED
    assert OutboundMail.objects.filter(kind=OutboundMail.Kind.STATUS).count() == mails


def test_one_default_inbox_per_organization(acme, globex, inbox, globex_inbox):
    other = inbox_create(organization=acme.org, name="billing", is_default=True)
    assert inbox_default(organization=acme.org) == other
    inbox_default_set(inbox=inbox)
    assert list(Inbox.objects.filter(is_default=True).order_by("pk")) == [inbox]
    inbox_default_set(inbox=globex_inbox)  # another organization's default changes nothing here
    assert inbox_default(organization=acme.org) == inbox
    inbox_update(inbox=inbox, is_default=False)
    assert inbox_default(organization=acme.org) == inbox  # none chosen: the oldest active one


def test_the_default_inbox_must_be_active(acme, inbox):
    inbox_default_set(inbox=inbox)
    with pytest.raises(ValidationError, match="must be active"):
        inbox_update(inbox=inbox, is_active=False)
    other = inbox_create(organization=acme.org, name="billing")
    inbox_update(inbox=other, is_active=False)
    with pytest.raises(ValidationError):
        inbox_default_set(inbox=other)


def test_a_new_conversation_starts_from_the_default_never_an_inactive_inbox(acme, inbox, web):
    billing = inbox_create(organization=acme.org, name="billing", is_default=True)
    old = inbox_create(organization=acme.org, name="old")
    inbox_update(inbox=old, is_active=False)
    page = web(acme.agent).get("/acme/threads/new/").content.decode()
    assert f'<option value="{billing.pk}" selected>' in page
    assert old.address not in page
    with pytest.raises(TisketError, match="inactive"):
        conversation_start(
            inbox=old, author=acme.agent, to=["c@client.test"], subject="s", body="b"
        )


def test_the_api_starts_a_conversation_from_the_default_inbox(acme, inbox):
    billing = inbox_create(organization=acme.org, name="billing", is_default=True)
    response = api_client(acme.agent).post(
        "/api/v1/threads/",
        {"to": ["c@client.test"], "subject": "Your invoice", "body": "Attached."},
        format="json",
    )
    assert response.status_code == 201
    assert Thread.objects.get(reference=response.json()["reference"]).inbox == billing


def test_the_settings_form_turns_an_inbox_off_and_makes_another_the_default(acme, inbox, web):
    from tests.tisket.test_settings_inboxes import _form

    client = web(acme.admin)
    other = inbox_create(organization=acme.org, name="billing")
    client.post(f"/acme/settings/inboxes/{inbox.pk}/", _form(is_active=None))
    client.post(f"/acme/settings/inboxes/{other.pk}/", _form(is_default="on"))
    inbox.refresh_from_db()
    other.refresh_from_db()
    assert (inbox.is_active, other.is_default) == (False, True)
    page = client.get("/acme/settings/inboxes/").content.decode()
    assert "Inactive" in page and "Default" in page


def test_the_list_shows_mail_processed_and_the_latest_failure(acme, globex, inbox, web):
    deliver(make_mail(to=inbox.address))
    deliver(make_mail(to=inbox.address, sender="bob@client.test"))
    failed = deliver(make_mail(to=inbox.address, sender="carl@client.test")).inbound
    InboundMail.objects.filter(pk=failed.pk).update(status="failed", reason="OSError: disk full")
    InboundMail.objects.create(
        source="test", raw_sha256="x", inbox=inbox, organization=acme.org, status="pending"
    )
    OutboundMail.objects.create(
        organization=acme.org,
        inbox=inbox,
        kind=OutboundMail.Kind.REPLY,
        to=["jane@client.test"],
        subject="Re: hello",
        text="Hi",
        message_id_header="<sent@acme.test>",
        status=OutboundMail.Status.FAILED,
        last_error="The mail server refused the login.",
    )
    page = web(acme.admin).get("/acme/settings/inboxes/").content.decode()
    assert f'?inbox={inbox.pk}">3</a>' in page  # pending mail is not processed yet
    assert "OSError: disk full" in page
    assert "The mail server refused the login." in page


def test_the_list_takes_the_same_queries_for_few_or_many_inboxes(acme, inbox, web):
    client = web(acme.admin)
    deliver(make_mail(to=inbox.address))
    client.get("/acme/settings/inboxes/")
    with CaptureQueriesContext(connection) as few:
        client.get("/acme/settings/inboxes/")
    for n in range(8):
        more = inbox_create(organization=acme.org, name=f"box{n}")
        deliver(make_mail(to=more.address, sender=f"c{n}@client.test"))
    with CaptureQueriesContext(connection) as many:
        client.get("/acme/settings/inboxes/")
    assert len(many) == len(few)
