"""Every conversation has its ticket: a conversation from before that rule gets one now, in the
queue its inbox feeds (else the organization's default queue), batch by batch.

Run again, it finds nothing left to do: a thread with a ticket is never touched. Its ticket
takes the conversation's status, client, subject and dates; it gets no SLA clock, as its
deadlines would have passed long ago (a change of priority starts one).
"""

from django.db import migrations, transaction

BATCH = 500
STATUSES = {"open": "open", "in_progress": "in_progress", "resolved": "resolved", "closed": "closed"}


def _queues(apps, db, organization) -> tuple[dict[int, int], int]:
    """The queue of each inbox that an admin chose, and the organization's default queue."""
    Queue = apps.get_model("tickets", "Queue")
    chosen: dict[int, int] = {}
    links = Queue.inboxes.through.objects.using(db).filter(queue__organization=organization)
    for inbox_id, queue_id in links.order_by("queue__name").values_list("inbox_id", "queue_id"):
        chosen.setdefault(inbox_id, queue_id)
    default = Queue.objects.using(db).filter(organization=organization, is_default=True).first()
    if default is None:
        default = Queue.objects.using(db).create(
            organization=organization, name="General", is_default=True
        )
    return chosen, default.pk


def conversation_tickets(apps, schema_editor):
    db = schema_editor.connection.alias  # the database migrated, which may not be the default
    Organization = apps.get_model("tisket", "Organization")
    Sequence = apps.get_model("tisket", "Sequence")
    Thread = apps.get_model("threads", "Thread")
    Ticket = apps.get_model("tickets", "Ticket")
    TicketThread = apps.get_model("tickets", "TicketThread")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    for organization in Organization.objects.using(db).order_by("pk").iterator():
        ticketless = Thread.objects.using(db).filter(
            organization=organization, ticket_link__isnull=True
        )
        if not ticketless.exists():
            continue
        chosen, default = _queues(apps, db, organization)
        while batch := list(ticketless.order_by("pk")[:BATCH]):
            with transaction.atomic(using=db):
                counter, _ = Sequence.objects.using(db).select_for_update().get_or_create(
                    organization=organization, name="ticket"
                )
                first = counter.last_value + 1
                counter.last_value += len(batch)
                counter.save(update_fields=["last_value"])
                tickets = Ticket.objects.using(db).bulk_create(
                    Ticket(
                        organization=organization,
                        number=first + i,
                        reference=f"TKT-{organization.code}-{first + i:03d}",
                        subject=(thread.subject or "(no subject)")[:998],
                        status=STATUSES.get(thread.status, "open"),
                        queue_id=chosen.get(thread.inbox_id, default),
                        created_via="email",
                        customer_email=thread.client_email,
                        resolved_at=(
                            thread.updated_at if thread.status in ("resolved", "closed") else None
                        ),
                        created_at=thread.created_at,
                        updated_at=thread.updated_at,
                    )
                    for i, thread in enumerate(batch)
                )
                TicketThread.objects.using(db).bulk_create(
                    TicketThread(ticket=ticket, thread=thread, created_at=thread.created_at)
                    for ticket, thread in zip(tickets, batch, strict=True)
                )
                TicketEvent.objects.using(db).bulk_create(
                    TicketEvent(
                        ticket=ticket,
                        kind="created",
                        data={"via": "email"},
                        created_at=thread.created_at,
                    )
                    for ticket, thread in zip(tickets, batch, strict=True)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0012_reply_drafts_per_agent"),
        ("threads", "0019_sender_rules"),
        ("tisket", "0012_portal_company_view"),
    ]

    operations = [migrations.RunPython(conversation_tickets, migrations.RunPython.noop)]
