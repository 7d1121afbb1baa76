"""Sender rules through the real pipeline: block (held or refused) and always allow,
made from a held mail or by hand, per organization."""

import pytest

from tests.mail import deliver, make_mail
from threads import sender_rules
from threads.inbound import InboundStateError
from threads.models import HeldBy, InboundMail, Message, SenderRule
from tickets import intake
from tisket.models import AuditEvent

Kind, Act = SenderRule.Kind, SenderRule.Action


def stranger_reply(inbox, n: int = 1, sender: str = "eve@evil.test"):
    deliver(make_mail(to=inbox.address, message_id=f"<q{n}@client.test>"))
    return deliver(
        make_mail(
            to=inbox.address,
            sender=sender,
            subject="Re: Cannot log in",
            in_reply_to=f"<q{n}@client.test>",
            message_id=f"<r{n}@evil.test>",
        )
    )


def test_a_stranger_is_held_by_the_stranger_rule(inbox):
    held = stranger_reply(inbox)
    assert (held.inbound.status, held.inbound.held_by) == ("quarantined", HeldBy.STRANGER)


def test_always_allow_releases_the_mail_and_lets_the_sender_in_next_time(acme, inbox):
    held = stranger_reply(inbox)
    rule, result = intake.quarantine_allow(
        inbound_mail=held.inbound, actor=acme.supervisor, whole_domain=False
    )
    assert (rule.kind, rule.pattern, rule.created_by) == (
        Kind.ALLOW,
        "eve@evil.test",
        acme.supervisor,
    )
    assert InboundMail.objects.get(pk=held.inbound.pk).status == "accepted"
    # Into another conversation she never took part in: not held any more.
    later = stranger_reply(inbox, 2)
    assert later.inbound.status == "accepted"
    assert later.thread.pk != result.thread.pk
    assert AuditEvent.objects.filter(action="sender_rule.added", organization=acme.org).exists()


def test_allowing_a_domain_lets_everyone_there_in(acme, inbox):
    held = stranger_reply(inbox)
    intake.quarantine_allow(inbound_mail=held.inbound, actor=acme.supervisor, whole_domain=True)
    assert SenderRule.objects.get(organization=acme.org).pattern == "@evil.test"
    assert stranger_reply(inbox, 2, sender="mallory@evil.test").inbound.status == "accepted"


def test_no_allowance_for_a_members_unauthenticated_mail(acme, inbox):
    held = stranger_reply(inbox, sender=acme.agent.user.email)
    assert held.inbound.held_by == HeldBy.UNAUTHENTICATED
    with pytest.raises(sender_rules.SenderRuleError, match="nothing authenticates"):
        intake.quarantine_allow(inbound_mail=held.inbound, actor=acme.admin)
    assert not SenderRule.objects.exists()
    assert InboundMail.objects.get(pk=held.inbound.pk).status == "quarantined"


def test_blocking_discards_the_mail_and_holds_the_senders_next_one(acme, inbox):
    held = stranger_reply(inbox)
    rule = sender_rules.quarantine_block(
        inbound=held.inbound, actor=acme.supervisor, whole_domain=False, action=Act.QUARANTINE
    )
    assert InboundMail.objects.get(pk=held.inbound.pk).status == "discarded"
    # Even a new conversation of their own is held now, with the reason.
    new = deliver(make_mail(to=inbox.address, sender="eve@evil.test", subject="Hi again"))
    assert (new.inbound.status, new.inbound.held_by) == ("quarantined", HeldBy.BLOCKED)
    assert "blocks mail from eve@evil.test" in new.inbound.reason
    assert rule.note == f"from held mail #{held.inbound.pk}"


def test_a_refusing_block_on_a_domain_refuses_with_the_reason(acme, inbox):
    sender_rules.sender_rule_set(
        organization=acme.org, kind=Kind.BLOCK, pattern="@spam.test", action=Act.REFUSE, actor=None
    )
    refused = deliver(make_mail(to=inbox.address, sender="bob@spam.test"))
    assert refused.inbound.status == "rejected"
    assert (
        "Refused: this organization blocks mail from the domain spam.test" in refused.inbound.reason
    )
    assert not Message.objects.filter(from_email="bob@spam.test").exists()


def test_one_organizations_block_leaves_anothers_mail_alone(acme, globex, inbox, globex_inbox):
    sender_rules.sender_rule_set(
        organization=acme.org, kind=Kind.BLOCK, pattern="@spam.test", action=Act.REFUSE, actor=None
    )
    theirs = deliver(make_mail(to=globex_inbox.address, sender="bob@spam.test"))
    assert theirs.inbound.status == "accepted"


def test_blocking_an_allowed_sender_replaces_the_allowance(acme):
    allowed = sender_rules.sender_rule_set(
        organization=acme.org, kind=Kind.ALLOW, pattern="eve@evil.test", actor=None
    )
    blocked = sender_rules.sender_rule_set(
        organization=acme.org, kind=Kind.BLOCK, pattern="eve@evil.test", actor=None
    )
    assert blocked.pk == allowed.pk
    assert (blocked.kind, blocked.action) == (Kind.BLOCK, Act.QUARANTINE)


def test_removing_a_rule_makes_the_sender_anyones_again(acme, inbox):
    rule = sender_rules.sender_rule_set(
        organization=acme.org, kind=Kind.BLOCK, pattern="@spam.test", action=Act.REFUSE, actor=None
    )
    sender_rules.sender_rule_remove(rule=rule, actor=acme.admin)
    assert deliver(make_mail(to=inbox.address, sender="bob@spam.test")).inbound.status == "accepted"
    assert AuditEvent.objects.filter(action="sender_rule.removed").exists()


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("Jane@Example.com", "jane@example.com"),
        ("example.com", "@example.com"),
        ("@Example.COM", "@example.com"),
    ],
)
def test_a_rule_names_an_address_or_a_domain(text, pattern):
    assert sender_rules.pattern_parse(text) == pattern


@pytest.mark.parametrize("text", ["", "not a domain", "@", "a@b@c"])
def test_anything_else_is_refused_with_a_reason(text):
    with pytest.raises(sender_rules.SenderRuleError):
        sender_rules.pattern_parse(text)


def test_a_decided_mail_can_be_neither_blocked_nor_allowed_again(acme, inbox):
    held = stranger_reply(inbox)
    intake.quarantine_discard(inbound=held.inbound, actor=acme.agent)
    with pytest.raises(InboundStateError):
        sender_rules.quarantine_block(
            inbound=held.inbound, actor=acme.admin, whole_domain=False, action=Act.REFUSE
        )
    with pytest.raises(InboundStateError):
        intake.quarantine_allow(inbound_mail=held.inbound, actor=acme.admin)
    assert not SenderRule.objects.exists()
