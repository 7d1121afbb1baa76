"""The decision: what becomes of each routed mail of a batch, a pure function.

decide() reads only what it is given: the batch's candidates, in order, and
the look-ups loaded for them in a few queries (threads.ingest.lookups). It
writes nothing and asks nothing of the database, so every rule below is tested
as a table (tests/threads/test_decide.py). Each mail, in order:

1. Already stored (same organization and dedupe key), or seen earlier in the
   batch: a duplicate, when the content is the same too. Mailers reuse
   Message-IDs: a mail with a known Message-ID and other content (another
   sender, another body) is another mail, stored under a key of both.
2. Its thread: the one a quarantined mail was released into, or the one it
   answers (reply token, Message-IDs, subject reference; threads.routing). A
   closed conversation stays closed: its follow-up starts a new thread. A mail
   that answers nothing joins the thread of a reply to it that arrived first,
   when its sender takes part there.
2a. Its inbox: an inactive inbox refuses its mail, with the reason.
2b. The organization's sender rules (address first, then domain): a blocked
   sender's mail is held or refused, as the rule says.
3. Its sender: nobody may write into a thread but its participants, the
   organization's members and the senders it always allows; a member's mail into
   a thread must be authenticated (it may become the desk's answer); no rule
   skips that. Else quarantined, with the reason and the rule that held it.
4. Accepted: into its thread or a new one; the addresses it brings join.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from inboxes.models import Inbox
from threads.models import HeldBy, InboundMail, Message, SenderRule, Thread
from threads.routing import ThreadMatcher
from threads.services import message_id_key
from tisket.lib.addresses import address_normalize, address_without_tag
from tisket.lib.mail.parse import ParsedMail
from tisket.models import Membership

Status = InboundMail.Status


@dataclass(frozen=True)
class Candidate:
    """A routed mail, as the decision reads it."""

    parsed: ParsedMail
    inbox: Inbox
    tags: tuple[str, ...]
    dedupe_key: str
    released_into: Thread | None = None  # a release: the thread it was held from

    @property
    def organization_id(self) -> int:
        return self.inbox.organization_id

    @property
    def reuse_key(self) -> str:
        """The key of this mail if its Message-ID turns out to be another mail's too."""
        if not self.parsed.message_id:
            return ""
        return message_id_key(f"{self.parsed.message_id}\n{self.parsed.content_key}")

    @property
    def own_key(self) -> str:
        """The key replies name this mail by (its Message-ID's), '' without one."""
        return message_id_key(self.parsed.message_id) if self.parsed.message_id else ""


def candidate_dedupe_key(parsed: ParsedMail) -> str:
    """The key a mail is stored once under: its Message-ID's, or its content's."""
    return message_id_key(parsed.message_id) if parsed.message_id else parsed.content_key


@dataclass
class Lookups:
    """What the decision may know, loaded for the whole batch beforehand."""

    stored: dict[tuple[int, str], Message]  # (organization, dedupe key) -> stored message
    members: dict[tuple[int, str], Membership]  # (organization, email) -> active member
    own_addresses: dict[int, set[str]]  # organization -> the desk's own addresses
    participants: dict[int, set[str]]  # thread id -> its participants' addresses
    matcher: ThreadMatcher | None  # None for a release: the thread is known
    # The authentication verdict of a member's mail ("" when nothing vouches for it),
    # and why that is so, for the quarantine reason.
    verdict: Callable[[Candidate], str]
    unauthenticated: Callable[[str], str]
    max_new_participants: int
    # (organization, key of a Message-ID) -> the thread of a stored reply to that
    # Message-ID: where its parent goes when it arrives after the reply.
    children: dict[tuple[int, str], Thread] = field(default_factory=dict)
    # (organization, "jane@x.test" or "@x.test") -> the organization's rule for it.
    sender_rules: dict[tuple[int, str], SenderRule] = field(default_factory=dict)

    def sender_rule(self, organization_id: int, sender: str) -> SenderRule | None:
        """The rule for this sender: their address's, else their domain's."""
        if not sender:
            return None
        rule = self.sender_rules.get((organization_id, sender))
        if rule is None and "@" in sender:
            rule = self.sender_rules.get((organization_id, "@" + sender.rpartition("@")[2]))
        return rule


@dataclass
class Decision:
    status: str
    reason: str = ""
    thread: Thread | None = None  # an unsaved Thread when thread_created
    thread_created: bool = False
    member: Membership | None = None
    verdict: str = ""  # what authenticated a member's mail as the desk's own
    joining: list[tuple[str, str]] = field(
        default_factory=list
    )  # (name, email) of new participants
    left_out: int = 0  # addresses over the participants cap
    stored: Message | None = None  # a duplicate of a stored message
    duplicate_of: int | None = None  # a duplicate of an earlier candidate (its index)
    dedupe_key: str = ""  # the key it is stored under, when not the candidate's own
    held_by: str = ""  # the rule that quarantined it (HeldBy)


def decide(candidates: list[Candidate], lookups: Lookups) -> list[Decision]:
    """One decision per candidate, in order; later mails see what earlier ones became."""
    decisions: list[Decision] = []
    seen: dict[tuple[int, str], int] = {}
    in_batch: dict[int, dict[str, Thread]] = defaultdict(dict)
    joined: dict[int, set[str]] = defaultdict(set)  # id(thread) -> emails added in the batch
    seen_mails: dict[tuple[int, str], Candidate] = {}
    children: dict[tuple[int, str], Thread] = dict(lookups.children)
    for index, mail in enumerate(candidates):
        decision = _decide_one(
            mail,
            lookups,
            seen=seen_mails,
            in_batch=in_batch,
            joined=joined,
            children=children,
        )
        if decision.status == Status.DUPLICATE and decision.stored is None:
            key = (mail.organization_id, decision.dedupe_key or mail.dedupe_key)
            decision.duplicate_of = seen[key]
        if decision.status == Status.ACCEPTED:
            org = mail.organization_id
            seen[(org, decision.dedupe_key or mail.dedupe_key)] = index
            seen_mails[(org, decision.dedupe_key or mail.dedupe_key)] = mail
            if mail.parsed.message_id and not decision.dedupe_key:
                in_batch[org][mail.dedupe_key] = decision.thread
            if mail.parsed.in_reply_to:
                parent = (org, message_id_key(mail.parsed.in_reply_to[0]))
                children.setdefault(parent, decision.thread)
            joined[id(decision.thread)].update(
                address_normalize(email) for _, email in decision.joining
            )
        decisions.append(decision)
    return decisions


def _duplicate_of(
    mail: Candidate, lookups: Lookups, seen: dict[tuple[int, str], Candidate]
) -> Decision | None:
    """A duplicate (of a stored mail or an earlier one of the batch), the reused key of a
    mail whose Message-ID another mail has, or None for a new mail."""
    org, parsed = mail.organization_id, mail.parsed
    key = (org, mail.dedupe_key)
    stored, earlier = lookups.stored.get(key), seen.get(key)
    if stored is None and earlier is None:
        return None
    why = "same Message-ID and content" if parsed.message_id else "same content (no Message-ID)"
    other_content = (stored.content_key if stored is not None else earlier.parsed.content_key) or (
        parsed.content_key
    )
    if not parsed.message_id or other_content == parsed.content_key:
        if stored is not None:
            return _stored_duplicate(stored, why)
        return Decision(Status.DUPLICATE, why)
    # The Message-ID is another mail's: this one is stored under a key of both.
    reuse = (org, mail.reuse_key)
    if reuse in lookups.stored:
        return _stored_duplicate(lookups.stored[reuse], why)
    if reuse in seen:
        return Decision(Status.DUPLICATE, why, dedupe_key=mail.reuse_key)
    first = f"message #{stored.pk} in {stored.thread.reference}" if stored else "another mail"
    return Decision(
        Status.ACCEPTED,
        f"Message-ID already used by {first} with other content: stored as a new message.",
        dedupe_key=mail.reuse_key,
    )


def _stored_duplicate(message: Message, why: str) -> Decision:
    return Decision(
        Status.DUPLICATE,
        f"Already stored in {message.thread.reference} (message #{message.pk}): {why}.",
        thread=message.thread,
        stored=message,
    )


def _decide_one(
    mail: Candidate,
    lookups: Lookups,
    *,
    seen: dict[tuple[int, str], Candidate],
    in_batch: dict[int, dict[str, Thread]],
    joined: dict[int, set[str]],
    children: dict[tuple[int, str], Thread],
) -> Decision:
    org, parsed = mail.organization_id, mail.parsed
    reused = _duplicate_of(mail, lookups, seen)
    if reused is not None and reused.status == Status.DUPLICATE:
        return reused
    sender = address_normalize(parsed.from_email)  # addresses compare case-insensitively
    member = lookups.members.get((org, sender))
    released = lookups.matcher is None
    rule = None
    if released:
        thread = mail.released_into
        if thread is not None and thread.organization_id != org:
            return Decision(
                Status.QUARANTINED,
                f"Not released: its address now belongs to another organization "
                f"than {thread.reference}'s.",
                held_by=HeldBy.MOVED,
            )
    else:
        refused = inbox_refusal(mail.inbox)
        if refused:
            return Decision(Status.REJECTED, refused)
        rule = lookups.sender_rule(org, sender)
        if rule is not None and rule.kind == SenderRule.Kind.BLOCK:
            return blocked(rule, sender)
        thread = lookups.matcher.match(
            org, mail.inbox.organization.code, parsed, list(mail.tags), in_batch[org]
        )
        if thread is None and mail.own_key:
            # A reply to this mail arrived first and opened a thread: this mail is its
            # beginning, if its sender takes part there (never a way in for others).
            child = children.get((org, mail.own_key))
            if child is not None and (
                sender in lookups.participants.get(child.pk, ()) or sender in joined[id(child)]
            ):
                thread = child
    if thread is not None and thread.status == Thread.Status.CLOSED:
        thread = None  # a closed conversation stays closed: its follow-up starts anew
    verdict = ""
    if not released:
        allowed = rule is not None and rule.kind == SenderRule.Kind.ALLOW
        known = thread is not None and (
            sender in lookups.participants.get(thread.pk, ()) or sender in joined[id(thread)]
        )
        problem = sender_problem(parsed, thread, member, participant=known or allowed)
        held_by = HeldBy.NO_SENDER if not sender else HeldBy.STRANGER
        if not problem and thread is not None and member is not None:
            # Only here may a mail become the desk's answer: DNS for members alone.
            verdict = lookups.verdict(mail)
            problem = "" if verdict else lookups.unauthenticated(sender)
            held_by = HeldBy.UNAUTHENTICATED
        if problem:
            return Decision(
                Status.QUARANTINED, problem, thread=thread, member=member, held_by=held_by
            )
    created = thread is None
    if created:
        thread = Thread(
            organization_id=org,
            inbox=mail.inbox,
            subject=parsed.subject,
            client_email=sender,
            client_name=parsed.from_name,
            message_count=0,
        )
    known = (lookups.participants.get(thread.pk, set()) if thread.pk else set()) | joined[
        id(thread)
    ]
    joining, left_out = participants_new(
        parsed,
        own=lookups.own_addresses.get(org, set()),
        known=known,
        limit=lookups.max_new_participants,
    )
    reasons = [reused.reason if reused is not None else "", parsed.sender_note]
    reasons.append(f"Sender authenticated: {verdict}." if verdict else "")
    return Decision(
        Status.ACCEPTED,
        " ".join(filter(None, reasons)),
        dedupe_key=reused.dedupe_key if reused is not None else "",
        thread=thread,
        thread_created=created,
        member=member,
        verdict=verdict,
        joining=joining,
        left_out=left_out,
    )


def inbox_refusal(inbox: Inbox) -> str:
    """Why this inbox takes no mail, or ''."""
    if inbox.is_active:
        return ""
    return (
        f"The inbox {inbox.address} is inactive: it takes no mail and sends nothing "
        "(an admin can make it active again in its settings)."
    )


def blocked(rule: SenderRule, sender: str) -> Decision:
    """What becomes of mail from a sender the organization blocked."""
    whom = f"the domain {rule.pattern[1:]}" if rule.is_domain else sender
    note = f" ({rule.note})" if rule.note else ""
    if rule.action == SenderRule.Action.REFUSE:
        return Decision(
            Status.REJECTED, f"Refused: this organization blocks mail from {whom}{note}."
        )
    return Decision(
        Status.QUARANTINED,
        f"Held: this organization blocks mail from {whom}{note}.",
        held_by=HeldBy.BLOCKED,
    )


def participants_new(
    parsed: ParsedMail, *, own: set[str], known: set[str], limit: int
) -> tuple[list[tuple[str, str]], int]:
    """(name, email) of the mail's addresses that join its thread, the sender first,
    and how many were left out over `limit`. Each address as the mail wrote it; `known`
    and `own` hold addresses' keys (address_normalize).

    A mail copied to a thousand addresses must not make each of them a
    recipient of the desk's replies.
    """
    new: dict[str, tuple[str, str]] = {}
    left_out = 0
    sender = address_normalize(parsed.from_email)
    for name, email in [(parsed.from_name, parsed.from_email), *parsed.to, *parsed.cc]:
        key = address_normalize(email)
        if not key or key in known or key in new or address_without_tag(key) in own:
            continue
        if len(new) >= limit and key != sender:
            left_out += 1
            continue
        new[key] = (name, email)
    return list(new.values()), left_out


def sender_problem(
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
