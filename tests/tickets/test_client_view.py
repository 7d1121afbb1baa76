"""View as client: who may, with a reason, read-only, 30 minutes, never as a member, all audited."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.mail import deliver, make_mail
from tickets.models import ClientView
from tisket.audit import Action
from tisket.models import AuditEvent, Membership


@pytest.fixture
def thread(acme, inbox):
    return deliver(make_mail(to=inbox.address, body="My order never arrived.")).thread


def _start(client, thread, reason="the client says our reply is missing"):
    return client.post(f"/acme/threads/{thread.reference}/view-as-client/", {"reason": reason})


def test_a_supervisor_sees_the_clients_page_read_only_under_a_banner(acme, thread, web):
    client = web(acme.supervisor)
    assert b"View as client" in client.get(f"/acme/threads/{thread.reference}/").content
    response = _start(client, thread)
    view = ClientView.objects.get()
    assert response["Location"] == f"/acme/view-as-client/{view.pk}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Viewing as jane@client.test" in html and "My order never arrived." in html
    assert 'id="reply-body"' not in html  # not the client's own reply form
    assert "/c/" not in html  # no client link, no action of the client's
    assert page["Cache-Control"] == "no-store, private"
    started = AuditEvent.objects.get(action=Action.CLIENT_VIEW_STARTED)
    assert started.actor == acme.supervisor.user
    assert started.data["reason"] == "the client says our reply is missing"
    assert started.data["client"] == "jane@client.test"
    assert AuditEvent.objects.filter(action=Action.CLIENT_VIEW_OPENED).count() == 1

    client.post(f"/acme/view-as-client/{view.pk}/end/")
    ended = AuditEvent.objects.get(action=Action.CLIENT_VIEW_ENDED)
    assert ended.data["seconds"] >= 0
    assert client.get(f"/acme/view-as-client/{view.pk}/").status_code == 410


def test_a_session_expires_after_30_minutes(acme, thread, web):
    client = web(acme.supervisor)
    location = _start(client, thread)["Location"]
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert client.get(location).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        gone = client.get(location)
    assert gone.status_code == 410 and b"30 minutes" in gone.content


def test_an_agent_needs_the_grant_and_everyone_a_reason(acme, thread, web):
    agent = web(acme.agent)
    assert b"View as client" not in agent.get(f"/acme/threads/{thread.reference}/").content
    _start(agent, thread)
    assert not ClientView.objects.exists()
    Membership.objects.filter(pk=acme.agent.pk).update(can_view_as_client=True)
    refused = _start(agent, thread, reason=" ")
    assert not ClientView.objects.exists()
    assert refused.status_code == 302
    assert _start(agent, thread).status_code == 302
    assert ClientView.objects.get().member == acme.agent


def test_never_for_an_address_that_belongs_to_a_member(acme, inbox, web):
    colleague = deliver(make_mail(to=inbox.address, sender="Agent Two <agent2@acme.test>"))
    client = web(acme.supervisor)
    response = _start(client, colleague.thread)
    assert not ClientView.objects.exists()
    assert "a colleague" in str(list(response.wsgi_request._messages))
    assert AuditEvent.objects.filter(action=Action.CLIENT_VIEW_REFUSED).exists()


def test_a_session_is_its_members_only(acme, thread, web, client):
    location = _start(web(acme.supervisor), thread)["Location"]
    other = client
    other.force_login(acme.admin.user)
    assert other.get(location).status_code == 404
    assert other.post(location + "end/").status_code == 404


@pytest.fixture
def ticketed(acme, inbox):
    from tickets.queues import queue_create

    queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    return deliver(make_mail(to=inbox.address, body="My order never arrived.")).thread


def test_acting_as_the_client_needs_a_confirmation_each_time_and_says_on_whose_behalf(
    acme, ticketed, web
):
    from threads.models import Message
    from tickets.models import Note, Ticket

    client = web(acme.supervisor)
    location = _start(client, ticketed)["Location"]
    act = location + "act/"
    client.post(act, {"action": "reply", "body": "It came, thanks!"})
    assert Message.objects.filter(thread=ticketed).count() == 1  # not confirmed: nothing sent
    client.post(act, {"action": "reply", "body": "It came, thanks!", "confirm": "on"})
    reply = Message.objects.filter(thread=ticketed).latest("id")
    assert (reply.direction, reply.from_email) == ("inbound", "jane@client.test")
    assert "It came, thanks!" in reply.text
    note = Note.objects.get(ticket__thread_links__thread=ticketed)
    assert note.body.startswith("On behalf of jane@client.test: ")
    assert note.author == acme.supervisor

    client.post(act, {"action": "close"})
    ticket = Ticket.objects.get(thread_links__thread=ticketed)
    assert ticket.status != "resolved"
    client.post(act, {"action": "close", "confirm": "on"})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    acted = AuditEvent.objects.filter(action=Action.CLIENT_VIEW_ACTED).order_by("id")
    assert [e.data["action"] for e in acted] == ["reply", "close"]
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        late = client.post(act, {"action": "reply", "body": "x", "confirm": "on"})
    assert late.status_code == 410


def test_an_admin_grants_view_as_client_on_the_members_page_and_it_takes_effect(acme, thread, web):
    admin = web(acme.admin)
    page = admin.get("/acme/settings/members/").content.decode()
    assert f"Allow {acme.agent.user.email} to view as client" in page
    assert f"Allow {acme.supervisor.user.email}" not in page  # supervisors always may
    admin.post(f"/acme/settings/members/{acme.agent.pk}/view-as-client/", {"allowed": "on"})
    acme.agent.refresh_from_db()
    assert acme.agent.can_view_as_client
    agent = web(acme.agent)
    assert _start(agent, thread).status_code == 302 and ClientView.objects.count() == 1
    web(acme.admin).post(f"/acme/settings/members/{acme.agent.pk}/view-as-client/")
    acme.agent.refresh_from_db()
    assert not acme.agent.can_view_as_client
    granted = AuditEvent.objects.filter(
        organization=acme.org, action=Action.MEMBER_CLIENT_VIEW_CHANGED
    ).order_by("created_at", "id")
    assert [e.data["allowed"] for e in granted] == [True, False]
    assert granted[0].target_label == str(acme.agent.user)


def test_only_an_admin_of_the_organization_grants_view_as_client(acme, globex, web):
    url = f"/acme/settings/members/{acme.agent.pk}/view-as-client/"
    assert web(acme.supervisor).post(url, {"allowed": "on"}).status_code == 403
    assert web(globex.admin).post(url, {"allowed": "on"}).status_code == 404
    assert web(acme.admin).get(url).status_code == 405
    acme.agent.refresh_from_db()
    assert not acme.agent.can_view_as_client
