"""Custom mail domains against a real DNS server on 127.0.0.1 (dnslib), and real SMTP.

Each check is looked up through TISKET_DNS_SERVERS; signatures are verified
with dkimpy against the key the test's DNS server publishes.
"""

import logging
from email import message_from_bytes, policy

import dkim
import pytest
from django.core.exceptions import ValidationError

from inboxes import domains, services
from inboxes.models import MailDomain
from inboxes.tasks import mail_domains_check_task
from tests.inboxes.conftest import publish
from tests.mail import deliver, make_mail
from threads import outbound
from threads.models import Thread
from tisket.errors import ConflictError
from tisket.lib.mail.dns_records import Lookup
from tisket.models import Notification

Status = MailDomain.Status


def by_key(domain: MailDomain) -> dict[str, dict]:
    return {c["key"]: c for c in domain.checks}


def verified(acme, zone, *, mx: bool = True) -> MailDomain:
    domain = domains.mail_domain_add(organization=acme.org, name="ClientCorp.com.")
    publish(zone, domain, mx=mx)
    return domains.mail_domain_check(domain=domain)


def dns_txt(zone):
    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        values = Lookup([zone.address], 5).txt(name.decode())
        return values[0].encode() if values else None

    return lookup


# --- the checks -------------------------------------------------------------------


def test_a_domain_with_every_record_published_verifies(acme, zone):
    domain = verified(acme, zone)
    assert domain.name == "clientcorp.com"
    assert domain.status == Status.VERIFIED and domain.verified_at is not None
    checks = by_key(domain)
    assert [c["key"] for c in domain.checks] == ["ownership", "spf", "dkim", "dmarc", "mx"]
    assert all(c["ok"] is True for c in domain.checks), domain.checks
    assert "the domain is yours" in checks["ownership"]["explanation"]
    assert "include:spf.relay.test" in checks["spf"]["explanation"]
    assert "p=quarantine" in checks["dmarc"]["explanation"]
    assert domain.dkim_verified and domain.mx_routes_here
    # Asked of the installation's resolver, under the names an admin publishes.
    assert "_tisket.clientcorp.com" in zone.asked
    assert domain.dkim_record_name in zone.asked


def test_missing_records_say_what_to_publish(acme, zone):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    domain = domains.mail_domain_check(domain=domain)
    checks = by_key(domain)
    assert domain.status == Status.PENDING
    assert [checks[k]["ok"] for k in ("ownership", "spf", "dkim", "dmarc")] == [False] * 4
    assert checks["mx"]["ok"] is None  # replies simply stay on the provisioned address
    assert domain.ownership_record_value in checks["ownership"]["explanation"]
    assert "No TXT record at _tisket.clientcorp.com" in checks["ownership"]["explanation"]
    assert "no SPF record" in checks["spf"]["explanation"]
    assert "does not sign" in checks["dkim"]["explanation"]
    assert "No DMARC record" in checks["dmarc"]["explanation"]
    assert not domain.dkim_verified


def test_wrong_records_are_told_apart_from_missing_ones(acme, zone):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    other = domains.mail_domain_add(organization=acme.org, name="other.test")
    zone.txt[domain.ownership_record_name] = other.ownership_record_value
    zone.txt[domain.dkim_record_name] = MailDomain.dkim_record_value(other.dkim_public)
    zone.txt["clientcorp.com"] = ["v=spf1 include:a.test ~all", "v=spf1 mx -all"]
    zone.txt["_dmarc.clientcorp.com"] = "v=DMARC1; p=whatever"
    zone.mx["clientcorp.com"] = ["mx.elsewhere.test"]
    checks = by_key(domains.mail_domain_check(domain=domain))
    assert checks["ownership"]["ok"] is False
    assert "does not hold this domain's token" in checks["ownership"]["explanation"]
    assert checks["dkim"]["ok"] is False
    assert "2 SPF records" in checks["spf"]["explanation"]
    assert "no valid policy" in checks["dmarc"]["explanation"]
    assert checks["mx"]["ok"] is None and "other servers" in checks["mx"]["explanation"]

    zone.txt["clientcorp.com"] = "v=spf1 include:a.test ~all"
    checks = by_key(domains.mail_domain_check(domain=domain))
    assert checks["spf"]["ok"] is False
    assert "add include:spf.relay.test" in checks["spf"]["explanation"]


def test_a_changed_record_stops_the_domain_and_tells_the_admins(acme, zone, inbox):
    domain = verified(acme, zone)
    services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    domains.inbox_from_set(inbox=inbox, address="support@clientcorp.com")
    assert domains.inbox_sender(inbox).address == "support@clientcorp.com"

    zone.txt[domain.ownership_record_name] = "tisket-verify=someone-else"
    domain = domains.mail_domain_check(domain=domain)
    assert domain.status == Status.FAILING
    sender = domains.inbox_sender(inbox)
    assert (sender.address, sender.reply_base, sender.dkim_private) == (inbox.address,) * 2 + ("",)
    told = Notification.objects.filter(kind=Notification.Kind.MAIL_DOMAIN)
    assert {n.recipient for n in told} == {acme.owner, acme.admin}  # admins only
    assert told[0].title == "clientcorp.com stopped verifying"
    assert told[0].url == f"/acme/settings/domains/{domain.pk}/"
    # Checked again while still failing: nobody is told twice.
    domains.mail_domain_check(domain=domain)
    assert told.count() == 2

    zone.txt[domain.ownership_record_name] = domain.ownership_record_value
    assert domains.mail_domain_check(domain=domain).status == Status.VERIFIED
    assert told.filter(title="clientcorp.com verifies again").count() == 2
    assert domains.inbox_sender(inbox).address == "support@clientcorp.com"


def test_resolvers_that_do_not_answer_change_nothing(acme, zone, settings):
    domain = verified(acme, zone)
    from tests.smtp import free_port

    settings.TISKET_DNS_SERVERS = [f"127.0.0.1:{free_port()}"]  # nothing answers there
    settings.TISKET_DOMAIN_CHECK_DEADLINE = 1
    domain = domains.mail_domain_check(domain=domain)
    assert domain.status == Status.VERIFIED and domain.dkim_verified
    assert {c["ok"] for c in domain.checks} == {None}
    assert "did not answer" in domain.checks[0]["explanation"]
    assert not Notification.objects.exists()


def test_a_domain_verified_by_another_organization_first_stays_theirs(acme, globex, zone):
    verified(globex, zone)
    ours = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    zone.txt[ours.ownership_record_name] = [
        zone.txt[ours.ownership_record_name],
        ours.ownership_record_value,
    ]
    ours = domains.mail_domain_check(domain=ours)
    assert ours.status == Status.PENDING
    assert "Another organization" in by_key(ours)["ownership"]["explanation"]


@pytest.mark.parametrize(
    "name", ["clientcorp", "in.tisket.test", "x.in.tisket.test", "bad_label.com", "-a.com", ""]
)
def test_a_name_that_is_not_a_usable_domain_is_refused(acme, name, settings):
    settings.TISKET_INBOUND_DOMAIN = "in.tisket.test"
    with pytest.raises(ValidationError):
        domains.mail_domain_add(organization=acme.org, name=name)
    assert not MailDomain.objects.exists()


def test_a_domain_is_added_once_per_organization(acme, globex):
    domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    with pytest.raises(ConflictError):
        domains.mail_domain_add(organization=acme.org, name="CLIENTCORP.com")
    domains.mail_domain_add(organization=globex.org, name="clientcorp.com")  # to prove, too


def test_the_periodic_task_checks_every_domain(acme, globex, zone):
    ours = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    publish(zone, ours)
    theirs = domains.mail_domain_add(organization=globex.org, name="globex-mail.test")
    assert mail_domains_check_task.apply().get() == 2
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.status == Status.VERIFIED and theirs.status == Status.PENDING
    assert theirs.checked_at is not None


# --- addresses on a verified domain ---------------------------------------------


def test_admins_add_addresses_on_their_verified_domain_only(
    acme, globex, zone, inbox, globex_inbox
):
    with pytest.raises(ValidationError, match="verify it on the Domains page"):
        services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    verified(acme, zone)
    services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    assert [a.address for a in inbox.extra_addresses.all()] == ["support@clientcorp.com"]
    # Another organization's verified domain is no use to Globex.
    with pytest.raises(ValidationError):
        services.inbox_update(inbox=globex_inbox, extra_addresses=["help@clientcorp.com"])


def test_only_an_address_of_the_inbox_on_a_verified_domain_can_be_its_from(acme, zone, inbox):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    services.inbox_update(
        inbox=inbox, extra_addresses=["support@clientcorp.com"], outside_domain_allowed=True
    )
    with pytest.raises(ValidationError, match="not a verified domain"):
        domains.inbox_from_set(inbox=inbox, address="support@clientcorp.com")
    publish(zone, domain)
    domains.mail_domain_check(domain=domain)
    with pytest.raises(ValidationError, match="not an address of this inbox"):
        domains.inbox_from_set(inbox=inbox, address="other@clientcorp.com")
    domains.inbox_from_set(inbox=inbox, address="Support@ClientCorp.com")
    assert inbox.from_address == "support@clientcorp.com"
    # Removing the address takes it off the From too.
    services.inbox_update(inbox=inbox, extra_addresses=[])
    inbox.refresh_from_db()
    assert inbox.from_address == ""


# --- sending, signed ------------------------------------------------------------


def _reply(acme, text="Hello from the desk"):
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body=text
    )
    return outbound.outbox_send(outbound_id=row.pk)


@pytest.fixture
def sending(acme, zone, inbox, smtp):
    domain = verified(acme, zone)
    services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    domains.inbox_from_set(inbox=inbox, address="support@clientcorp.com")
    deliver(make_mail(to="support@clientcorp.com"))
    return domain


def test_a_reply_from_a_verified_domain_is_signed_and_verifies(acme, zone, sending, smtp):
    sent = _reply(acme)
    assert sent.status == "sent", sent.error_detail
    raw = smtp.raw[0]
    assert raw.startswith(b"DKIM-Signature:")
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["From"].addresses[0].addr_spec == "support@clientcorp.com"
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("support+") and reply_to.endswith("@clientcorp.com")
    assert f"s={sending.dkim_selector};" in mail["DKIM-Signature"].replace(" ", "")
    assert dkim.verify(raw, dnsfunc=dns_txt(zone))
    # A changed body no longer verifies: the signature covers it.
    assert not dkim.verify(
        raw.replace(b"Hello from the desk", b"Pay to IBAN XX00"), dnsfunc=dns_txt(zone)
    )

    # The client's answer to the signed reply address comes back to the conversation.
    answer = deliver(make_mail(to=reply_to, subject="Re: thanks", sender="jane@client.test"))
    assert answer.thread == Thread.objects.get()


def test_replies_stay_on_the_provisioned_domain_when_mx_routes_elsewhere(acme, zone, inbox, smtp):
    verified(acme, zone, mx=False)
    services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    domains.inbox_from_set(inbox=inbox, address="support@clientcorp.com")
    deliver(make_mail())
    _reply(acme)
    mail = message_from_bytes(smtp.raw[0], policy=policy.default)
    assert mail["From"].addresses[0].addr_spec == "support@clientcorp.com"
    assert mail["Reply-To"].addresses[0].addr_spec.endswith(f"@{inbox.address.split('@')[1]}")
    assert dkim.verify(smtp.raw[0], dnsfunc=dns_txt(zone))


def test_a_domain_that_stops_verifying_before_the_send_falls_back(acme, zone, sending, smtp, inbox):
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Written while verified"
    )
    assert row.headers["Reply-To"].endswith("@clientcorp.com")
    del zone.txt[sending.ownership_record_name]
    domains.mail_domain_check(domain=sending)
    outbound.outbox_send(outbound_id=row.pk)
    raw = smtp.raw[0]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["From"].addresses[0].addr_spec == inbox.address
    assert mail["Reply-To"].addresses[0].addr_spec.endswith(f"@{inbox.address.split('@')[1]}")
    assert mail["DKIM-Signature"] is None


def test_rotation_keeps_the_old_key_until_the_new_one_is_published(acme, zone, sending, smtp):
    old = sending.dkim_selector
    rotated = domains.mail_domain_rotate(domain=sending)
    assert rotated.dkim_next_selector and rotated.dkim_next_selector != old
    with pytest.raises(ConflictError):
        domains.mail_domain_rotate(domain=rotated)
    # Not published yet: the old key signs, and a check keeps it.
    checked = domains.mail_domain_check(domain=rotated)
    assert checked.dkim_selector == old and checked.dkim_next_selector
    assert "not published yet" in by_key(checked)["dkim"]["explanation"]
    _reply(acme, "first")
    assert f"s={old};" in message_from_bytes(smtp.raw[0], policy=policy.default)[
        "DKIM-Signature"
    ].replace(" ", "")
    assert dkim.verify(smtp.raw[0], dnsfunc=dns_txt(zone))

    zone.txt[checked.dkim_next_record_name] = MailDomain.dkim_record_value(checked.dkim_next_public)
    new = checked.dkim_next_selector
    promoted = domains.mail_domain_check(domain=checked)
    assert (promoted.dkim_selector, promoted.dkim_next_selector) == (new, "")
    assert promoted.dkim_verified
    del zone.txt[f"{old}._domainkey.clientcorp.com"]  # the admin removes the old record
    _reply(acme, "second")
    assert f"s={new};" in message_from_bytes(smtp.raw[1], policy=policy.default)[
        "DKIM-Signature"
    ].replace(" ", "")
    assert dkim.verify(smtp.raw[1], dnsfunc=dns_txt(zone))


def test_an_esp_inbox_is_not_signed_by_tisket(acme, zone, sending, inbox):
    from threads.outbound.outbox import _build

    inbox.transport = inbox.Transport.ESP
    inbox.save(update_fields=["transport"])
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="via the ESP"
    )
    mail = _build(row)
    assert mail.from_email.endswith("<support@clientcorp.com>")
    assert b"DKIM-Signature" not in mail.message().as_bytes()


def test_private_keys_are_sealed_and_never_logged(acme, zone, inbox, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    assert "PRIVATE KEY" not in domain.dkim_private_sealed
    rotated = domains.mail_domain_rotate(domain=domain)
    assert "PRIVATE KEY" not in rotated.dkim_next_private_sealed
    publish(zone, domain)
    domains.mail_domain_check(domain=domain)
    assert "PRIVATE" not in caplog.text and domain.dkim_private_sealed not in caplog.text


def test_a_domains_life_is_in_the_audit_log_without_its_keys(acme, zone):
    from tisket.audit import Action
    from tisket.models import AuditEvent

    domain = verified(acme, zone)
    domains.mail_domain_rotate(domain=domain)
    zone.txt[domain.ownership_record_name] = "tisket-verify=someone-else"
    domains.mail_domain_check(domain=domain)
    domains.mail_domain_delete(domain=domain)
    events = list(
        AuditEvent.objects.filter(organization=acme.org, action__startswith="domain.").order_by(
            "id"
        )
    )
    assert [(e.action, e.data.get("to", "")) for e in events] == [
        (Action.DOMAIN_ADDED, ""),
        (Action.DOMAIN_STATUS_CHANGED, Status.VERIFIED),
        (Action.DOMAIN_KEY_ROTATED, ""),
        (Action.DOMAIN_STATUS_CHANGED, Status.FAILING),
        (Action.DOMAIN_REMOVED, ""),
    ]
    assert {e.target_label for e in events} == {"clientcorp.com"}
    stored = " ".join(str(e.data) for e in events)
    assert "PRIVATE KEY" not in stored and domain.token not in stored


def test_admins_who_did_not_read_that_a_domain_stopped_verifying_get_it_by_mail(
    acme, zone, smtp, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from tickets.notification_mail import notification_mails_send

    domain = verified(acme, zone)
    zone.txt[domain.ownership_record_name] = "tisket-verify=someone-else"
    domains.mail_domain_check(domain=domain)
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_mails_send() == 0  # not before the delay
    later = timezone.now() + timedelta(minutes=6)
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_mails_send(now=later) == 2
    mailed = {to[0]: mail for to, mail in smtp.received}
    assert set(mailed) == {"owner@acme.test", "admin@acme.test"}
    assert (
        "clientcorp.com stopped verifying"
        in mailed["admin@acme.test"].get_body(("plain",)).get_content()
    )
