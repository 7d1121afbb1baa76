"""Mail whose From names a member: the desk's own answer only when something authenticates it.

Anyone can write `From: agent@acme.test`. Such a mail into a conversation is
stored as the member's outbound message only with an authentication verdict
(the trusted receiver's Authentication-Results, its Received-SPF, or a DKIM
signature verified here against a real DNS server); without one it waits in
quarantine for an agent.
"""

import base64
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import dkim
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.dns import Zone, dns_server
from tests.factories import always_open_policy
from tests.mail import TRUSTED_RECEIVER, deliver, header_prepended, make_mail
from threads.models import InboundMail, Message
from tickets import intake, queues
from tickets.models import Ticket

Status = InboundMail.Status
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FORGED = {
    "sender": "Agent <agent@acme.test>",
    "to": "jane@client.test",
    "cc": "support.acme@in.tisket.test",
    "subject": "Re: [THD-ACME-001] Cannot log in",
    "in_reply_to": "<q@client.test>",
    "body": "Please confirm your password at http://evil.test/login",
    "message_id": "<reply@acme.test>",
}


@pytest.fixture
def ticket(acme, inbox) -> Ticket:
    """A client's question, its ticket running a first-response clock."""
    with time_machine.travel(START, tick=False):
        always_open_policy(acme.org, {"normal": {"first_response_minutes": 60}})
        queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
        thread = deliver(make_mail(message_id="<q@client.test>")).thread
    ticket = thread.ticket_link.ticket
    assert ticket.first_response_due_at is not None
    return ticket


def assert_held_and_clock_untouched(result, ticket: Ticket) -> None:
    assert result.inbound.status == Status.QUARANTINED, result.inbound.reason
    assert "agent@acme.test" in result.inbound.reason
    assert result.message is None
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    assert ticket.thread_links.get().thread.messages.count() == 1
    after = Ticket.objects.get(pk=ticket.pk)
    assert after.first_responded_at is None
    assert after.first_response_due_at == ticket.first_response_due_at
    assert after.status == Ticket.Status.NEW


def assert_desks_answer(result, acme) -> None:
    assert result.inbound.status == Status.ACCEPTED, result.inbound.reason
    assert result.message.direction == Message.Direction.OUTBOUND
    assert result.message.author == acme.agent
    assert Ticket.objects.get().first_responded_at is not None


def test_a_forged_member_reply_is_quarantined_and_the_first_response_clock_runs_on(acme, ticket):
    result = deliver(make_mail(**FORGED))
    assert_held_and_clock_untouched(result, ticket)
    assert "proves nothing" in result.inbound.reason
    assert result.inbound.thread == ticket.thread_links.get().thread


def test_with_no_verdict_configured_the_reason_names_the_settings(acme, ticket, settings):
    settings.TISKET_TRUSTED_AUTHSERV_IDS = []
    result = deliver(make_mail(**FORGED, authenticated=True))
    assert_held_and_clock_untouched(result, ticket)
    assert "TISKET_TRUSTED_AUTHSERV_IDS" in result.inbound.reason


def test_the_trusted_receivers_dmarc_pass_makes_a_member_reply_the_desks_answer(acme, ticket):
    result = deliver(make_mail(**FORGED, authenticated=True))
    assert_desks_answer(result, acme)
    assert result.inbound.reason == (
        f"Sender authenticated: Authentication-Results of {TRUSTED_RECEIVER}: "
        "dmarc=pass header.from=acme.test."
    )


def test_an_authenticated_viewers_mail_is_not_the_desks_answer(acme, ticket):
    mail = {**FORGED, "sender": "Viewer <viewer@acme.test>", "message_id": "<v@acme.test>"}
    result = deliver(make_mail(**mail, authenticated=True))
    assert result.inbound.status == Status.ACCEPTED
    assert result.message.direction == Message.Direction.INBOUND
    assert result.message.author is None
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


@pytest.mark.parametrize(
    "on_top",
    [
        # The receiver's own verdict on top, the attacker's forged pass below it.
        f"{TRUSTED_RECEIVER}; dmarc=fail (p=none) header.from=acme.test",
        f"{TRUSTED_RECEIVER}; none",
        # On top, but from a receiver the installation does not trust.
        "mx.evil.test; dmarc=pass header.from=acme.test",
    ],
)
def test_a_forged_authentication_results_header_does_not_pass(acme, ticket, on_top):
    forged = f"{TRUSTED_RECEIVER}; dmarc=pass header.from=acme.test"
    raw = make_mail(**FORGED, headers={"Authentication-Results": forged})
    result = deliver(header_prepended(raw, "Authentication-Results", on_top))
    assert_held_and_clock_untouched(result, ticket)


def test_a_verdict_for_another_domain_does_not_pass(acme, ticket):
    raw = header_prepended(
        make_mail(**FORGED),
        "Authentication-Results",
        f"{TRUSTED_RECEIVER}; dkim=pass header.d=evil.test; dmarc=pass header.from=evil.test",
    )
    assert_held_and_clock_untouched(deliver(raw), ticket)


def test_a_mail_with_two_from_headers_does_not_pass(acme, ticket):
    raw = make_mail(**FORGED, authenticated=True)
    raw = raw.replace(b"<agent@acme.test>\n", b"<agent@acme.test>\nFrom: agent2@acme.test\n", 1)
    assert_held_and_clock_untouched(deliver(raw), ticket)


def test_an_agent_may_release_a_held_member_reply_as_the_desks_answer(acme, ticket):
    held = deliver(make_mail(**FORGED))
    result = intake.mail_release(inbound_mail=held.inbound, actor=acme.agent2)
    assert_desks_answer(result, acme)
    assert result.inbound.decided_by == acme.agent2


def test_a_new_conversation_started_by_a_member_needs_no_verdict(acme, inbox):
    result = deliver(make_mail(sender="agent@acme.test", subject="Internal question"))
    assert result.inbound.status == Status.ACCEPTED
    assert result.thread_created
    assert result.message.direction == Message.Direction.INBOUND


SPF_PASS = (
    "Pass (sender SPF authorized) identity=mailfrom; client-ip=192.0.2.1; "
    "helo=mail.acme.test; envelope-from=bounces@acme.test; receiver=mx.tisket.test"
)


def test_a_trusted_received_spf_pass_makes_a_member_reply_the_desks_answer(acme, ticket, settings):
    settings.TISKET_TRUST_RECEIVED_SPF = True
    result = deliver(header_prepended(make_mail(**FORGED), "Received-SPF", SPF_PASS))
    assert_desks_answer(result, acme)
    assert "Received-SPF: pass for acme.test" in result.inbound.reason


@pytest.mark.parametrize(
    ("trusted", "headers"),
    [
        (False, [SPF_PASS]),  # not turned on
        (True, ["Fail (not permitted) identity=mailfrom; envelope-from=agent@acme.test", SPF_PASS]),
        (True, [SPF_PASS.replace("bounces@acme.test", "bounces@evil.test")]),
    ],
)
def test_received_spf_does_not_pass_untrusted_below_a_fail_or_unaligned(
    acme, ticket, settings, trusted, headers
):
    settings.TISKET_TRUST_RECEIVED_SPF = trusted
    raw = make_mail(**FORGED)
    for value in reversed(headers):
        raw = header_prepended(raw, "Received-SPF", value)
    assert_held_and_clock_untouched(deliver(raw), ticket)


def dkim_key() -> tuple[bytes, str]:
    """A fresh RSA key: the private key as PEM, and its DNS record."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


SIGNED = [b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to"]


def dkim_signed(raw: bytes, *, domain: str, private: bytes, headers=SIGNED) -> bytes:
    signature = dkim.sign(raw, b"mail", domain.encode(), private, include_headers=headers)
    return signature + raw


@dataclass
class Published:
    zone: Zone
    private: bytes  # the key of acme.test's published record

    @property
    def asked(self) -> list[str]:
        return self.zone.asked


@pytest.fixture
def dns_zone(settings):
    """A real DNS server on 127.0.0.1 that Tisket asks, with acme.test's DKIM key."""
    with dns_server() as (zone, address):
        settings.TISKET_DNS_SERVERS = [address]
        settings.TISKET_DKIM_VERIFY = True
        settings.TISKET_TRUSTED_AUTHSERV_IDS = []
        private, record = dkim_key()
        zone.txt["mail._domainkey.acme.test"] = record
        yield Published(zone=zone, private=private)


def test_a_member_reply_signed_by_their_domain_is_verified_here_and_passes(acme, ticket, dns_zone):
    raw = dkim_signed(make_mail(**FORGED), domain="acme.test", private=dns_zone.private)
    result = deliver(raw)
    assert_desks_answer(result, acme)
    assert "DKIM signature of acme.test verified" in result.inbound.reason
    assert dns_zone.asked == ["mail._domainkey.acme.test"]


def test_a_signed_member_reply_whose_body_was_changed_does_not_pass(acme, ticket, dns_zone):
    raw = dkim_signed(make_mail(**FORGED), domain="acme.test", private=dns_zone.private)
    raw = raw.replace(b"http://evil.test/login", b"http://evil.test/steal")
    assert_held_and_clock_untouched(deliver(raw), ticket)


def test_a_signed_reply_replayed_with_a_threading_header_added_does_not_pass(
    acme, ticket, dns_zone
):
    # Still a valid signature: References is not signed, In-Reply-To is signed below.
    for name in ("References", "In-Reply-To"):
        mail = make_mail(**FORGED | {"message_id": f"<{name}@acme.test>"})
        raw = dkim_signed(mail, domain="acme.test", private=dns_zone.private)
        assert_held_and_clock_untouched(deliver(header_prepended(raw, name, "<x@y>")), ticket)


def test_a_signature_that_leaves_a_present_threading_header_unsigned_does_not_pass(
    acme, ticket, dns_zone
):
    unsigned = [name for name in SIGNED if name != b"in-reply-to"]
    raw = dkim_signed(
        make_mail(**FORGED), domain="acme.test", private=dns_zone.private, headers=unsigned
    )
    assert_held_and_clock_untouched(deliver(raw), ticket)


def test_a_valid_signature_of_another_domain_does_not_pass(acme, ticket, dns_zone):
    private, record = dkim_key()
    dns_zone.zone.txt["mail._domainkey.evil.test"] = record
    raw = dkim_signed(make_mail(**FORGED), domain="evil.test", private=private)
    assert_held_and_clock_untouched(deliver(raw), ticket)
    assert dns_zone.asked == []  # a signature that could not vouch costs no lookup


def test_a_signature_whose_key_is_not_in_dns_does_not_pass(acme, ticket, dns_zone):
    private, _ = dkim_key()  # not the key published for acme.test
    raw = dkim_signed(make_mail(**FORGED), domain="acme.test", private=private)
    assert_held_and_clock_untouched(deliver(raw), ticket)


def test_client_mail_costs_no_dns_lookup(acme, ticket, dns_zone):
    result = deliver(make_mail(in_reply_to="<q@client.test>", subject="Re: still broken"))
    assert result.inbound.status == Status.ACCEPTED
    assert dns_zone.asked == []


def test_one_mail_adds_at_most_the_new_participants_allowed(acme, inbox, caplog):
    copied = ", ".join(f"person{n}@client.test" for n in range(80))
    with caplog.at_level(logging.INFO, logger="threads.ingest"):
        result = deliver(make_mail(cc=copied))
    assert result.inbound.status == Status.ACCEPTED
    assert len(result.message.cc) == 80  # the message still shows whom it was copied to
    participants = set(result.thread.participants.values_list("email", flat=True))
    assert len(participants) == 50
    assert "jane@client.test" in participants
    assert "31 more addresses left out" in caplog.text


def test_addresses_already_in_the_thread_do_not_count_against_the_limit(acme, inbox, settings):
    settings.TISKET_MAX_NEW_PARTICIPANTS = 3
    first = deliver(make_mail(message_id="<q@client.test>", cc="bob@client.test"))
    copied = ", ".join(["bob@client.test", *(f"person{n}@client.test" for n in range(5))])
    deliver(make_mail(in_reply_to="<q@client.test>", subject="Re: x", cc=copied))
    participants = set(first.thread.participants.values_list("email", flat=True))
    assert participants == {
        "jane@client.test",
        "bob@client.test",
        "person0@client.test",
        "person1@client.test",
        "person2@client.test",
    }
