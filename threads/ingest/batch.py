"""One run over a batch of claimed mails, in one transaction: parse, route, decide,
prepare, store, record the outcome, and the caller's after_store."""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from inboxes.models import Inbox
from threads.ingest import store
from threads.ingest.decide import Candidate, Decision, candidate_dedupe_key, decide
from threads.ingest.lookups import lookups_load
from threads.ingest.prepare import Accepted, mail_prepare
from threads.models import Attachment, InboundMail, Message, Thread
from threads.routing import inboxes_by_address, recipient_candidates, route
from threads.services import attachments_discard
from tisket.lib.mail.parse import ParsedMail, parse_mail
from tisket.models import Membership

logger = logging.getLogger("threads.ingest")

Status = InboundMail.Status


@dataclass
class InboundResult:
    inbound: InboundMail
    thread: Thread | None = None
    message: Message | None = None
    thread_created: bool = False


AfterStore = Callable[[list[InboundResult]], None]


@dataclass
class _Mail:
    """One mail of the run, as it goes from row to outcome."""

    row: InboundMail
    parsed: ParsedMail | None = None
    candidate: Candidate | None = None
    decision: Decision | None = None
    accepted: Accepted | None = None
    deferred: bool = False  # left pending for the next run

    def decide(self, status: str, reason: str = "") -> None:
        self.row.status = status
        self.row.reason = reason
        if status in (Status.REJECTED, Status.QUARANTINED):
            logger.info("inbound #%s %s: %s", self.row.pk, status, reason)


class Batch:
    def __init__(
        self,
        *,
        rows: list[InboundMail],
        from_status: str,
        release: bool,
        actor: Membership | None,
        after_store: AfterStore,
    ) -> None:
        self.rows = rows
        self.from_status = from_status
        self.release = release
        self.actor = actor
        self.after_store = after_store
        self.files: list[Attachment] = []  # written to storage; discarded if the run fails

    def run(self) -> list[InboundResult]:
        mails = [_Mail(row=row) for row in self.rows]
        live = [m for m in mails if self._parse(m)]
        inboxes = inboxes_by_address(
            a for m in live for a in recipient_candidates(m.parsed, m.row.envelope_recipient)
        )
        live = [m for m in live if self._route(m, inboxes)]
        live = self._defer_replies_to_pending(live, ours=mails)
        accepted = self._decide(live)
        store.messages_store(accepted, released=self.release)
        self._finish(mails)
        results = [
            InboundResult(
                inbound=m.row,
                thread=m.decision.thread if m.accepted else m.row.thread,
                message=m.accepted.message if m.accepted else None,
                thread_created=bool(m.accepted) and m.decision.thread_created,
            )
            for m in mails
        ]
        self.after_store(results)  # in this transaction: a ticket opens with its thread, or neither
        self.files = []  # stored with the batch: no longer ours to discard
        return [r for r, m in zip(results, mails, strict=True) if not m.deferred]

    def _parse(self, mail: _Mail) -> bool:
        try:
            mail.parsed = parse_mail(mail.row.raw_bytes())
        except Exception as exc:
            self._fail(mail, exc)
            return False
        mail.row.from_email = mail.parsed.from_email
        mail.row.subject = mail.parsed.subject
        mail.row.message_id_header = mail.parsed.message_id[:998]
        return True

    def _route(self, mail: _Mail, inboxes: dict[str, Inbox]) -> bool:
        parsed = mail.parsed
        found = route(parsed, envelope_recipient=mail.row.envelope_recipient, inboxes=inboxes)
        if found is None:
            tried = recipient_candidates(parsed, mail.row.envelope_recipient)
            mail.decide(
                Status.REJECTED,
                f"No inbox has any of the recipient addresses ({', '.join(tried) or 'none'}).",
            )
            return False
        inbox, tags = found
        mail.row.inbox = inbox
        mail.row.organization_id = inbox.organization_id
        mail.candidate = Candidate(
            parsed=parsed,
            inbox=inbox,
            tags=tuple(tags),
            dedupe_key=candidate_dedupe_key(parsed),
            released_into=mail.row.thread if self.release else None,
        )
        return True

    def _defer_replies_to_pending(self, mails: list[_Mail], *, ours: list[_Mail]) -> list[_Mail]:
        """Leave for later a reply whose question another worker is storing right now.

        Another worker's batch may hold the mail this one answers, its thread not
        committed yet: matched now, the reply would open a thread of its own.
        Left pending, it is taken by the next run, after the question's commit.
        """
        in_run = {m.row.message_id_header for m in ours if m.row.message_id_header}
        wanted = {ref for m in mails for ref in m.parsed.thread_message_ids if ref not in in_run}
        if not wanted:
            return mails
        pending = set(
            InboundMail.objects.filter(
                status=Status.PENDING, message_id_header__in=wanted
            ).values_list("message_id_header", flat=True)
        )
        for mail in mails:
            if pending.intersection(mail.parsed.thread_message_ids):
                mail.deferred = True
                mail.row.status = self.from_status
        return [m for m in mails if not m.deferred]

    def _decide(self, mails: list[_Mail]) -> list[Accepted]:
        """Decide every mail, then prepare the accepted ones.

        A mail that fails its preparation fails alone, and the others are decided
        again without it: the decision is pure and cheap, and each mail's
        authentication verdict is asked once.
        """
        self.decided = mails
        if not mails:
            return []
        raw = {id(m.candidate): m.row.raw_bytes() for m in mails}
        lookups = lookups_load([m.candidate for m in mails], raw=raw, release=self.release)
        verdicts: dict[int, str] = {}
        ask = lookups.verdict

        def verdict_once(candidate: Candidate) -> str:
            if id(candidate) not in verdicts:
                verdicts[id(candidate)] = ask(candidate)
            return verdicts[id(candidate)]

        lookups.verdict = verdict_once
        prepared: dict[int, Accepted] = {}  # id(mail) -> its preparation, kept across rounds
        while True:
            decisions = decide([m.candidate for m in mails], lookups)
            broken = self._prepare(mails, decisions, lookups.own_addresses, prepared)
            if broken is None:
                break
            mails = [m for m in mails if m is not broken]
        self.decided = mails
        accepted = []
        for mail, decision in zip(mails, decisions, strict=True):
            self._apply(mail, decision)
            if decision.status == Status.ACCEPTED:
                mail.accepted = prepared.pop(id(mail))
                mail.accepted.decision = decision
                accepted.append(mail.accepted)
        for orphan in prepared.values():  # accepted in a round, not in the last
            self.files = [f for f in self.files if f not in orphan.attachments]
            attachments_discard(attachments=orphan.attachments)
        return accepted

    def _prepare(
        self,
        mails: list[_Mail],
        decisions: list[Decision],
        own_addresses: dict[int, set[str]],
        prepared: dict[int, Accepted],
    ) -> _Mail | None:
        """Prepare the accepted mails not prepared yet; the first that fails, or None."""
        for mail, decision in zip(mails, decisions, strict=True):
            if decision.status != Status.ACCEPTED or id(mail) in prepared:
                continue
            try:
                prepared[id(mail)] = mail_prepare(
                    row=mail.row,
                    candidate=mail.candidate,
                    decision=decision,
                    own_addresses=own_addresses[mail.candidate.organization_id],
                )
            except Exception as exc:
                self._fail(mail, exc)
                return mail
            self.files.extend(prepared[id(mail)].attachments)
        return None

    def _apply(self, mail: _Mail, decision: Decision) -> None:
        mail.decision = decision
        row = mail.row
        if decision.status == Status.QUARANTINED and not self.release:
            row.thread = decision.thread  # the thread it tried to enter, for a release
            row.held_by = decision.held_by
        elif decision.status == Status.ACCEPTED:
            row.thread = decision.thread
        if decision.stored is not None:
            row.thread, row.message = decision.thread, decision.stored
        mail.decide(decision.status, decision.reason)
        if decision.left_out:
            logger.info(
                "inbound #%s: %s more addresses left out of the participants (%s at most per mail)",
                row.pk,
                decision.left_out,
                settings.TISKET_MAX_NEW_PARTICIPANTS,
            )

    def _fail(self, mail: _Mail, exc: Exception) -> None:
        """Our code broke on this mail: it fails alone, its raw bytes kept for a retry."""
        logger.error("inbound #%s failed: %s", mail.row.pk, type(exc).__name__, exc_info=exc)
        # A release that fails stays a held mail: the agent's decision is not lost.
        held = self.from_status == Status.QUARANTINED
        reason = f"{'Release failed: ' if held else ''}{type(exc).__name__}: {exc}"[:1000]
        mail.decide(Status.QUARANTINED if held else Status.FAILED, reason)
        mail.row.error = "".join(traceback.format_exception(exc))[-10_000:]
        mail.decision = None

    def _finish(self, mails: list[_Mail]) -> None:
        now = timezone.now()
        for mail in mails:
            row = mail.row
            row.claims, row.claimed_until = 0, None  # this run finishes with the commit
            if mail.deferred:
                continue
            decision = mail.decision
            if decision is not None and decision.duplicate_of is not None:
                original = self.decided[decision.duplicate_of]
                row.thread = original.decision.thread
                row.message = original.accepted.message
                mail.decide(
                    Status.DUPLICATE,
                    f"Already stored in {row.thread.reference} (message #{row.message.pk}): "
                    f"{decision.reason}.",
                )
            if row.status == Status.ACCEPTED and mail.accepted.automated:
                row.reason = " ".join(
                    filter(None, [row.reason, f"Automatic mail: {mail.accepted.automated}."])
                )
            if row.status == Status.ACCEPTED and mail.accepted.degraded:
                degraded = "; ".join(mail.accepted.degraded)
                row.reason = " ".join(filter(None, [row.reason, f"Degraded: {degraded}."]))
            if row.status != Status.FAILED:
                row.error = ""
            row.attempts += 1
            row.processed_at = now
            row.decided_by = self.actor
        store.rows_update([m.row for m in mails])


def commit_without_waiting_for_disk() -> None:
    # Safe here: the raw mail was committed durably at the edge. If the machine
    # crashes before this transaction reaches the disk, the mail is simply
    # pending again and the sweep processes it again. Anything that acts on the
    # outside world commits synchronously later, which flushes this one first.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
