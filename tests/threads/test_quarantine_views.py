"""The quarantine page: held mail with its reason, released or discarded by an agent."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mail import deliver, make_mail
from threads.models import InboundMail, Message


def hold(inbox, n: int = 1):
    first = deliver(make_mail(to=inbox.address, message_id=f"<first{n}@example.com>"))
    return deliver(
        make_mail(
            to=inbox.address,
            sender=f"stranger{n}@evil.test",
            subject=f"Re: [{first.thread.reference}] hello",
            message_id=f"<held{n}@evil.test>",
        )
    )


def test_held_mail_is_listed_with_its_reason(acme, inbox, web):
    held = hold(inbox)
    assert held.inbound.status == "quarantined"
    page = web(acme.viewer).get("/acme/quarantine/").content.decode()
    assert "stranger1@evil.test" in page and held.inbound.reason in page
    assert "quarantine-release" not in page and ">Release<" not in page  # agents decide


def test_an_agent_releases_a_held_mail_into_its_thread(acme, inbox, web):
    held = hold(inbox)
    response = web(acme.agent).post(f"/acme/quarantine/{held.inbound.pk}/release/", follow=True)
    assert "Released into" in response.content.decode()
    mail = InboundMail.objects.get(pk=held.inbound.pk)
    assert mail.status == "accepted" and mail.decided_by == acme.agent
    assert Message.objects.filter(thread=mail.thread, from_email="stranger1@evil.test").exists()


def test_an_agent_discards_a_held_mail_and_a_second_decision_is_refused(acme, inbox, web):
    held = hold(inbox)
    client = web(acme.agent)
    client.post(f"/acme/quarantine/{held.inbound.pk}/discard/")
    assert InboundMail.objects.get(pk=held.inbound.pk).status == "discarded"
    again = client.post(f"/acme/quarantine/{held.inbound.pk}/release/", follow=True)
    assert again.status_code == 200
    assert InboundMail.objects.get(pk=held.inbound.pk).status == "discarded"
    assert "msg-error" in again.content.decode()


def test_viewers_cannot_decide(acme, inbox, web):
    held = hold(inbox)
    assert web(acme.viewer).post(f"/acme/quarantine/{held.inbound.pk}/release/").status_code == 403
    assert InboundMail.objects.get(pk=held.inbound.pk).status == "quarantined"


def test_the_page_takes_the_same_queries_for_few_or_many(acme, inbox, web):
    client = web(acme.agent)
    hold(inbox, 1)
    client.get("/acme/quarantine/")
    with CaptureQueriesContext(connection) as few:
        client.get("/acme/quarantine/")
    for n in range(2, 12):
        hold(inbox, n)
    with CaptureQueriesContext(connection) as many:
        client.get("/acme/quarantine/")
    assert len(many) == len(few)
