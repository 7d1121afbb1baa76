"""What the decision needs to know about a batch, loaded in a handful of queries."""

from collections import defaultdict

from django.conf import settings
from django.db.models.functions import Lower

from inboxes.selectors import organization_addresses
from threads.ingest.decide import Candidate, Lookups
from threads.models import Message, Participant, SenderRule
from threads.routing import ThreadMatcher
from tisket.lib.addresses import address_normalize
from tisket.lib.mail.authentication import AuthenticationPolicy, sender_verdict
from tisket.models import Membership


def lookups_load(candidates: list[Candidate], *, raw: dict[int, bytes], release: bool) -> Lookups:
    """The look-ups for these candidates; raw maps id(candidate) to its raw bytes (DKIM).

    A release knows its thread; every other mail is matched to one.
    """
    organizations = {c.organization_id for c in candidates}
    keys = {c.dedupe_key for c in candidates} | {c.reuse_key for c in candidates if c.reuse_key}
    stored = {
        (message.organization_id, message.dedupe_key): message
        for message in Message.objects.select_related("thread").filter(
            organization_id__in=organizations, dedupe_key__in=keys
        )
    }
    # Replies stored before the mail they answer (the oldest first: it opened the thread).
    children = {}
    own_keys = {c.own_key for c in candidates if c.own_key}
    if own_keys and not release:
        for message in (
            Message.objects.select_related("thread")
            .filter(organization_id__in=organizations, parent_key__in=own_keys)
            .order_by("-created_at", "-id")
        ):
            children[(message.organization_id, message.parent_key)] = message.thread
    senders = {address_normalize(c.parsed.from_email) for c in candidates if c.parsed.from_email}
    members = {
        (m.organization_id, address_normalize(m.user.email)): m
        for m in Membership.objects.select_related("user")
        .alias(email_key=Lower("user__email"))
        .filter(organization_id__in=organizations, email_key__in=senders, user__is_active=True)
    }
    # Release is an agent's decision: no sender rule stands in its way.
    patterns = senders | {"@" + s.rpartition("@")[2] for s in senders}
    sender_rules = (
        {}
        if release
        else {
            (rule.organization_id, rule.pattern): rule
            for rule in SenderRule.objects.filter(
                organization_id__in=organizations, pattern__in=patterns
            )
        }
    )
    matcher = (
        None
        if release
        else ThreadMatcher([(c.organization_id, c.parsed, list(c.tags)) for c in candidates])
    )
    threads = (
        {c.released_into.pk for c in candidates if c.released_into is not None}
        if matcher is None
        else {t.pk for t in matcher.threads.values()} | {t.pk for t in children.values()}
    )
    participants: dict[int, set[str]] = defaultdict(set)
    for thread_id, email in Participant.objects.filter(thread_id__in=threads).values_list(
        "thread_id", "email"
    ):
        participants[thread_id].add(address_normalize(email))
    policy = authentication_policy()

    def verdict(candidate: Candidate) -> str:
        return sender_verdict(
            candidate.parsed.message,
            raw=raw.get(id(candidate), b"") if policy.dkim_verify else b"",
            from_email=candidate.parsed.from_email,
            policy=policy,
        )

    return Lookups(
        stored=stored,
        members=members,
        own_addresses={org: organization_addresses(organization_id=org) for org in organizations},
        participants=dict(participants),
        matcher=matcher,
        verdict=verdict,
        unauthenticated=lambda sender: unauthenticated(sender, policy),
        max_new_participants=settings.TISKET_MAX_NEW_PARTICIPANTS,
        children=children,
        sender_rules=sender_rules,
    )


def authentication_policy() -> AuthenticationPolicy:
    return AuthenticationPolicy(
        trusted_authserv_ids=frozenset(settings.TISKET_TRUSTED_AUTHSERV_IDS),
        trust_received_spf=settings.TISKET_TRUST_RECEIVED_SPF,
        dkim_verify=settings.TISKET_DKIM_VERIFY,
        dns_servers=tuple(settings.TISKET_DNS_SERVERS),
    )


def unauthenticated(sender: str, policy: AuthenticationPolicy) -> str:
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
