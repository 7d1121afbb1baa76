"""Writing a batch: new threads, messages, attachments, participants, thread counts, and
what became of each mail in the inbound log. Bulk statements, locks in a fixed order."""

from collections import defaultdict

from django.db.models import F
from django.utils import timezone

from threads.ingest.prepare import Accepted
from threads.models import Attachment, InboundMail, Message, Participant, Thread, thread_reference
from threads.search import message_search_piece, thread_search_append
from threads.services import message_id_key
from tisket.lib.addresses import address_normalize
from tisket.lib.rows import rows_save_fields
from tisket.models import Role, role_at_least
from tisket.services import sequence_next

ROW_FIELDS = [
    "status",
    "reason",
    "held_by",
    "error",
    "attempts",
    "claims",
    "claimed_until",
    "processed_at",
    "organization",
    "inbox",
    "thread",
    "message",
    "from_email",
    "subject",
    "message_id_header",
    "decided_by",
]


def messages_store(accepted: list[Accepted], *, released: bool) -> None:
    """Write the accepted mails: new threads, messages, attachments, participants, counts.

    The unique (organization, dedupe_key) is the last word on duplicates: if
    another worker stored one of these mails first, this raises and the batch
    runs again mail by mail.
    """
    if not accepted:
        return
    now = timezone.now()
    new_threads: dict[int, Thread] = {}
    counts: dict[int, list[Accepted]] = defaultdict(list)
    for mail in accepted:
        counts[id(mail.decision.thread)].append(mail)
        if mail.decision.thread_created:
            new_threads[id(mail.decision.thread)] = mail.decision.thread
    _threads_create(new_threads.values(), counts, accepted, now=now)

    for mail in accepted:
        parsed, decision = mail.candidate.parsed, mail.decision
        # A member's mail is the desk's answer when its sender was authenticated,
        # or an agent released it; a From header alone proves nothing.
        mail.outbound = (
            decision.member is not None
            and role_at_least(decision.member.role, Role.AGENT)  # a viewer never answers
            and not decision.thread_created
            and (bool(decision.verdict) or released)
        )
        mail.message = Message(
            organization_id=mail.candidate.organization_id,
            thread=decision.thread,
            direction=Message.Direction.OUTBOUND if mail.outbound else Message.Direction.INBOUND,
            from_email=parsed.from_email,
            from_name=parsed.from_name,
            to=[{"name": n, "email": e} for n, e in parsed.to],
            cc=[{"name": n, "email": e} for n, e in parsed.cc],
            subject=parsed.subject,
            html=mail.html,
            text=parsed.text,
            visible_text=mail.visible,
            message_id=parsed.message_id[:998],
            in_reply_to=" ".join(f"<{i}>" for i in parsed.in_reply_to)[:998],
            references=" ".join(f"<{i}>" for i in parsed.references),
            dedupe_key=decision.dedupe_key or mail.candidate.dedupe_key,
            content_key=parsed.content_key,
            parent_key=message_id_key(parsed.in_reply_to[0]) if parsed.in_reply_to else "",
            sender_note=parsed.sender_note[:300],
            author=decision.member if mail.outbound else None,
            automated_reason=mail.automated[:200],
            sent_at=parsed.date,
            created_at=now,
        )
    Message.objects.bulk_create([m.message for m in accepted])
    thread_search_append(
        pieces=(
            message_search_piece(m.message, delivered_to=m.candidate.inbox.address)
            for m in accepted
        )
    )
    for mail in accepted:
        mail.row.message = mail.message
        for attachment in mail.attachments:
            attachment.message = mail.message
    Attachment.objects.bulk_create([a for m in accepted for a in m.attachments])
    participants = {
        (mail.decision.thread.pk, address_normalize(email)): Participant(
            thread=mail.decision.thread, email=email, name=name[:200]
        )
        for mail in accepted
        for name, email in mail.decision.joining
    }
    Participant.objects.bulk_create(participants.values(), ignore_conflicts=True)
    _threads_count(counts, now=now)


def _threads_create(threads, counts, accepted: list[Accepted], *, now) -> None:
    by_org: dict[int, list[Thread]] = defaultdict(list)
    for thread in threads:
        by_org[thread.organization_id].append(thread)
    codes = {m.candidate.organization_id: m.candidate.inbox.organization.code for m in accepted}
    # The sequence's row lock is held from here to the commit: keep it short.
    # Locks in a fixed order (organizations, then threads, by id), so that two
    # workers' batches never wait on each other in a circle.
    for org, org_threads in sorted(by_org.items()):
        last = sequence_next(organization_id=org, name="thread", count=len(org_threads))
        for number, thread in enumerate(org_threads, start=last - len(org_threads) + 1):
            thread.number = number
            thread.reference = thread_reference(code=codes[org], number=number)
            thread.message_count = len(counts[id(thread)])
            thread.created_at = thread.updated_at = thread.last_message_at = now
            if any(_from_client(m) for m in counts[id(thread)]):
                thread.last_inbound_at, thread.client_replied_last = now, True
    Thread.objects.bulk_create([t for ts in by_org.values() for t in ts])


def _threads_count(counts: dict[int, list[Accepted]], *, now) -> None:
    """Count the new messages on existing threads; a client's mail reopens a resolved one."""
    for thread_mails in sorted(counts.values(), key=lambda ms: ms[0].decision.thread.pk):
        thread = thread_mails[0].decision.thread
        if thread_mails[0].decision.thread_created:
            continue
        changes = {
            "message_count": F("message_count") + len(thread_mails),
            "updated_at": now,
            "last_message_at": now,
        }
        reopen = any(_from_client(m) for m in thread_mails)
        if reopen:
            changes["last_inbound_at"] = thread.last_inbound_at = now
            changes["client_replied_last"] = thread.client_replied_last = True
        elif any(m.outbound and not m.automated for m in thread_mails):
            changes["client_replied_last"] = thread.client_replied_last = False
        if reopen and thread.status == Thread.Status.RESOLVED:
            changes["status"] = Thread.Status.OPEN
            thread.status = Thread.Status.OPEN
        Thread.objects.filter(pk=thread.pk).update(**changes)
        thread.message_count += len(thread_mails)
        thread.updated_at = thread.last_message_at = now


def _from_client(mail: Accepted) -> bool:
    """A person's mail from the client's side (not the desk's, not an auto-reply)."""
    return not mail.outbound and not mail.automated


def rows_update(rows: list[InboundMail]) -> None:
    """Save what the batch decided for each mail, in one pipelined round of UPDATEs."""
    for row in rows:
        # Related objects saved earlier in the batch: copy their ids onto the row.
        row._prepare_related_fields_for_save(operation_name="update")
    rows_save_fields(rows, ROW_FIELDS)
