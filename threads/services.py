"""Writes of threads: create, store a message with its attachments, participants, status."""

import hashlib
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inboxes.models import Inbox
from threads.models import Attachment, Message, Participant, Thread, thread_reference
from tisket.errors import TisketError
from tisket.lib.addresses import address_without_tag
from tisket.lib.mail.parse import MailAttachment
from tisket.models import Membership, Organization
from tisket.services import sequence_next


def message_id_key(message_id: str) -> str:
    """The dedupe key of a Message-ID."""
    return hashlib.sha256(message_id.strip().strip("<>").encode("utf-8", "replace")).hexdigest()


def thread_create(
    *, organization: Organization, inbox: Inbox, subject: str, client_email: str, client_name: str
) -> Thread:
    """Open a thread with the next reference of the organization (call inside a transaction)."""
    number = sequence_next(organization_id=organization.pk, name="thread")
    now = timezone.now()
    return Thread.objects.create(
        organization=organization,
        inbox=inbox,
        number=number,
        reference=thread_reference(code=organization.code, number=number),
        subject=subject,
        client_email=client_email,
        client_name=client_name,
        created_at=now,
        updated_at=now,
    )


def participants_add(
    *,
    thread: Thread,
    people: Iterable[tuple[str, str]],
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[Participant]:
    """Add (name, email) pairs not yet in the thread; returns the new participants."""
    wanted = {
        email: name for name, email in people if email and address_without_tag(email) not in exclude
    }
    if not wanted:
        return []
    known = set(
        Participant.objects.filter(thread=thread, email__in=wanted).values_list("email", flat=True)
    )
    new = [
        Participant(thread=thread, email=email, name=name[:200])
        for email, name in wanted.items()
        if email not in known
    ]
    Participant.objects.bulk_create(new, ignore_conflicts=True)
    return new


def attachments_store(
    *, message: Message, attachments: list[MailAttachment], max_bytes: int
) -> list[Attachment]:
    """Store attachments; past max_bytes in total, a part is replaced by a note, never the mail."""
    stored = []
    total = 0
    for part in attachments:
        attachment = Attachment(
            organization_id=message.organization_id,
            message=message,
            filename=part.filename,
            content_type=part.content_type,
            declared_type=part.declared_type[:150],
            size=len(part.data),
            content_id=part.content_id,
            is_inline=part.inline,
        )
        if total + len(part.data) > max_bytes:
            attachment.omitted_reason = (
                f"Not kept: over this inbox's limit of {max_bytes // (1024 * 1024)} MB per message."
            )
        else:
            total += len(part.data)
            attachment.sha256 = hashlib.sha256(part.data).hexdigest()
            attachment.file.save(part.filename, ContentFile(part.data), save=False)
        stored.append(attachment)
    Attachment.objects.bulk_create(stored)
    return stored


def thread_message_added(*, thread: Thread, message: Message, reopen: bool) -> None:
    """Count a new message on its thread, and reopen a resolved thread when asked."""
    now = timezone.now()
    changes = {"message_count": F("message_count") + 1, "updated_at": now, "last_message_at": now}
    if reopen and thread.status == Thread.Status.RESOLVED:
        changes["status"] = Thread.Status.OPEN
    Thread.objects.filter(pk=thread.pk).update(**changes)
    thread.refresh_from_db(fields=["message_count", "updated_at", "last_message_at", "status"])


class ThreadStatusError(TisketError):
    pass


@transaction.atomic
def thread_set_status(*, thread: Thread, status: str, actor: Membership | None) -> Thread:
    """Change a thread's status."""
    if status not in Thread.Status.values:
        raise ThreadStatusError(f"Unknown status '{status}'.")
    thread.status = status
    thread.updated_at = timezone.now()
    thread.save(update_fields=["status", "updated_at"])
    return thread
