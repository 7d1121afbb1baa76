"""The worker's half of the inbound pipeline: recorded mail becomes threads and messages.

Mail is processed in batches (one mail is a batch of one). A batch locks its
mails with SELECT ... FOR UPDATE SKIP LOCKED, so two workers never take the
same mail, and stores them in one transaction with a handful of bulk queries:
per mail, Django's query building costs more than the database does.

Within a batch, each mail is decided in order (route, deduplicate, match a
thread, check the sender), so a reply in the batch finds the thread its
question opened a moment before. A mail that breaks our code is marked
failed alone; if the batch's writes fail, each of its mails is run again on
its own, so one bad mail never holds up the others.
"""

import logging
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from inboxes.models import Inbox
from inboxes.selectors import organization_addresses
from threads.models import Attachment, InboundMail, Message, Participant, Thread, thread_reference
from threads.routing import ThreadMatcher, inboxes_by_address, recipient_candidates, route
from threads.services import attachments_discard, attachments_prepare, message_id_key
from tisket.lib.addresses import address_without_tag
from tisket.lib.html import sanitize_html
from tisket.lib.mail.authentication import AuthenticationPolicy, sender_verdict
from tisket.lib.mail.auto import automated_reason
from tisket.lib.mail.parse import ParsedMail, parse_mail
from tisket.lib.mail.quotes import visible_html_text, visible_text
from tisket.models import Membership, Role, role_at_least
from tisket.services import sequence_next

logger = logging.getLogger(__name__)

Status = InboundMail.Status
BATCH_SIZE = 100
BATCH_BYTES = 32 * 1024 * 1024
MAX_RUNS = 3
RUNS_TTL = 24 * 3600
ROW_FIELDS = [
    "status",
    "reason",
    "error",
    "attempts",
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


@dataclass
class InboundResult:
    inbound: InboundMail
    thread: Thread | None = None
    message: Message | None = None
    thread_created: bool = False


@dataclass
class _Mail:
    row: InboundMail
    parsed: ParsedMail | None = None
    inbox: Inbox | None = None
    tags: list[str] = field(default_factory=list)
    dedupe_key: str = ""
    thread: Thread | None = None
    thread_created: bool = False
    member: Membership | None = None
    verdict: str = ""  # what authenticated a member's mail as the desk's own
    joining: list[tuple[str, str]] = field(default_factory=list)  # new participants
    message: Message | None = None
    duplicate_of: "_Mail | None" = None
    attachments: list[Attachment] = field(default_factory=list)
    automated: str = ""
    html: str = ""
    visible: str = ""
    outbound: bool = False
    decided: bool = False
    deferred: bool = False

    def decide(self, status: str, reason: str = "") -> None:
        self.decided = True
        self.row.status = status
        self.row.reason = reason
        if status in (Status.REJECTED, Status.QUARANTINED):
            logger.info("inbound #%s %s: %s", self.row.pk, status, reason)


AfterStore = Callable[[list["InboundResult"]], None]


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
    batch = _Batch(
        trust_sender=trust_sender, actor=actor, from_status=from_status, after_store=after_store
    )
    try:
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            batch.lock(ids, limit)
            results = batch.run()
        _runs_finished([row.pk for row in batch.rows])
        return results
    except Exception as exc:
        batch.discard_files()
        rows = [row.pk for row in batch.rows]
        _runs_finished(rows)  # an exception is handled here, not a crash
        if len(rows) > 1 or (len(rows) == 1 and isinstance(exc, IntegrityError) and not _alone):
            # The batch's writes failed: run each mail alone, so a bad one fails alone.
            # (A mail alone that raced another worker to the same Message-ID is, on
            # its second run, simply a duplicate.)
            logger.warning("inbound batch of %s failed (%s); one by one", len(rows), exc)
            return [
                result
                for pk in rows
                for result in ingest(
                    after_store=after_store,
                    ids=[pk],
                    from_status=from_status,
                    trust_sender=trust_sender,
                    actor=actor,
                    _alone=True,
                )
            ]
        if not rows:
            raise
        return [_fail(rows[0], from_status=from_status, error=exc)]


def _commit_without_waiting_for_disk() -> None:
    # Safe here: the raw mail was committed durably at the edge. If the machine
    # crashes before this transaction reaches the disk, the mail is simply
    # pending again and the sweep processes it again. Anything that acts on the
    # outside world commits synchronously later, which flushes this one first.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _runs_started(pks: list[int]) -> dict[int, int]:
    """Count a start for each mail, in the shared cache; returns how many each has had.

    A worker that dies mid-batch (out of memory on a monstrous mail, say) never
    clears its counts: the next run sees suspects and takes them one at a time,
    so one poisonous mail cannot hold up the queue forever.
    """
    keys = {pk: f"tisket:inbound:runs:{pk}" for pk in pks}
    try:
        seen = cache.get_many(keys.values())
        counts = {pk: seen.get(key, 0) + 1 for pk, key in keys.items()}
        cache.set_many({keys[pk]: n for pk, n in counts.items()}, timeout=RUNS_TTL)
    except Exception as error:  # the cache's own connection errors, whatever the backend
        # Mail keeps flowing through a cache outage; only the guard against a
        # poisonous mail is off until the cache is back.
        logger.warning("inbound run counts not kept, the cache failed: %s", error)
        return dict.fromkeys(pks, 1)
    return counts


def _runs_finished(pks: list[int]) -> None:
    try:
        cache.delete_many([f"tisket:inbound:runs:{pk}" for pk in pks])
    except Exception as error:  # the cache's own connection errors, whatever the backend
        logger.warning("inbound run counts not cleared, the cache failed: %s", error)


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


class _Batch:
    def __init__(
        self,
        *,
        trust_sender: bool,
        actor: Membership | None,
        from_status: str,
        after_store: AfterStore,
    ) -> None:
        self.after_store = after_store
        self.trust_sender = trust_sender
        self.actor = actor
        self.from_status = from_status
        self.rows: list[InboundMail] = []
        self.files: list[Attachment] = []

    def lock(self, ids: list[int] | None, limit: int) -> None:
        """Lock the batch's mails: up to `limit`, and BATCH_BYTES of raw mail, at least one."""
        rows = InboundMail.objects.select_for_update(skip_locked=True).filter(
            status=self.from_status
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        candidates = list(rows.order_by("received_at", "id").values_list("pk", "raw_size")[:limit])
        runs = _runs_started([pk for pk, _ in candidates])
        poisonous = [pk for pk, _ in candidates if runs[pk] > MAX_RUNS]
        if poisonous:
            InboundMail.objects.filter(pk__in=poisonous).update(
                status=Status.FAILED,
                reason=f"Processing this mail stopped the worker {MAX_RUNS} times; "
                "kept for mail_retry once the cause is fixed.",
                processed_at=timezone.now(),
            )
            _runs_finished(poisonous)
            logger.error("inbound %s set aside: they stopped the worker", poisonous)
        suspects = [pk for pk, _ in candidates if 1 < runs[pk] <= MAX_RUNS]
        chosen: list[int] = suspects[:1]  # after a crash, suspects go alone
        total = 0
        for pk, size in candidates if not chosen else []:
            if runs[pk] > MAX_RUNS:
                continue
            if chosen and total + size > BATCH_BYTES:
                break  # oldest first: the rest waits for the next batch
            chosen.append(pk)
            total += size
        # Mails not taken this time: their count goes back to what it was.
        left = [pk for pk, _ in candidates if pk not in chosen and pk not in poisonous]
        if any(runs[pk] > 1 for pk in left):
            cache.set_many(
                {f"tisket:inbound:runs:{pk}": runs[pk] - 1 for pk in left if runs[pk] > 1},
                timeout=RUNS_TTL,
            )
        _runs_finished([pk for pk in left if runs[pk] == 1])
        self.rows = list(InboundMail.objects.filter(pk__in=chosen).order_by("received_at", "id"))

    def discard_files(self) -> None:
        attachments_discard(attachments=self.files)
        self.files = []

    def run(self) -> list[InboundResult]:
        mails = [_Mail(row=row) for row in self.rows]
        self.rows_mails = mails
        for mail in mails:
            self._parse(mail)
        live = [m for m in mails if not m.decided]
        inboxes = inboxes_by_address(
            a for m in live for a in recipient_candidates(m.parsed, m.row.envelope_recipient)
        )
        for mail in live:
            self._route(mail, inboxes)
        live = [m for m in live if not m.decided]
        self._defer_replies_to_pending(live)
        live = [m for m in live if not m.deferred]
        if live:
            self._decide(live)
        accepted = [m for m in live if m.row.status == Status.ACCEPTED]
        self._store(accepted)
        self._finish(mails)
        results = [
            InboundResult(
                inbound=m.row,
                thread=m.thread if m.row.status == Status.ACCEPTED else m.row.thread,
                message=m.message,
                thread_created=m.thread_created and m.row.status == Status.ACCEPTED,
            )
            for m in mails
        ]
        self.after_store(results)  # in this transaction: a ticket opens with its thread, or neither
        self.files = []  # stored with the batch: no longer ours to discard
        return [r for r, m in zip(results, mails, strict=True) if not m.deferred]

    def _parse(self, mail: _Mail) -> None:
        try:
            mail.parsed = parse_mail(mail.row.raw_bytes())
        except Exception as exc:
            self._fail_in_batch(mail, exc)
            return
        parsed = mail.parsed
        mail.row.from_email = parsed.from_email
        mail.row.subject = parsed.subject
        mail.row.message_id_header = parsed.message_id[:998]

    def _route(self, mail: _Mail, inboxes: dict[str, Inbox]) -> None:
        found = route(mail.parsed, envelope_recipient=mail.row.envelope_recipient, inboxes=inboxes)
        if found is None:
            tried = recipient_candidates(mail.parsed, mail.row.envelope_recipient)
            mail.decide(
                Status.REJECTED,
                f"No inbox has any of the recipient addresses ({', '.join(tried) or 'none'}).",
            )
            return
        mail.inbox, mail.tags = found
        mail.row.inbox = mail.inbox
        mail.row.organization_id = mail.inbox.organization_id
        parsed = mail.parsed
        mail.dedupe_key = (
            message_id_key(parsed.message_id) if parsed.message_id else parsed.content_key
        )

    def _defer_replies_to_pending(self, mails: list[_Mail]) -> None:
        """Leave for later a reply whose question another worker is storing right now.

        Another worker's batch may hold the mail this one answers, its thread not
        committed yet: matched now, the reply would open a thread of its own.
        Left pending, it is taken by the next run, after the question's commit.
        """
        ours = {m.row.message_id_header for m in self.rows_mails if m.row.message_id_header}
        wanted = {ref for m in mails for ref in m.parsed.thread_message_ids if ref not in ours}
        if not wanted:
            return
        pending = set(
            InboundMail.objects.filter(
                status=Status.PENDING, message_id_header__in=wanted
            ).values_list("message_id_header", flat=True)
        )
        for mail in mails:
            if pending.intersection(mail.parsed.thread_message_ids):
                mail.deferred = True
                mail.decided = True
                mail.row.status = self.from_status

    def _decide(self, mails: list[_Mail]) -> None:
        """Duplicate, quarantined or accepted (into which thread), each mail in order."""
        organizations = {m.inbox.organization_id for m in mails}
        stored = {
            (message.organization_id, message.dedupe_key): message
            for message in Message.objects.select_related("thread").filter(
                organization_id__in=organizations, dedupe_key__in={m.dedupe_key for m in mails}
            )
        }
        senders = {m.parsed.from_email for m in mails if m.parsed.from_email}
        members = {
            (m.organization_id, m.user.email): m
            for m in Membership.objects.select_related("user").filter(
                organization_id__in=organizations, user__email__in=senders, user__is_active=True
            )
        }
        own = {org: organization_addresses(organization_id=org) for org in organizations}
        matcher = (
            ThreadMatcher([(m.inbox.organization_id, m.parsed, m.tags) for m in mails])
            if not self.trust_sender
            else None
        )
        candidates = (
            {t.pk for t in matcher.threads.values()}
            if matcher
            else {m.row.thread_id for m in mails if m.row.thread_id}
        )
        known: dict[int | None, set[str]] = defaultdict(set)
        for thread_id, email in Participant.objects.filter(thread_id__in=candidates).values_list(
            "thread_id", "email"
        ):
            known[thread_id].add(email)
        policy = _authentication_policy()
        seen: dict[tuple[int, str], _Mail] = {}
        in_batch: dict[int, dict[str, Thread]] = defaultdict(dict)
        joined: dict[int, set[str]] = defaultdict(set)  # id(thread) -> emails added in batch

        for mail in mails:
            org = mail.inbox.organization_id
            key = (org, mail.dedupe_key)
            if key in stored:
                self._duplicate(mail, stored[key].thread, stored[key])
                continue
            if key in seen:
                mail.duplicate_of = seen[key]
                mail.decide(Status.DUPLICATE)
                continue
            parsed = mail.parsed
            sender = parsed.from_email
            mail.member = members.get((org, sender))
            if self.trust_sender:
                thread = mail.row.thread
                if thread is not None and thread.organization_id != org:
                    mail.decide(
                        Status.QUARANTINED,
                        f"Not released: its address now belongs to another organization "
                        f"than {thread.reference}'s.",
                    )
                    continue
            else:
                thread = matcher.match(
                    org, mail.inbox.organization.code, parsed, mail.tags, in_batch[org]
                )
            if thread is not None and thread.status == Thread.Status.CLOSED:
                thread = None  # a closed conversation stays closed: its follow-up starts anew
            if not self.trust_sender:
                problem = _sender_problem(
                    parsed,
                    thread,
                    mail.member,
                    participant=(thread is not None)
                    and (sender in known[thread.pk] or sender in joined[id(thread)]),
                )
                if not problem and thread is not None and mail.member is not None:
                    # Only here may a mail become the desk's answer: DNS for members alone.
                    mail.verdict = sender_verdict(
                        parsed.message,
                        raw=mail.row.raw_bytes() if policy.dkim_verify else b"",
                        from_email=sender,
                        policy=policy,
                    )
                    problem = "" if mail.verdict else _unauthenticated(sender, policy)
                if problem:
                    mail.row.thread = thread
                    mail.decide(Status.QUARANTINED, problem)
                    continue
            if not self._prepare(mail, own[org]):
                continue
            if thread is None:
                thread = Thread(
                    organization_id=org,
                    inbox=mail.inbox,
                    subject=parsed.subject,
                    client_email=sender,
                    client_name=parsed.from_name,
                    message_count=0,
                )
                mail.thread_created = True
            mail.thread = thread
            mail.row.thread = thread
            seen[key] = mail
            if parsed.message_id:
                in_batch[org][mail.dedupe_key] = thread
            mail.joining = _participants_new(
                mail, own=own[org], known=known[thread.pk] | joined[id(thread)]
            )
            joined[id(thread)].update(e for _, e in mail.joining)
            reason = f"Sender authenticated: {mail.verdict}." if mail.verdict else ""
            mail.decide(Status.ACCEPTED, reason)

    def _duplicate(self, mail: _Mail, thread: Thread, message: Message) -> None:
        mail.row.thread = thread
        mail.message = message
        mail.row.message = message
        mail.decide(
            Status.DUPLICATE, f"Already stored in {thread.reference} (message #{message.pk})."
        )

    def _prepare(self, mail: _Mail, own_addresses: set[str]) -> bool:
        """Sanitize, flag and write the attachments of an accepted mail; False if it failed."""
        parsed, row = mail.parsed, mail.row
        try:
            mail.automated = automated_reason(
                parsed.message,
                from_email=parsed.from_email,
                own_addresses=own_addresses,
                own_domain=settings.TISKET_INBOUND_DOMAIN,
            )
            mail.html = sanitize_html(parsed.html) if parsed.html else ""
            if row.esp_stripped_text.strip():
                mail.visible = row.esp_stripped_text.strip()
            elif parsed.text:
                mail.visible = visible_text(parsed.text)
            else:
                mail.visible = visible_html_text(parsed.html) if parsed.html else ""
            mail.attachments = attachments_prepare(
                organization_id=mail.inbox.organization_id,
                parts=parsed.attachments,
                max_bytes=mail.inbox.max_message_bytes,
            )
            self.files.extend(mail.attachments)
        except Exception as exc:
            self._fail_in_batch(mail, exc)
            return False
        return True

    def _fail_in_batch(self, mail: _Mail, exc: Exception) -> None:
        logger.error("inbound #%s failed: %s", mail.row.pk, type(exc).__name__, exc_info=exc)
        # A release that fails stays a held mail: the agent's decision is not lost.
        held = self.from_status == Status.QUARANTINED
        reason = f"{'Release failed: ' if held else ''}{type(exc).__name__}: {exc}"[:1000]
        mail.decide(Status.QUARANTINED if held else Status.FAILED, reason)
        mail.row.error = "".join(traceback.format_exception(exc))[-10_000:]

    def _store(self, mails: list[_Mail]) -> None:
        """Write the accepted mails: new threads, messages, attachments, participants, counts."""
        if not mails:
            return
        now = timezone.now()
        new_threads: dict[int, Thread] = {}
        counts: dict[int, list[_Mail]] = defaultdict(list)
        for mail in mails:
            counts[id(mail.thread)].append(mail)
            if mail.thread_created:
                new_threads[id(mail.thread)] = mail.thread
        by_org: dict[int, list[Thread]] = defaultdict(list)
        for thread in new_threads.values():
            by_org[thread.organization_id].append(thread)
        codes = {m.inbox.organization_id: m.inbox.organization.code for m in mails}
        # The sequence's row lock is held from here to the commit: keep it short.
        # Locks in a fixed order (organizations, then threads, by id), so that two
        # workers' batches never wait on each other in a circle.
        for org, threads in sorted(by_org.items()):
            last = sequence_next(organization_id=org, name="thread", count=len(threads))
            for number, thread in enumerate(threads, start=last - len(threads) + 1):
                thread.number = number
                thread.reference = thread_reference(code=codes[org], number=number)
                thread.message_count = len(counts[id(thread)])
                thread.created_at = thread.updated_at = thread.last_message_at = now
        Thread.objects.bulk_create(new_threads.values())

        for mail in mails:
            parsed = mail.parsed
            # A member's mail is the desk's answer when its sender was authenticated,
            # or an agent released it; a From header alone proves nothing.
            outbound = (
                mail.member is not None
                and role_at_least(mail.member.role, Role.AGENT)  # a viewer never answers
                and not mail.thread_created
                and (bool(mail.verdict) or self.trust_sender)
            )
            mail.message = Message(
                organization_id=mail.inbox.organization_id,
                thread=mail.thread,
                direction=Message.Direction.OUTBOUND if outbound else Message.Direction.INBOUND,
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
                dedupe_key=mail.dedupe_key,
                author=mail.member if outbound else None,
                automated_reason=mail.automated[:200],
                sent_at=parsed.date,
                created_at=now,
            )
            mail.outbound = outbound
        # The unique (organization, dedupe_key) is the last word on duplicates: if
        # another worker stored one of these mails first, this raises and the batch
        # runs again mail by mail.
        Message.objects.bulk_create([m.message for m in mails])
        for mail in mails:
            mail.row.message = mail.message
            for attachment in mail.attachments:
                attachment.message = mail.message
        Attachment.objects.bulk_create([a for m in mails for a in m.attachments])
        participants = {
            (mail.thread.pk, email): Participant(thread=mail.thread, email=email, name=name[:200])
            for mail in mails
            for name, email in mail.joining
        }
        Participant.objects.bulk_create(participants.values(), ignore_conflicts=True)
        for thread_mails in sorted(counts.values(), key=lambda ms: ms[0].thread.pk):
            thread = thread_mails[0].thread
            if thread_mails[0].thread_created:
                continue
            changes = {
                "message_count": F("message_count") + len(thread_mails),
                "updated_at": now,
                "last_message_at": now,
            }
            reopen = any(not m.outbound and not m.automated for m in thread_mails)
            if reopen and thread.status == Thread.Status.RESOLVED:
                changes["status"] = Thread.Status.OPEN
                thread.status = Thread.Status.OPEN
            Thread.objects.filter(pk=thread.pk).update(**changes)
            thread.message_count += len(thread_mails)
            thread.updated_at = thread.last_message_at = now

    def _finish(self, mails: list[_Mail]) -> None:
        now = timezone.now()
        mails = [m for m in mails if not m.deferred]
        for mail in mails:
            row = mail.row
            if mail.duplicate_of is not None:
                original = mail.duplicate_of
                self._duplicate(mail, original.thread, original.message)
            if row.status == Status.ACCEPTED and mail.automated:
                row.reason = " ".join(
                    filter(None, [row.reason, f"Automatic mail: {mail.automated}."])
                )
            if row.status != Status.FAILED:
                row.error = ""
            row.attempts += 1
            row.processed_at = now
            row.decided_by = self.actor
        _rows_update([m.row for m in mails])


def _rows_update(rows: list[InboundMail]) -> None:
    """Save what the batch decided for each mail, in one pipelined round of UPDATEs.

    Django's bulk_update builds a CASE per field per row, which costs more
    than everything else the batch does; executemany sends plain UPDATEs.
    """
    fields = [InboundMail._meta.get_field(name) for name in ROW_FIELDS]
    table = InboundMail._meta.db_table
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608 (our names)
    for row in rows:
        # Related objects saved earlier in the batch: copy their ids onto the row.
        row._prepare_related_fields_for_save(operation_name="update")
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _authentication_policy() -> AuthenticationPolicy:
    return AuthenticationPolicy(
        trusted_authserv_ids=frozenset(settings.TISKET_TRUSTED_AUTHSERV_IDS),
        trust_received_spf=settings.TISKET_TRUST_RECEIVED_SPF,
        dkim_verify=settings.TISKET_DKIM_VERIFY,
        dns_servers=tuple(settings.TISKET_DNS_SERVERS),
    )


def _unauthenticated(sender: str, policy: AuthenticationPolicy) -> str:
    """Why a member's mail into a conversation is held: nothing shows it is theirs."""
    why = (
        "no trusted Authentication-Results, Received-SPF or DKIM signature vouches for it"
        if policy.enabled
        else "this installation checks no authentication verdict (TISKET_TRUSTED_AUTHSERV_IDS, "
        "TISKET_TRUST_RECEIVED_SPF, TISKET_DKIM_VERIFY)"
    )
    return (
        f"From names {sender}, a member, but nothing authenticates the mail as theirs: {why}. "
        "A From header alone proves nothing; release the mail if it is genuine."
    )


def _participants_new(mail: _Mail, *, own: set[str], known: set[str]) -> list[tuple[str, str]]:
    """(name, email) of the mail's addresses that join its thread, the sender first.

    At most TISKET_MAX_NEW_PARTICIPANTS: a mail copied to a thousand addresses
    must not make each of them a recipient of the desk's replies.
    """
    parsed, limit = mail.parsed, settings.TISKET_MAX_NEW_PARTICIPANTS
    new: dict[str, str] = {}
    left_out = 0
    for name, email in [(parsed.from_name, parsed.from_email), *parsed.to, *parsed.cc]:
        if not email or email in known or email in new or address_without_tag(email) in own:
            continue
        if len(new) >= limit and email != parsed.from_email:
            left_out += 1
            continue
        new[email] = name
    if left_out:
        logger.info(
            "inbound #%s: %s more addresses left out of the participants (%s at most per mail)",
            mail.row.pk,
            left_out,
            limit,
        )
    return [(name, email) for email, name in new.items()]


def _sender_problem(
    parsed: ParsedMail, thread: Thread | None, member: Membership | None, *, participant: bool
) -> str:
    """Why the sender may not write here, or ''."""
    if not parsed.from_email:
        return f"No trustworthy sender: {parsed.from_problem}."
    if thread is None or member is not None or participant:
        return ""
    reference = thread.reference or "a conversation opened a moment ago"
    return (
        f"{parsed.from_email} is neither a participant of {reference} "
        "nor a member of the organization."
    )
