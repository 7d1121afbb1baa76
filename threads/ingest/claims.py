"""Claiming mail for a run, and telling a mail that stopped its worker.

A run claims its mails in a short transaction of its own, committed before the
run starts: `claims` goes up by one and `claimed_until` holds other workers off
until the run has its row locks (the run then keeps them to its commit, which
clears the claim). So the columns say, whatever happened to the process:

- claims == 0: no run of this mail is under way, or it finished.
- claims > 0 and the row not locked: that many runs began and never finished;
  the worker died on this mail, or with it. The mail then goes alone, and after
  MAX_RUNS it is set aside as failed, kept for mail_retry, so that one
  poisonous mail cannot stop the queue.

A run that fails with an exception is no crash: it releases its claims.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from threads.models import InboundMail

logger = logging.getLogger(__name__)

Status = InboundMail.Status
BATCH_BYTES = 32 * 1024 * 1024
MAX_RUNS = 3
# Holds other workers off between a claim's commit and the run's row locks; a
# dead worker's mail is free again after this.
CLAIM_SECONDS = 30


def batch_claim(*, ids: list[int] | None, limit: int, from_status: str) -> list[int]:
    """Claim the next mails to run, oldest first: up to `limit` and BATCH_BYTES, at least one.

    Committed at once. A mail left claimed by a run that never finished goes
    alone; one that stopped MAX_RUNS runs is marked failed instead.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = InboundMail.objects.select_for_update(skip_locked=True).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), status=from_status
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        candidates = list(
            rows.order_by("received_at", "id").values_list("pk", "raw_size", "claims")[:limit]
        )
        poisonous = [pk for pk, _, claims in candidates if claims >= MAX_RUNS]
        if poisonous:
            InboundMail.objects.filter(pk__in=poisonous).update(
                status=Status.FAILED,
                reason=f"Processing this mail stopped the worker {MAX_RUNS} times; "
                "kept for mail_retry once the cause is fixed.",
                claims=0,
                claimed_until=None,
                processed_at=now,
            )
            logger.error("inbound %s set aside: they stopped the worker", poisonous)
        chosen = _choose(
            [(pk, size, claims) for pk, size, claims in candidates if claims < MAX_RUNS]
        )
        if chosen:
            InboundMail.objects.filter(pk__in=chosen).update(
                claims=F("claims") + 1, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return chosen


def _choose(candidates: list[tuple[int, int, int]]) -> list[int]:
    suspects = [pk for pk, _, claims in candidates if claims > 0]
    if suspects:
        return suspects[:1]  # a mail whose run never finished goes alone
    chosen, total = [], 0
    for pk, size, _ in candidates:
        if chosen and total + size > BATCH_BYTES:
            break  # oldest first: the rest waits for the next batch
        chosen.append(pk)
        total += size
    return chosen


def claims_clear(pks: list[int]) -> None:
    """The runs of these mails ended, in the run's transaction or after its failure."""
    if pks:
        InboundMail.objects.filter(pk__in=pks).update(claims=0, claimed_until=None)
