from inboxes.models import Inbox
from inboxes.services import inbox_create


def test_a_new_inbox_costs_its_checks_its_row_and_its_audit_line(acme, django_assert_num_queries):
    # Its name free in the organization, its address free of squatters and of every inbox;
    # the inbox, the audit line; the savepoint around them.
    with django_assert_num_queries(7):
        inbox = inbox_create(organization=acme.org, name="support", auto_ack_enabled=False)
    assert Inbox.objects.get(pk=inbox.pk).address == "support.acme@in.tisket.test"
    assert not inbox.extra_addresses.exists()
