"""Where a mail belongs: its inbox (routing) and its thread (matching), looked up in bulk."""

import re
from collections.abc import Iterable

from inboxes.models import Inbox, InboxAddress
from threads.models import Message, Thread
from threads.services import message_id_key
from tisket.lib.addresses import address_normalize, address_split_tag
from tisket.lib.mail.parse import ParsedMail
from tisket.lib.reply_tokens import reply_token_read

SUBJECT_REF_RE = re.compile(r"\[THD-([A-Z0-9]{2,10})-(\d{1,12})\]")


def recipient_candidates(parsed: ParsedMail, envelope_recipient: str) -> list[str]:
    """Recipient addresses in routing order: envelope, To, Cc, Delivered-To, X-Original-To."""
    ordered = [envelope_recipient] if envelope_recipient else []
    ordered += [email for _, email in parsed.to] + [email for _, email in parsed.cc]
    ordered += parsed.delivered_to
    seen: dict[str, None] = {}
    for address in ordered:
        seen.setdefault(address_normalize(address), None)
    return [a for a in seen if a]


def inboxes_by_address(addresses: Iterable[str]) -> dict[str, Inbox]:
    """The inboxes owning any of these addresses (plus-tags ignored), keyed by address."""
    plain = {address_split_tag(a)[0] for a in addresses}
    found: dict[str, Inbox] = {
        inbox.address: inbox
        for inbox in Inbox.objects.select_related("organization").filter(address__in=plain)
    }
    for extra in InboxAddress.objects.select_related("inbox__organization").filter(
        address__in=plain
    ):
        found.setdefault(extra.address, extra.inbox)
    return found


def route(
    parsed: ParsedMail, *, envelope_recipient: str, inboxes: dict[str, Inbox]
) -> tuple[Inbox, list[str]] | None:
    """The inbox a mail is for, and the plus-tags of the addresses that name its organization.

    The first known address (envelope first) picks the organization; within it,
    the first of its inboxes named in To/Cc wins, so two deliveries of one mail
    to two inboxes agree on where it belongs.
    """
    bases = [address_split_tag(a) for a in recipient_candidates(parsed, envelope_recipient)]
    first = next((inboxes[base] for base, _ in bases if base in inboxes), None)
    if first is None:
        return None
    organization_id = first.organization_id
    header_order = [address_split_tag(e)[0] for _, e in [*parsed.to, *parsed.cc]]
    chosen = next(
        (
            inboxes[a]
            for a in header_order
            if a in inboxes and inboxes[a].organization_id == organization_id
        ),
        first,
    )
    tags = [
        tag
        for base, tag in bases
        if tag and base in inboxes and inboxes[base].organization_id == organization_id
    ]
    return chosen, tags


class ThreadMatcher:
    """Finds the threads a batch of mails answer, in three queries for the whole batch.

    Always within the mail's own organization: a reply token, Message-ID or
    subject reference of another organization never attaches mail to its threads.
    """

    def __init__(self, wanted: list[tuple[int, ParsedMail, list[str]]]) -> None:
        """wanted: (organization id, parsed mail, plus-tags) of each mail."""
        token_ids = {
            thread_id
            for _, _, tags in wanted
            for tag in tags
            if (thread_id := reply_token_read(tag)) is not None
        }
        reference_keys = {
            message_id_key(ref) for _, parsed, _ in wanted for ref in parsed.thread_message_ids
        }
        self.thread_by_key: dict[tuple[int, str], int] = {
            (org, key): thread
            for org, key, thread in Message.objects.filter(
                organization_id__in={org for org, _, _ in wanted}, dedupe_key__in=reference_keys
            ).values_list("organization_id", "dedupe_key", "thread_id")
        }
        numbers = {
            (org, int(number))
            for org, parsed, _ in wanted
            for _code, number in SUBJECT_REF_RE.findall(parsed.subject.upper())
        }
        thread_ids = token_ids | set(self.thread_by_key.values())
        threads = Thread.objects.filter(pk__in=thread_ids)
        for org in {org for org, _ in numbers}:
            threads = threads | Thread.objects.filter(
                organization_id=org, number__in=[n for o, n in numbers if o == org]
            )
        self._index(list(threads))

    @classmethod
    def of(
        cls, threads: list[Thread], thread_by_key: dict[tuple[int, str], int]
    ) -> "ThreadMatcher":
        """A matcher over threads already at hand, with no query (the decision's tests)."""
        matcher = cls.__new__(cls)
        matcher.thread_by_key = thread_by_key
        matcher._index(threads)
        return matcher

    def _index(self, threads: list[Thread]) -> None:
        self.threads: dict[int, Thread] = {thread.pk: thread for thread in threads}
        self.by_number = {(t.organization_id, t.number): t for t in self.threads.values()}

    def match(
        self,
        organization_id: int,
        code: str,
        parsed: ParsedMail,
        tags: list[str],
        in_batch: dict[str, Thread],
    ) -> Thread | None:
        """The thread this mail answers: reply token, then Message-IDs, then subject reference.

        in_batch maps the Message-ID keys of mails stored earlier in this batch
        to their threads, which may not be saved yet.
        """
        for tag in tags:
            thread = self.threads.get(reply_token_read(tag) or 0)
            if thread is not None and thread.organization_id == organization_id:
                return thread
        for ref in parsed.thread_message_ids:
            key = message_id_key(ref)
            if key in in_batch:
                return in_batch[key]
            thread_id = self.thread_by_key.get((organization_id, key))
            if thread_id is not None:
                return self.threads[thread_id]
        for ref_code, number in SUBJECT_REF_RE.findall(parsed.subject.upper()):
            if ref_code == code:
                thread = self.by_number.get((organization_id, int(number)))
                if thread is not None:
                    return thread
        return None
