"""Workers racing each other on PostgreSQL: references stay gap-free, mail is stored once."""

import pytest

from inboxes.services import inbox_create
from tests.conftest import in_parallel, require_postgres
from tests.factories import OrganizationFactory
from tests.mail import make_mail
from threads.inbound import inbound_record
from threads.models import InboundMail, Message, Thread
from tickets.intake import mail_process

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def support():
    require_postgres()
    org = OrganizationFactory(slug="acme", code="ACME")
    return inbox_create(organization=org, name="support", auto_ack_enabled=False)


def test_100_concurrent_new_threads_get_100_distinct_consecutive_references(support):
    ids = [inbound_record(raw=make_mail(subject=f"q{n}"), source="test")[0].pk for n in range(100)]
    in_parallel(lambda pk: mail_process(inbound_id=pk), ids)
    assert set(InboundMail.objects.values_list("status", flat=True)) == {"accepted"}
    references = sorted(Thread.objects.values_list("reference", flat=True))
    assert references == [f"THD-ACME-{n:03d}" for n in range(1, 101)]


def test_one_mail_processed_by_many_workers_at_once_is_stored_once(support):
    raw = make_mail()
    ids = [
        inbound_record(raw=f"Received: by relay{n}\r\n".encode() + raw, source="test")[0].pk
        for n in range(10)
    ]
    in_parallel(lambda pk: mail_process(inbound_id=pk), ids)
    assert Message.objects.count() == 1
    statuses = sorted(InboundMail.objects.values_list("status", flat=True))
    assert statuses == ["accepted"] + ["duplicate"] * 9


def test_the_same_row_claimed_by_many_workers_is_processed_once(support):
    mail, _ = inbound_record(raw=make_mail(), source="test")
    results = in_parallel(lambda _: mail_process(inbound_id=mail.pk), range(8))
    assert sum(r is not None for r in results) == 1
    assert Message.objects.count() == 1
