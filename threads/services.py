"""Writes of threads: create, store a message with its attachments, participants, status."""

import hashlib
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inboxes.models import Inbox
from threads.models import (
    Attachment,
    Message,
    Participant,
    Thread,
    attachment_content_key,
    thread_reference,
)
from tisket.errors import ConflictError, TisketError
from tisket.lib.addresses import address_normalize, address_without_tag
from tisket.lib.mail.parts import MailAttachment
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
    # Created with its first message counted, as every thread is opened by one.
    return Thread.objects.create(
        message_count=1,
        last_message_at=now,
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
) -> None:
    """Add (name, email) pairs to the thread, those already in it left as they are."""
    wanted = {
        address_normalize(email): (name, email)
        for name, email in people
        if email and address_without_tag(email) not in exclude
    }
    # The unique (thread, lower(email)) leaves an address already there as it is, in any case.
    Participant.objects.bulk_create(
        [
            Participant(thread=thread, email=email, name=name[:200])
            for name, email in wanted.values()
        ],
        ignore_conflicts=True,
    )


def attachments_prepare(
    *, organization_id: int, parts: list[MailAttachment], max_bytes: int
) -> list[Attachment]:
    """Write attachments to storage, unsaved rows returned; past max_bytes a part becomes a note.

    Content is stored once per organization, under its SHA-256; a part the
    organization holds already is not written again. attachments_discard()
    removes what was written for a message that was not stored after all.
    """
    prepared = []
    total = 0
    for part in parts:
        attachment = Attachment(
            organization_id=organization_id,
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
            key = attachment_content_key(organization_id, attachment.sha256)
            stored = _stored_already(
                attachment.file.storage, key, size=len(part.data), sha256=attachment.sha256
            )
            if stored:
                attachment.file.name = key  # a logo in every signature is kept once
            else:
                attachment.file.save(part.filename, ContentFile(part.data), save=False)
        prepared.append(attachment)
    return prepared


def _stored_already(storage, key: str, *, size: int, sha256: str) -> bool:
    """Whether the organization holds this very content already, whole.

    The key names the content's SHA-256, but a file written in place can be cut
    short, or damaged, by a crash: the size, then the bytes are checked before
    a copy is taken for the content. Otherwise it is written again under a
    fresh name.
    """
    try:
        if storage.size(key) != size:
            return False
        digest = hashlib.sha256()
        with storage.open(key, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest() == sha256
    except Exception:  # absent, or the storage cannot tell: write it
        return False


def attachments_save(*, message: Message, attachments: list[Attachment]) -> None:
    """Store prepared attachments as the message's."""
    for attachment in attachments:
        attachment.message = message
    Attachment.objects.bulk_create(attachments)


def attachments_discard(*, attachments: list[Attachment]) -> None:
    """Remove the files of prepared attachments that were not stored after all.

    Content kept once per organization stays: another message, in another
    worker's transaction, may have just taken it. Unused, it is only bytes.
    """
    for attachment in attachments:
        shared = attachment_content_key(attachment.organization_id, attachment.sha256)
        if attachment.file and attachment.file.name != shared:
            attachment.file.delete(save=False)


def thread_message_added(
    *, thread: Thread, reopen: bool, created: bool = False, answered: bool = False
) -> None:
    """Count a new message on its thread, and reopen a resolved thread when asked.

    `answered`: an agent wrote it (no automatic mail): the client no longer waits on us."""
    now = timezone.now()
    if created and thread.message_count == 1:
        return  # thread_create counted its first message already
    changes = {"message_count": F("message_count") + 1, "updated_at": now, "last_message_at": now}
    if answered:
        changes["client_replied_last"] = thread.client_replied_last = False
    if reopen and thread.status == Thread.Status.RESOLVED:
        changes["status"] = Thread.Status.OPEN
    Thread.objects.filter(pk=thread.pk).update(**changes)
    thread.message_count += 1
    thread.updated_at = thread.last_message_at = now
    thread.status = changes.get("status", thread.status)


class ThreadStatusError(TisketError):
    pass


@transaction.atomic
def thread_set_status(*, thread: Thread, status: str, actor: Membership | None) -> Thread:
    """Change the status of a thread without a ticket (a ticket's threads follow the ticket)."""
    if status not in Thread.Status.values:
        raise ThreadStatusError(f"Unknown status '{status}'.")
    link = getattr(thread, "ticket_link", None)  # tickets.TicketThread, when it has one
    if link is not None:
        raise ConflictError(
            f"{thread.reference} follows its ticket {link.ticket.reference}: change the "
            "ticket's status (PATCH /api/v1/tickets/<reference>/) and the conversation follows."
        )
    thread.status = status
    thread.updated_at = timezone.now()
    thread.save(update_fields=["status", "updated_at"])
    return thread
