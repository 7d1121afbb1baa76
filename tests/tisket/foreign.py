"""The other organization's objects, of every kind the API serves: what the tenancy
walks (UI, API, MCP) point at."""

from dataclasses import dataclass

import pytest

from tests.conftest import Cast
from tisket import services
from tisket.models import Notification


@dataclass
class Foreign:
    """Objects of the other organization, of every kind the API serves."""

    cast: Cast
    token_id: int
    inbox_id: int
    thread_reference: str
    attachment_id: int
    quarantined_id: int
    queue_id: int
    ticket_reference: str
    macro_id: int
    calendar_id: int
    policy_id: int
    customer_id: int
    message_id: int
    notification_id: int


@pytest.fixture
def foreign(globex, globex_inbox) -> Foreign:
    return make_foreign(globex, globex_inbox)


def make_foreign(globex: Cast, globex_inbox) -> Foreign:
    from sla import services as sla_services
    from tests.mail import deliver, make_mail
    from tickets.macros import macro_save
    from tickets.queues import queue_create
    from tickets.services import ticket_note_add

    queue = queue_create(
        organization=globex.org, name="Globex support", actor=None, inboxes=[globex_inbox]
    )
    to = globex_inbox.address
    first = deliver(
        make_mail(to=to, attachments=[("globex-secret.txt", "text/plain", b"globex data")])
    )
    held = deliver(make_mail(to=to, sender="eve@evil.test", subject="Re: [THD-GLX-001] x"))
    ticket = first.thread.ticket_link.ticket
    ticket_note_add(ticket=ticket, body="globex internal note", actor=globex.agent)
    macro = macro_save(organization=globex.org, actor=None, name="Globex macro", body="hi")
    calendar = sla_services.calendar_create(organization=globex.org, name="Globex hours")
    policy = sla_services.policy_create(organization=globex.org, name="Gold", calendar=calendar)
    customer = sla_services.customer_save(
        organization=globex.org, name="Globex client", policy=policy, domains=["client.test"]
    )
    return Foreign(
        cast=globex,
        token_id=services.api_token_create(membership=globex.agent, name="theirs")[0].pk,
        inbox_id=globex_inbox.pk,
        thread_reference=first.thread.reference,
        attachment_id=first.message.attachments.get().pk,
        quarantined_id=held.inbound.pk,
        queue_id=queue.pk,
        ticket_reference=ticket.reference,
        macro_id=macro.pk,
        calendar_id=calendar.pk,
        policy_id=policy.pk,
        customer_id=customer.pk,
        message_id=first.message.pk,
        notification_id=Notification.objects.create(
            organization=globex.org, recipient=globex.agent, kind="assigned", title="theirs"
        ).pk,
    )
