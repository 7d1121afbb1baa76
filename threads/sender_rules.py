"""An organization's sender rules: block a sender (or a domain), or always allow one.

The ingest decision reads them (threads.ingest.decide); these are their writes.
A rule names an address ("jane@example.com") or a whole domain ("@example.com");
one rule per pattern per organization, so blocking an allowed sender replaces
the allowance, and the other way round.
"""

from django.db import transaction

from threads.inbound import InboundStateError, quarantine_discard
from threads.models import HeldBy, InboundMail, SenderRule
from tisket.audit import Action, audit_record
from tisket.errors import TisketError
from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.models import Membership, Organization

Kind = SenderRule.Kind

# What "always allow" may skip: the stranger rule (and a block it replaces).
# Never authentication: a From header alone must not make a mail the desk's answer.
ALLOWABLE = frozenset({HeldBy.STRANGER, HeldBy.BLOCKED})


class SenderRuleError(TisketError):
    """A rule that cannot be made as asked."""


def sender_pattern(*, email: str, whole_domain: bool) -> str:
    """The rule's pattern for this sender: their address, or '@' and their domain."""
    email = address_normalize(email or "")
    if not address_is_valid(email) or email.count("@") != 1 or "." not in email.partition("@")[2]:
        raise SenderRuleError(f"'{email or '(none)'}' is not an address a rule can name.")
    return "@" + email.rpartition("@")[2] if whole_domain else email


def pattern_parse(text: str) -> str:
    """An address, or a domain written "example.com" or "@example.com", as a rule's pattern."""
    text = text.strip().lower()
    if "@" in text.lstrip("@"):
        return sender_pattern(email=text, whole_domain=False)
    domain = text.lstrip("@")
    if not address_is_valid(f"postmaster@{domain}") or "." not in domain:
        raise SenderRuleError(
            f"'{text or '(nothing)'}' is neither an address nor a domain such as example.com."
        )
    return "@" + domain


def held_by(inbound: InboundMail) -> str:
    """The rule that held this mail; mail held before the column existed says it in words."""
    if inbound.held_by:
        return inbound.held_by
    return HeldBy.STRANGER if "neither a participant" in inbound.reason else ""


@transaction.atomic
def sender_rule_set(
    *,
    organization: Organization,
    kind: str,
    pattern: str,
    action: str = "",
    note: str = "",
    actor: Membership | None,
) -> SenderRule:
    """Block or always allow an address or domain; replaces the pattern's earlier rule."""
    if kind not in Kind.values:
        raise SenderRuleError("A rule either blocks or always allows.")
    if kind == Kind.BLOCK:
        action = action or SenderRule.Action.QUARANTINE
        if action not in SenderRule.Action.values:
            raise SenderRuleError("A block either holds the mail or refuses it.")
    else:
        action = ""
    rule, _ = SenderRule.objects.update_or_create(
        organization=organization,
        pattern=pattern,
        defaults={"kind": kind, "action": action, "note": note[:300], "created_by": actor},
    )
    audit_record(
        organization=organization,
        action=Action.SENDER_RULE_ADDED,
        actor=actor,
        target=rule,
        target_label=f"{rule.get_kind_display()}: {pattern}",
        data={"action": action},
    )
    return rule


def sender_rule_remove(*, rule: SenderRule, actor: Membership | None) -> None:
    """Remove a rule: the sender's mail is decided as anyone's again."""
    audit_record(
        organization=rule.organization_id,
        action=Action.SENDER_RULE_REMOVED,
        actor=actor,
        target=rule,
        target_label=f"{rule.get_kind_display()}: {rule.pattern}",
    )
    rule.delete()


@transaction.atomic
def quarantine_block(
    *, inbound: InboundMail, actor: Membership | None, whole_domain: bool, action: str
) -> SenderRule:
    """Block a held mail's sender (or their domain) and discard the mail."""
    if inbound.status != InboundMail.Status.QUARANTINED:
        raise InboundStateError(f"This mail is {inbound.status}, not quarantined.")
    rule = sender_rule_set(
        organization=inbound.organization,
        kind=Kind.BLOCK,
        pattern=sender_pattern(email=inbound.from_email, whole_domain=whole_domain),
        action=action,
        note=f"from held mail #{inbound.pk}",
        actor=actor,
    )
    quarantine_discard(inbound=inbound, actor=actor)
    return rule


def allow_refusal(inbound: InboundMail) -> str:
    """Why this held mail's sender cannot be always allowed, or ''."""
    if held_by(inbound) in ALLOWABLE:
        return ""
    return (
        "This mail was held because nothing authenticates its sender, not because the "
        "sender is a stranger: no rule can skip that check. Release it if it is genuine."
    )


def allow_pattern(*, inbound: InboundMail, whole_domain: bool) -> str:
    """The pattern an "always allow" of this held mail's sender would take; raises when
    the mail is not held, or was held by a rule no allowance skips."""
    if inbound.status != InboundMail.Status.QUARANTINED:
        raise InboundStateError(f"This mail is {inbound.status}, not quarantined.")
    refusal = allow_refusal(inbound)
    if refusal:
        raise SenderRuleError(refusal)
    return sender_pattern(email=inbound.from_email, whole_domain=whole_domain)
