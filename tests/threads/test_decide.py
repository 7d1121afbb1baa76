"""The ingest decision as a table: each rule, over look-ups built by hand, with no database."""

from dataclasses import dataclass, field

import pytest

from inboxes.models import Inbox
from tests.mail import make_mail
from threads.ingest.decide import Candidate, Lookups, decide
from threads.models import HeldBy, InboundMail, Message, SenderRule, Thread
from threads.routing import ThreadMatcher
from threads.services import message_id_key
from tisket.lib.mail.parse import parse_mail
from tisket.lib.reply_tokens import reply_token_make
from tisket.models import Membership, Organization, Role, User

S = InboundMail.Status
ACME = Organization(pk=1, name="Acme", slug="acme", code="ACME")
GLOBEX = Organization(pk=2, name="Globex", slug="globex", code="GLOBEX")
INBOX = Inbox(pk=1, organization=ACME, name="Support")
GLOBEX_INBOX = Inbox(pk=2, organization=GLOBEX, name="Support")
AGENT = Membership(pk=1, organization=ACME, user=User(email="alex@acme.test"), role=Role.AGENT)

QUESTION = Thread(pk=10, organization=ACME, number=4, reference="THD-ACME-004")
QUESTION.status = Thread.Status.OPEN
CLOSED = Thread(pk=11, organization=ACME, number=5, reference="THD-ACME-005")
CLOSED.status = Thread.Status.CLOSED
THEIRS = Thread(pk=20, organization=GLOBEX, number=4, reference="THD-GLOBEX-004")
THEIRS.status = Thread.Status.OPEN
STORED = Message(pk=99, organization_id=1, thread=QUESTION, dedupe_key=message_id_key("old@c.test"))


def mail(inbox: Inbox = INBOX, *, tags: tuple[str, ...] = (), **kwargs) -> Candidate:
    kwargs.setdefault("message_id", "<m@client.test>")
    parsed = parse_mail(make_mail(**kwargs))
    key = message_id_key(parsed.message_id) if parsed.message_id else parsed.content_key
    return Candidate(parsed=parsed, inbox=inbox, tags=tags, dedupe_key=key)


@dataclass
class World:
    """The look-ups: what is stored, who is a member and who takes part where."""

    verdicts: dict[str, str] = field(default_factory=dict)  # sender -> verdict
    rules: dict[tuple[int, str], SenderRule] = field(default_factory=dict)  # sender rules

    def lookups(self, *, release: bool = False) -> Lookups:
        threads = [QUESTION, CLOSED, THEIRS]
        by_key = {
            (1, message_id_key("q@c.test")): QUESTION.pk,
            (1, message_id_key("closed@c.test")): CLOSED.pk,
            (2, message_id_key("theirs@c.test")): THEIRS.pk,
        }
        return Lookups(
            stored={(1, STORED.dedupe_key): STORED},
            members={(1, "alex@acme.test"): AGENT},
            own_addresses={1: {"support.acme@in.tisket.test"}, 2: set()},
            participants={QUESTION.pk: {"jane@client.test"}},
            matcher=None if release else ThreadMatcher.of(threads, by_key),
            verdict=lambda c: self.verdicts.get(c.parsed.from_email, ""),
            unauthenticated=lambda sender: f"{sender} is not authenticated",
            max_new_participants=2,
            sender_rules=dict(self.rules),
        )


REPLY = {"in_reply_to": "<q@c.test>", "subject": "Re: Cannot log in"}

CASES = [
    # (what, candidates, verdicts, expected (status, thread reference or "new", reason part))
    ("a new question opens a thread", [{}], {}, [(S.ACCEPTED, "new", "")]),
    ("a client's reply joins its thread", [REPLY], {}, [(S.ACCEPTED, "THD-ACME-004", "")]),
    (
        "a reply token finds the thread whatever the subject",
        [{"tags": (reply_token_make(QUESTION.pk),), "subject": "Other"}],
        {},
        [(S.ACCEPTED, "THD-ACME-004", "")],
    ),
    (
        "a subject reference finds the thread",
        [{"subject": "Re: [THD-ACME-004] Cannot log in"}],
        {},
        [(S.ACCEPTED, "THD-ACME-004", "")],
    ),
    (
        "another organization's subject reference finds nothing",
        [{"subject": "Re: [THD-GLOBEX-004] hello"}],
        {},
        [(S.ACCEPTED, "new", "")],
    ),
    (
        "another organization's Message-ID finds nothing",
        [{"in_reply_to": "<theirs@c.test>"}],
        {},
        [(S.ACCEPTED, "new", "")],
    ),
    (
        "a stranger's reply is held",
        [{**REPLY, "sender": "eve@evil.test"}],
        {},
        [(S.QUARANTINED, "THD-ACME-004", "neither a participant")],
    ),
    (
        "a member's unauthenticated reply is held",
        [{**REPLY, "sender": "alex@acme.test"}],
        {},
        [(S.QUARANTINED, "THD-ACME-004", "not authenticated")],
    ),
    (
        "a member's authenticated reply is accepted",
        [{**REPLY, "sender": "alex@acme.test"}],
        {"alex@acme.test": "dmarc=pass"},
        [(S.ACCEPTED, "THD-ACME-004", "Sender authenticated: dmarc=pass.")],
    ),
    (
        "a follow-up to a closed conversation starts anew",
        [{"in_reply_to": "<closed@c.test>"}],
        {},
        [(S.ACCEPTED, "new", "")],
    ),
    (
        "a stored message is a duplicate",
        [{"message_id": "<old@c.test>"}],
        {},
        [(S.DUPLICATE, "THD-ACME-004", "Already stored in THD-ACME-004")],
    ),
    (
        "the same mail twice in a batch is stored once",
        [{}, {}],
        {},
        [(S.ACCEPTED, "new", ""), (S.DUPLICATE, None, "")],
    ),
    (
        "a reply in the batch joins the thread its question opens",
        [
            {"message_id": "<new@c.test>"},
            {"message_id": "<r@c.test>", "in_reply_to": "<new@c.test>"},
        ],
        {},
        [(S.ACCEPTED, "new", ""), (S.ACCEPTED, "same", "")],
    ),
    (
        "a cc'd address of the batch's question may answer it",
        [
            {"message_id": "<new@c.test>", "cc": "bob@client.test"},
            {
                "message_id": "<r@c.test>",
                "in_reply_to": "<new@c.test>",
                "sender": "bob@client.test",
            },
        ],
        {},
        [(S.ACCEPTED, "new", ""), (S.ACCEPTED, "same", "")],
    ),
    (
        "no sender address is held",
        [{"sender": "undisclosed-recipients:;"}],
        {},
        [(S.QUARANTINED, None, "No trustworthy sender")],
    ),
]


@pytest.mark.parametrize(
    ("what", "mails", "verdicts", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_the_decision(what, mails, verdicts, expected):
    candidates = [mail(**kwargs) for kwargs in mails]
    decisions = decide(candidates, World(verdicts=verdicts).lookups())
    got = []
    for index, decision in enumerate(decisions):
        if decision.thread is None:
            thread = None
        elif decision.thread_created:
            thread = "new"
        else:
            thread = decision.thread.reference
        if index and decision.thread is not None and decision.thread is decisions[0].thread:
            thread = "same"
        got.append((decision.status, thread, decision.reason))
    assert [(s, t) for s, t, _ in got] == [(s, t) for s, t, _ in expected], what
    for (_, _, reason), (_, _, part) in zip(got, expected, strict=True):
        assert part in reason, (what, reason)


def test_a_duplicate_in_the_batch_names_the_mail_it_repeats():
    first, second = decide([mail(), mail()], World().lookups())
    assert (first.status, second.status, second.duplicate_of) == (S.ACCEPTED, S.DUPLICATE, 0)


def test_the_addresses_a_mail_brings_join_up_to_the_cap_the_sender_first():
    [decision] = decide(
        [mail(cc="a@client.test, b@client.test, c@client.test, support.acme@in.tisket.test")],
        World().lookups(),
    )
    assert [email for _, email in decision.joining] == ["jane@client.test", "a@client.test"]
    assert decision.left_out == 2  # b and c; our own address is never a participant


def test_a_release_enters_the_thread_it_was_held_from_and_no_other_organizations():
    held = mail(**REPLY, sender="eve@evil.test")
    released = Candidate(**{**held.__dict__, "released_into": QUESTION})
    [decision] = decide([released], World().lookups(release=True))
    assert (decision.status, decision.thread) == (S.ACCEPTED, QUESTION)

    moved = Candidate(**{**held.__dict__, "inbox": GLOBEX_INBOX, "released_into": QUESTION})
    [decision] = decide([moved], World().lookups(release=True))
    assert decision.status == S.QUARANTINED
    assert "another organization" in decision.reason


def test_the_decision_asks_for_a_verdict_only_for_a_member_writing_into_a_thread():
    asked = []
    lookups = World().lookups()
    lookups.verdict = lambda c: asked.append(c.parsed.from_email) or ""
    decide(
        [
            mail(),  # a client's new question
            mail(**REPLY, message_id="<r1@c.test>"),  # a client's reply
            mail(sender="alex@acme.test", message_id="<n@c.test>"),  # a member's new mail
            mail(**REPLY, sender="alex@acme.test", message_id="<r2@c.test>"),
        ],
        lookups,
    )
    assert asked == ["alex@acme.test"]


def test_a_message_id_reused_with_other_content_is_another_mail_under_a_key_of_both():
    first, other, again = [
        mail(),
        mail(sender="bob@other.test", body="Another mail"),
        mail(sender="bob@other.test", body="Another mail"),
    ]
    decisions = decide([first, other, again], World().lookups())
    assert [d.status for d in decisions] == [S.ACCEPTED, S.ACCEPTED, S.DUPLICATE]
    assert decisions[1].dedupe_key == other.reuse_key != other.dedupe_key
    assert "other content" in decisions[1].reason
    assert decisions[2].duplicate_of == 1


def test_a_stored_message_id_with_other_content_is_another_mail():
    stored = Message(
        pk=98, organization_id=1, thread=QUESTION, dedupe_key=message_id_key("m@client.test"),
        content_key="something else",
    )  # fmt: skip
    lookups = World().lookups()
    lookups.stored[(1, stored.dedupe_key)] = stored
    [decision] = decide([mail()], lookups)
    assert decision.status == S.ACCEPTED
    assert "message #98 in THD-ACME-004 with other content" in decision.reason
    [same] = decide([mail(message_id="<old@c.test>")], World().lookups())
    assert same.status == S.DUPLICATE  # a stored message of before content keys: the same
    assert "same Message-ID and content" in same.reason


def test_a_parent_decided_after_its_reply_joins_the_replys_thread_when_its_sender_takes_part():
    reply = mail(
        sender="bob@client.test",
        to="support.acme@in.tisket.test, jane@client.test",
        message_id="<r@client.test>",
        in_reply_to="<p@client.test>",
    )
    parent = mail(message_id="<p@client.test>")
    stranger = mail(sender="eve@evil.test", message_id="<p@client.test>", body="Other")
    decisions = decide([reply, parent, stranger], World().lookups())
    assert decisions[1].thread is decisions[0].thread
    assert decisions[2].thread_created  # not a participant: a thread of its own


INACTIVE = Inbox(pk=3, organization=ACME, name="old", address="old.acme@in.tisket.test")
INACTIVE.is_active = False
Kind, Act = SenderRule.Kind, SenderRule.Action


def rule(pattern: str, kind: str, action: str = "", org: Organization = ACME) -> dict:
    made = SenderRule(organization=org, pattern=pattern, kind=kind, action=action, note="")
    return {(org.pk, pattern): made}


RULE_CASES = [
    # (what, mail, rules, inbox, expected (status, thread, reason part, held_by))
    (
        "a blocked address's mail is held, whatever it answers",
        {**REPLY, "sender": "jane@client.test"},
        rule("jane@client.test", Kind.BLOCK, Act.QUARANTINE),
        INBOX,
        (S.QUARANTINED, None, "blocks mail from jane@client.test", HeldBy.BLOCKED),
    ),
    (
        "a blocked domain's new mail is refused when the rule says refuse",
        {"sender": "bob@spam.test"},
        rule("@spam.test", Kind.BLOCK, Act.REFUSE),
        INBOX,
        (S.REJECTED, None, "Refused: this organization blocks mail from the domain spam.test", ""),
    ),
    (
        "an address's rule wins over its domain's",
        {**REPLY, "sender": "eve@evil.test"},
        {**rule("@evil.test", Kind.BLOCK, Act.REFUSE), **rule("eve@evil.test", Kind.ALLOW)},
        INBOX,
        (S.ACCEPTED, "THD-ACME-004", "", ""),
    ),
    (
        "an allowed stranger's reply joins the thread",
        {**REPLY, "sender": "eve@evil.test"},
        rule("eve@evil.test", Kind.ALLOW),
        INBOX,
        (S.ACCEPTED, "THD-ACME-004", "", ""),
    ),
    (
        "an allowed domain lets its people into the thread",
        {**REPLY, "sender": "eve@evil.test"},
        rule("@evil.test", Kind.ALLOW),
        INBOX,
        (S.ACCEPTED, "THD-ACME-004", "", ""),
    ),
    (
        "no allowance skips a member's authentication",
        {**REPLY, "sender": "alex@acme.test"},
        rule("alex@acme.test", Kind.ALLOW),
        INBOX,
        (S.QUARANTINED, "THD-ACME-004", "not authenticated", HeldBy.UNAUTHENTICATED),
    ),
    (
        "a stranger without a rule is held by the stranger rule",
        {**REPLY, "sender": "eve@evil.test"},
        {},
        INBOX,
        (S.QUARANTINED, "THD-ACME-004", "neither a participant", HeldBy.STRANGER),
    ),
    (
        "another organization's block does not apply",
        {"sender": "bob@spam.test"},
        rule("@spam.test", Kind.BLOCK, Act.REFUSE, org=GLOBEX),
        INBOX,
        (S.ACCEPTED, "new", "", ""),
    ),
    (
        "an inactive inbox refuses mail, with the reason",
        {},
        {},
        INACTIVE,
        (S.REJECTED, None, "The inbox old.acme@in.tisket.test is inactive", ""),
    ),
    (
        "an inactive inbox refuses even an allowed sender's reply",
        {**REPLY, "sender": "eve@evil.test"},
        rule("eve@evil.test", Kind.ALLOW),
        INACTIVE,
        (S.REJECTED, None, "inactive", ""),
    ),
    (
        "a stored mail sent again to an inactive inbox is still a duplicate",
        {"message_id": "<old@c.test>"},
        {},
        INACTIVE,
        (S.DUPLICATE, "THD-ACME-004", "Already stored", ""),
    ),
]


@pytest.mark.parametrize(
    ("what", "kwargs", "rules", "inbox", "expected"), RULE_CASES, ids=[c[0] for c in RULE_CASES]
)
def test_sender_rules_and_inactive_inboxes(what, kwargs, rules, inbox, expected):
    [decision] = decide([mail(inbox, **kwargs)], World(rules=rules).lookups())
    if decision.thread is None:
        thread = None
    else:
        thread = "new" if decision.thread_created else decision.thread.reference
    status, reference, part, held_by = expected
    assert (decision.status, thread, decision.held_by) == (status, reference, held_by), what
    assert part in decision.reason, (what, decision.reason)


def test_a_release_heeds_no_sender_rule():
    held = mail(**REPLY, sender="eve@evil.test")
    released = Candidate(**{**held.__dict__, "released_into": QUESTION})
    lookups = World(rules=rule("eve@evil.test", Kind.BLOCK, Act.REFUSE)).lookups(release=True)
    [decision] = decide([released], lookups)
    assert (decision.status, decision.thread) == (S.ACCEPTED, QUESTION)
