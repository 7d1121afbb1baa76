"""Agent groups: with the organization's switch on, an agent outside a queue gets 404 for its
conversations on every page and API URL that names one, and finds none of them in lists.

The walk enumerates the URLconf like the tenancy walk, so a new view is covered
the day it is added.
"""

from dataclasses import dataclass

import pytest

from tests.conftest import api_client
from tests.tisket.test_tenancy import API_PATTERNS, ORG_PAGES, PARAM, _fill
from tisket.models import Organization

CONVERSATION_PARAMS = {"thread", "ticket", "message", "attachment"}


@dataclass
class Hidden:
    thread: str
    ticket: str
    message: int
    attachment: int
    macro: int
    other_ticket: str


@pytest.fixture
def groups(acme, inbox):
    """Two queues; acme.agent works Technical only; a Billing conversation they must not see."""
    from inboxes.services import inbox_create
    from tests.mail import deliver, make_mail
    from tickets.macros import macro_save
    from tickets.queues import queue_create

    billing_inbox = inbox_create(organization=acme.org, name="billing", auto_ack_enabled=False)
    queue_create(organization=acme.org, name="Technical", actor=None, inboxes=[inbox])
    queue_create(organization=acme.org, name="Billing", actor=None, inboxes=[billing_inbox])
    from tickets.models import Queue

    Queue.objects.get(name="Technical").members.add(acme.agent)
    Queue.objects.get(name="Billing").members.add(acme.agent2)
    secret = deliver(
        make_mail(
            to=billing_inbox.address,
            subject="Invoice dispute billing-only",
            attachments=[("invoice.txt", "text/plain", b"amount due")],
        )
    )
    mine = deliver(make_mail(to=inbox.address, subject="Cannot log in technical"))
    Organization.objects.filter(pk=acme.org.pk).update(restrict_agents_to_queues=True)
    return Hidden(
        thread=secret.thread.reference,
        ticket=secret.thread.ticket_link.ticket.reference,
        message=secret.message.pk,
        attachment=secret.message.attachments.get().pk,
        macro=macro_save(organization=acme.org, actor=None, name="Hi", body="hi").pk,
        other_ticket=mine.thread.ticket_link.ticket.reference,
    )


UI_VALUES = {
    "thread": lambda h: h.thread,
    "ticket": lambda h: h.ticket,
    "message": lambda h: h.message,
    "attachment": lambda h: h.attachment,
    "macro": lambda h: h.macro,
}
CONVERSATION_PAGES = [
    (n, p)
    for n, p in ORG_PAGES
    if {m.group("name") for m in PARAM.finditer(p)} & CONVERSATION_PARAMS
]


@pytest.mark.parametrize(
    ("name", "pattern"), CONVERSATION_PAGES, ids=[n for n, _ in CONVERSATION_PAGES]
)
def test_every_page_of_a_conversation_outside_the_agents_queues_is_404(
    groups, acme, web, name, pattern
):
    names = {m.group("name") for m in PARAM.finditer(pattern)} - {"org_slug"}
    url = _fill(pattern, {"org_slug": "acme", **{n: UI_VALUES[n](groups) for n in names}})
    client = web(acme.agent)
    for method in ("get", "post"):
        status = getattr(client, method)(url).status_code
        assert status in (404, 405), (method, url, status)
    # A supervisor sees it.
    if "get" in name or name in ("thread", "ticket"):
        assert web(acme.supervisor).get(url).status_code in (200, 302)


def _api_values(name: str, h: Hidden) -> dict:
    if name == "api:attachment-download":
        return {"pk": h.attachment}
    if name == "api:thread-message-send-again":
        return {"reference": h.thread, "pk": h.message}
    if name.startswith("api:thread-"):
        return {"reference": h.thread}
    values = {"reference": h.ticket}
    if name == "api:ticket-macro-apply":
        values["pk"] = h.macro
    if name == "api:ticket-thread-detail":
        values["thread"] = h.thread
    if name == "api:ticket-child-detail":
        values["child"] = h.other_ticket
    return values


CONVERSATION_API = [
    (n, p)
    for n, p in API_PATTERNS
    if PARAM.search(p) and n.split(":")[1].split("-")[0] in ("thread", "ticket", "attachment")
]


ABOVE_AN_AGENT = {"api:ticket-sla-override"}


@pytest.mark.parametrize(
    ("name", "pattern"), CONVERSATION_API, ids=[n for n, _ in CONVERSATION_API]
)
def test_every_api_url_of_a_conversation_outside_the_agents_queues_is_404(
    groups, acme, name, pattern
):
    client = api_client(acme.agent)
    url = _fill(pattern, _api_values(name, groups))
    # Refused for the agent's role before any lookup, whether the ticket exists or not:
    # a 403 there tells nothing.
    refused = (403,) if name in ABOVE_AN_AGENT else ()
    for method in ("get", "patch", "put", "delete", "post"):
        status = getattr(client, method)(url, {}, format="json").status_code
        assert status in (404, 405, *refused), (method, url, status)


def test_lists_and_searches_leave_it_out_and_a_supervisor_or_the_switch_brings_it_back(
    groups, acme, web
):
    agent = web(acme.agent)
    for path in ("/acme/", "/acme/?q=billing-only", f"/acme/?q={groups.thread}"):
        assert b"Invoice dispute" not in agent.get(path).content, path
    assert b"Cannot log in technical" in agent.get("/acme/").content
    api = api_client(acme.agent)
    for path in ("/api/v1/threads/", "/api/v1/threads/?q=invoice", "/api/v1/tickets/"):
        assert "Invoice dispute" not in api.get(path).content.decode(), path
    assert "Invoice dispute" in api_client(acme.supervisor).get("/api/v1/threads/").content.decode()
    assert "Invoice dispute" in api_client(acme.agent2).get("/api/v1/tickets/").content.decode()

    Organization.objects.filter(pk=acme.org.pk).update(restrict_agents_to_queues=False)
    assert api_client(acme.agent).get(f"/api/v1/threads/{groups.thread}/").status_code == 200


def test_a_ticket_assigned_to_the_agent_is_theirs_to_see_whatever_its_queue(groups, acme):
    from tickets.models import Ticket

    Ticket.objects.filter(reference=groups.ticket).update(assignee=acme.agent)
    assert api_client(acme.agent).get(f"/api/v1/tickets/{groups.ticket}/").status_code == 200
    assert api_client(acme.agent).get(f"/api/v1/threads/{groups.thread}/").status_code == 200


def test_a_mention_never_notifies_an_agent_who_cannot_see_the_ticket(groups, acme):
    from tickets.models import Ticket
    from tickets.services import ticket_note_add
    from tisket.models import Notification

    ticket = Ticket.objects.get(reference=groups.ticket)
    ticket_note_add(ticket=ticket, body="@agent and @agent2, look", actor=acme.supervisor)
    assert not Notification.objects.filter(recipient=acme.agent).exists()
    assert Notification.objects.filter(recipient=acme.agent2, kind="mentioned").count() == 1


def test_held_mail_of_an_inbox_outside_the_agents_queues_is_not_theirs(groups, acme, web):
    from inboxes.models import Inbox
    from tests.tickets.test_quarantine_read import hold
    from threads.models import InboundMail

    billing = Inbox.objects.get(organization=acme.org, name="billing")
    theirs = hold(billing, n=7, sender="mallory@evil.test")
    agent = web(acme.agent)
    assert b"mallory@evil.test" not in agent.get("/acme/quarantine/").content
    for path in (f"/acme/quarantine/{theirs.pk}/", f"/acme/quarantine/{theirs.pk}/body/"):
        assert agent.get(path).status_code == 404
    for action in ("release", "discard"):
        assert agent.post(f"/acme/quarantine/{theirs.pk}/{action}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == InboundMail.Status.QUARANTINED
    billing_agent = web(acme.agent2)
    assert b"mallory@evil.test" in billing_agent.get("/acme/quarantine/").content
    assert billing_agent.get(f"/acme/quarantine/{theirs.pk}/").status_code == 200
