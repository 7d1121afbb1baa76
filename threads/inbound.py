"""The inbound pipeline's entries: recording a raw mail, and processing recorded mail.

inbound_record() records the raw mail once, cheaply; the worker (threads.ingest)
routes, deduplicates, matches a thread, checks the sender, flags automatic mail
and stores the message. Every edge (webhooks, raw endpoint, IMAP, import) and
the worker reach these through tickets.intake, which says what a stored mail
does beyond its thread. Two error classes, as in Zulip's
gateway: the sender's (rejected or quarantined with a reason, logged at info)
and ours (failed, raw mail kept for a retry, logged as an error).
"""

import functools
import hashlib
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, models
from django.utils import timezone

from threads.ingest import BATCH_SIZE, AfterStore, InboundResult, ingest
from threads.models import InboundMail
from tisket.audit import Action, audit_record
from tisket.errors import TisketError
from tisket.lib.addresses import address_normalize
from tisket.models import Membership

__all__ = ["InboundResult"]

logger = logging.getLogger(__name__)

Status = InboundMail.Status
PENDING_GRACE = timedelta(seconds=60)


class InboundStateError(TisketError):
    status_code = 409


# --- The edge -------------------------------------------------------------------


def inbound_record(
    *, raw: bytes, source: str, recipient: str = "", stripped_text: str = ""
) -> tuple[InboundMail, bool]:
    """Record a received mail once (same bytes, same recipient); cheap and idempotent.

    Returns the row and whether it is new; waking the worker is the caller's.
    """
    digest = hashlib.sha256(raw).hexdigest()
    recipient = address_normalize(recipient)[:998]
    inbound = InboundMail(
        source=source[:40],
        raw_sha256=digest,
        envelope_recipient=recipient,
        raw_size=len(raw),
        esp_stripped_text=stripped_text[:100_000].replace("\x00", ""),
        message_id_header=_message_id_at_the_edge(raw),
    )
    if len(raw) <= settings.TISKET_INBOUND_INLINE_MAX_BYTES:
        inbound.raw_data = raw
    else:
        seen = InboundMail.objects.filter(raw_sha256=digest, envelope_recipient=recipient)
        if existing := seen.defer("raw_data").first():
            return existing, False  # known: spare the large upload
        inbound.raw_file.save("mail.eml", ContentFile(raw), save=False)
    # Insert first: a new mail is the common case, and the unique key settles a
    # retried delivery (or two racing ones) in the same round trip.
    if not _insert_once(inbound):
        # Delivered before (a retried webhook), or by a concurrent delivery just now.
        if inbound.raw_file:
            inbound.raw_file.delete(save=False)
        existing = InboundMail.objects.defer("raw_data")
        return existing.get(raw_sha256=digest, envelope_recipient=recipient), False
    return inbound, True


def _insert_once(inbound: InboundMail) -> bool:
    """INSERT the row unless its mail is recorded already; False when it was.

    One statement, compiled once: at a thousand webhooks a second, compiling the
    ORM's INSERT cost more than running it. ON CONFLICT answers a duplicate
    without an error, so there is no savepoint inside a transaction either, and
    outside one (a webhook) the statement commits on its own, with no BEGIN.
    """
    fields, sql = _insert_statement(connection.vendor)
    params = [field.get_db_prep_save(field.pre_save(inbound, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    inbound.pk = row[0]
    inbound._state.adding = False
    inbound._state.db = connection.alias
    return True


@functools.cache
def _insert_statement(vendor: str) -> tuple[tuple[models.Field, ...], str]:
    meta = InboundMail._meta
    quote = connection.ops.quote_name
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    (once,) = (c for c in meta.constraints if c.name == "inbound_mail_once")
    key = ", ".join(quote(meta.get_field(name).column) for name in once.fields)
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    # Every name comes from the model, quoted; the values are parameters.
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({key}) DO NOTHING"  # noqa: S608
    sql += f" RETURNING {pk}"
    return fields, sql


MESSAGE_ID_RE = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?<([^<>\s]{1,900})>", re.I | re.M)
HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


def _message_id_at_the_edge(raw: bytes) -> str:
    """The Message-ID, read off the header block without parsing the mail.

    Recorded at once so that a worker can tell a reply whose question is still
    on its way through another worker (threads.ingest defers such replies).
    """
    end = HEADER_END_RE.search(raw, 0, 65536)
    match = MESSAGE_ID_RE.search(raw, 0, end.start() if end else 65536)
    return match.group(1).decode("ascii", "replace").replace("\x00", "") if match else ""


def inbound_pending_stale() -> list[int]:
    """Mail left pending past a grace period: the broker was down, or a worker died mid-way.

    A worker holds its mails' row locks for the whole of its one transaction;
    if it dies, the transaction rolls back and its mails are simply pending again.
    """
    return list(
        InboundMail.objects.filter(
            status=Status.PENDING, received_at__lt=timezone.now() - PENDING_GRACE
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )


# --- Processing (threads.ingest does the work) -------------------------------------


def inbound_process(*, inbound_id: int, after_store: AfterStore) -> InboundResult | None:
    """Process one pending mail; None when another worker has it or it is done already."""
    results = ingest(ids=[inbound_id], after_store=after_store)
    return results[0] if results else None


def inbound_process_many(*, inbound_ids: list[int], after_store: AfterStore) -> list[InboundResult]:
    """Process these pending mails in one batch (an import); each exactly once."""
    return ingest(ids=inbound_ids, limit=len(inbound_ids), after_store=after_store)


def inbound_process_pending(*, after_store: AfterStore) -> int:
    """Process pending mail, oldest first, one batch after another until none is left."""
    processed = 0
    while results := ingest(limit=BATCH_SIZE, after_store=after_store):
        processed += len(results)
    return processed


def inbound_retry(*, inbound: InboundMail, after_store: AfterStore) -> InboundResult:
    """Process a failed mail again."""
    results = ingest(ids=[inbound.pk], from_status=Status.FAILED, after_store=after_store)
    if not results:
        inbound.refresh_from_db(fields=["status"])
        raise InboundStateError(f"Only failed mail can be retried; this one is {inbound.status}.")
    return results[0]


def quarantine_release(
    *, inbound: InboundMail, actor: Membership | None, after_store: AfterStore
) -> InboundResult:
    """Let a held mail into its thread; its sender becomes a participant."""
    results = ingest(
        ids=[inbound.pk],
        from_status=Status.QUARANTINED,
        trust_sender=True,
        actor=actor,
        after_store=after_store,
    )
    if not results:
        inbound.refresh_from_db(fields=["status"])
        raise InboundStateError(f"This mail is {inbound.status}, not quarantined.")
    _audit_decision(inbound, Action.QUARANTINE_RELEASED, actor)
    return results[0]


def _audit_decision(inbound: InboundMail, action: str, actor: Membership | None) -> None:
    audit_record(
        organization=inbound.organization_id,
        action=action,
        actor=actor,
        target=inbound,
        target_label=f"{inbound.from_email or 'unknown sender'}: {inbound.subject}"[:300],
    )


def quarantine_discard(*, inbound: InboundMail, actor: Membership | None) -> InboundMail:
    """Drop a held mail for good (the log keeps it)."""
    done = InboundMail.objects.filter(pk=inbound.pk, status=Status.QUARANTINED).update(
        status=Status.DISCARDED, decided_by=actor, processed_at=timezone.now()
    )
    inbound.refresh_from_db()
    if not done:
        raise InboundStateError(f"This mail is {inbound.status}, not quarantined.")
    _audit_decision(inbound, Action.QUARANTINE_DISCARDED, actor)
    return inbound
