"""Mail coming in, from its record to its ticket: every edge and the worker call these.

The inbound pipeline (threads) records a mail at the edge and stores it in
the worker; what a stored mail does beyond its thread is said here, in the
transaction that stores it, so that it happens with the mail or not at all:
a new conversation opens its ticket, a reply moves its ticket, a member's
answer is the first response (tickets.intake.effects.tickets_after_ingest), and a
new conversation is acknowledged (threads.outbound.auto_ack_after_ingest).
"""

from django.db import transaction

from inboxes.models import Inbox
from threads import inbound, outbound, sender_rules
from threads.client_access import ClientAccess, client_reply_record, client_request_record
from threads.inbound import InboundResult, InboundStateError, quarantine_discard
from threads.models import InboundMail, SenderRule
from tickets.intake.effects import tickets_after_ingest
from tickets.intake.wake import intake_wake
from tisket.models import Membership

__all__ = [
    "InboundResult",
    "InboundStateError",
    "client_reply_send",
    "client_request_send",
    "mail_after_store",
    "mail_process",
    "mail_process_many",
    "mail_process_pending",
    "mail_receive",
    "mail_release",
    "mail_retry",
    "quarantine_allow",
    "quarantine_discard",
]


def mail_after_store(results: list[InboundResult]) -> None:
    """What stored mail does beyond its thread, in the transaction that stored it."""
    tickets_after_ingest(results)
    outbound.auto_ack_after_ingest(results)


def mail_receive(
    *, raw: bytes, source: str, recipient: str = "", stripped_text: str = ""
) -> tuple[InboundMail, bool]:
    """Record a mail that arrived and wake the worker once it is committed; idempotent."""
    row, created = inbound.inbound_record(
        raw=raw, source=source, recipient=recipient, stripped_text=stripped_text
    )
    if created:
        transaction.on_commit(lambda: intake_wake(inbound_id=row.pk))
    return row, created


def mail_process(*, inbound_id: int) -> InboundResult | None:
    """Process one recorded mail now (a client's reply, the demo, a test)."""
    return inbound.inbound_process(inbound_id=inbound_id, after_store=mail_after_store)


def mail_process_many(*, inbound_ids: list[int]) -> list[InboundResult]:
    """Process these recorded mails in one batch (an import)."""
    return inbound.inbound_process_many(inbound_ids=inbound_ids, after_store=mail_after_store)


def mail_process_pending() -> int:
    """Process every pending mail, batch after batch."""
    return inbound.inbound_process_pending(after_store=mail_after_store)


def mail_retry(*, inbound_mail: InboundMail) -> InboundResult:
    """Process a failed mail again."""
    return inbound.inbound_retry(inbound=inbound_mail, after_store=mail_after_store)


def mail_release(*, inbound_mail: InboundMail, actor: Membership | None) -> InboundResult:
    """Let a quarantined mail into its thread, with what a stored mail does."""
    return inbound.quarantine_release(
        inbound=inbound_mail, actor=actor, after_store=mail_after_store
    )


def quarantine_allow(
    *, inbound_mail: InboundMail, actor: Membership | None, whole_domain: bool = False
) -> tuple[SenderRule, InboundResult]:
    """Release a held mail and always allow its sender (or their domain) from now on."""
    pattern = sender_rules.allow_pattern(inbound=inbound_mail, whole_domain=whole_domain)
    result = mail_release(inbound_mail=inbound_mail, actor=actor)
    rule = sender_rules.sender_rule_set(
        organization=inbound_mail.organization,
        kind=SenderRule.Kind.ALLOW,
        pattern=pattern,
        note=f"from held mail #{inbound_mail.pk}",
        actor=actor,
    )
    return rule, result


def client_reply_send(
    *, access: ClientAccess, body: str, nonce: str = "", files: list[tuple[str, bytes]] = ()
) -> InboundResult:
    """The client's reply from their page, through the pipeline as if they had mailed it."""
    row = client_reply_record(access=access, body=body, nonce=nonce, files=files)
    return _processed(row)


def client_request_send(
    *,
    inbox: Inbox,
    email: str,
    name: str = "",
    subject: str,
    body: str,
    nonce: str = "",
    files: list[tuple[str, bytes]] = (),
) -> InboundResult:
    """A new request from the client portal's form, through the pipeline as if mailed to the
    inbox: the same thread, ticket, acknowledgement and SLA as a mail."""
    row = client_request_record(
        inbox=inbox, email=email, name=name, subject=subject, body=body, nonce=nonce, files=files
    )
    return _processed(row)


def _processed(row: InboundMail) -> InboundResult:
    result = mail_process(inbound_id=row.pk)
    if result is None:  # the very same bytes came before (a double click): done already
        row = InboundMail.objects.defer("raw_data").get(pk=row.pk)
        result = InboundResult(inbound=row, thread=row.thread, message=row.message)
    return result
