"""The worker's half of the inbound pipeline: recorded mail becomes threads and messages.

Mail is processed in batches (one mail is a batch of one), each run in steps:

- claims.py   claim the next mails in a committed UPDATE; a mail that stopped
              its worker goes alone, and is set aside after MAX_RUNS.
- batch.py    one transaction: lock the claimed rows, parse, route, defer a
              reply whose question another worker holds, decide, prepare,
              store, record each outcome, then the caller's after_store.
- lookups.py  what the decision needs, loaded for the whole batch at once.
- decide.py   the decision, a pure function: duplicate, thread, sender check.
- prepare.py  sanitized HTML, visible text, attachments of an accepted mail.
- store.py    the bulk writes, locks in a fixed order.

Two workers never take the same mail: the claim holds others off until the
run's row locks do. Per mail, Django's query building costs more than the
database does, so the writes are a handful of bulk queries per batch. A mail
that breaks our code fails alone; if the batch's writes fail, each of its
mails runs again on its own, so one bad mail never holds up the others.
"""

import logging
import traceback

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from threads.ingest import claims
from threads.ingest.batch import AfterStore, Batch, InboundResult, commit_without_waiting_for_disk
from threads.models import InboundMail
from threads.services import attachments_discard
from tisket.models import Membership

__all__ = ["BATCH_SIZE", "AfterStore", "InboundResult", "ingest"]

logger = logging.getLogger(__name__)

Status = InboundMail.Status
BATCH_SIZE = 100


def ingest(
    *,
    after_store: AfterStore,
    ids: list[int] | None = None,
    from_status: str = Status.PENDING,
    limit: int = BATCH_SIZE,
    trust_sender: bool = False,
    actor: Membership | None = None,
    _alone: bool = False,
) -> list[InboundResult]:
    """Process these recorded mails, or the oldest pending ones; each mail exactly once.

    after_store(results) runs in the transaction that stored them: what a new
    mail does beyond its thread (its ticket, its acknowledgement) is the
    caller's to say (tickets.intake), so that it happens with the mail or not at all.
    trust_sender lets a quarantined mail into its thread (a release by actor).
    Mails another worker holds, or that are no longer in from_status, are skipped.
    """
    claimed = claims.batch_claim(ids=ids, limit=limit, from_status=from_status)
    if not claimed:
        return []
    batch = None
    try:
        with transaction.atomic():
            commit_without_waiting_for_disk()
            # Waits, never skips: the claim is ours, and what may hold one of these
            # rows a moment is another worker's claim scan (which waits for nothing).
            # Skipped, a claimed row would sit out its claim unprocessed.
            rows = list(
                InboundMail.objects.select_for_update()
                .filter(pk__in=claimed, status=from_status)
                .order_by("received_at", "id")
            )
            # Claimed, then finished by another path (a retry, a release): not ours now.
            claims.claims_clear(sorted(set(claimed) - {row.pk for row in rows}))
            batch = Batch(
                rows=rows,
                from_status=from_status,
                release=trust_sender,
                actor=actor,
                after_store=after_store,
            )
            return batch.run()
    except Exception as exc:
        if batch is not None:
            attachments_discard(attachments=batch.files)
        claims.claims_clear(claimed)  # an exception is handled here, not a crash
        if len(claimed) > 1 or (isinstance(exc, IntegrityError) and not _alone):
            # The batch's writes failed: run each mail alone, so a bad one fails alone.
            # (A mail alone that raced another worker to the same Message-ID is, on
            # its second run, simply a duplicate.)
            logger.warning("inbound batch of %s failed (%s); one by one", len(claimed), exc)
            return [
                result
                for pk in claimed
                for result in ingest(
                    after_store=after_store,
                    ids=[pk],
                    from_status=from_status,
                    trust_sender=trust_sender,
                    actor=actor,
                    _alone=True,
                )
            ]
        return [_fail(claimed[0], from_status=from_status, error=exc)]


def _fail(pk: int, *, from_status: str, error: Exception) -> InboundResult:
    # Our fault, not the sender's: keep the raw mail for a retry, say why, move on.
    # A release that fails stays a held mail: the agent's decision is not lost.
    logger.error("inbound #%s failed: %s", pk, type(error).__name__, exc_info=error)
    InboundMail.objects.filter(pk=pk, status=from_status).update(
        status=Status.QUARANTINED if from_status == Status.QUARANTINED else Status.FAILED,
        reason=f"{type(error).__name__}: {error}"[:1000],
        error="".join(traceback.format_exception(error))[-10_000:],
        attempts=F("attempts") + 1,
        processed_at=timezone.now(),
    )
    return InboundResult(inbound=InboundMail.objects.get(pk=pk))
