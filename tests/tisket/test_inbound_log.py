"""The inbound log page (admins): every mail, its outcome and why, filtered and paged."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from interface.settings_pages import inbound
from tests.mail import deliver, header_prepended, make_mail
from threads.models import InboundMail


def test_the_log_shows_each_mail_its_outcome_why_and_conversation(
    acme, globex, inbox, globex_inbox, web
):
    raw = make_mail(to=inbox.address, message_id="<a@client.test>")
    accepted = deliver(raw)
    deliver(header_prepended(raw, "Received", "by relay"))  # the same mail again: a duplicate
    deliver(make_mail(to=globex_inbox.address, sender="theirs@globex-client.test"))
    page = web(acme.admin).get("/acme/settings/inbound/").content.decode()
    assert page.count('id="inbound-') == 2
    assert accepted.thread.reference in page and inbox.address in page
    assert "Duplicate" in page and "Already stored in" in page
    assert "theirs@globex-client.test" not in page


def test_the_log_filters_by_status_inbox_and_sender(acme, inbox, web):
    from inboxes.services import inbox_create

    other = inbox_create(organization=acme.org, name="billing", auto_ack_enabled=False)
    deliver(make_mail(to=inbox.address, sender="ann@a.test"))
    deliver(make_mail(to=other.address, sender="bob@b.test"))
    client = web(acme.admin)
    by_inbox = client.get(f"/acme/settings/inbound/?inbox={other.pk}").content.decode()
    assert "bob@b.test" in by_inbox and "ann@a.test" not in by_inbox
    by_sender = client.get("/acme/settings/inbound/?sender=ANN@").content.decode()
    assert "ann@a.test" in by_sender and "bob@b.test" not in by_sender
    held = client.get("/acme/settings/inbound/?status=quarantined").content.decode()
    assert "ann@a.test" not in held and "No mail for these filters" in held


def test_the_log_is_paged_newest_first_with_the_same_queries_per_page(acme, inbox, web, settings):
    inbound.PAGE_SIZE, saved = 5, inbound.PAGE_SIZE
    try:
        for n in range(12):
            deliver(make_mail(to=inbox.address, sender=f"c{n:02d}@client.test"))
        client = web(acme.admin)
        client.get("/acme/settings/inbound/")
        with CaptureQueriesContext(connection) as first:
            page = client.get("/acme/settings/inbound/").content.decode()
        assert "c11@client.test" in page and "c06@client.test" not in page
        older = InboundMail.objects.get(from_email="c07@client.test").pk
        assert f"before={older}" in page
        with CaptureQueriesContext(connection) as second:
            page = client.get(f"/acme/settings/inbound/?before={older}").content.decode()
        assert "c06@client.test" in page and "c07@client.test" not in page
        assert "c02@client.test" in page and "c01@client.test" not in page
        assert len(second) == len(first)
    finally:
        inbound.PAGE_SIZE = saved


def test_the_log_takes_the_same_queries_for_few_or_many(acme, inbox, web):
    client = web(acme.admin)
    deliver(make_mail(to=inbox.address))
    client.get("/acme/settings/inbound/")
    with CaptureQueriesContext(connection) as few:
        client.get("/acme/settings/inbound/")
    for n in range(10):
        deliver(make_mail(to=inbox.address, sender=f"c{n}@client.test"))
    with CaptureQueriesContext(connection) as many:
        client.get("/acme/settings/inbound/")
    assert len(many) == len(few)


def test_only_admins_see_the_log(acme, inbox, web):
    assert web(acme.supervisor).get("/acme/settings/inbound/").status_code == 403


def test_a_page_cursor_that_is_no_id_is_ignored(acme, inbox, web):
    deliver(make_mail(to=inbox.address))
    response = web(acme.admin).get("/acme/settings/inbound/?before=%C2%B2")  # "²"
    assert response.status_code == 200 and 'id="inbound-' in response.content.decode()


def test_the_api_filters_the_log_by_inbox_and_sender_and_says_what_held_a_mail(acme, inbox):
    from inboxes.services import inbox_create
    from tests.conftest import api_client

    other = inbox_create(organization=acme.org, name="billing", auto_ack_enabled=False)
    first = deliver(make_mail(to=inbox.address, message_id="<q@client.test>"))
    deliver(
        make_mail(
            to=inbox.address,
            sender="eve@evil.test",
            subject=f"Re: [{first.thread.reference}] hi",
            message_id="<e@evil.test>",
        )
    )
    deliver(make_mail(to=other.address, sender="bob@b.test"))
    client = api_client(acme.admin)
    rows = client.get("/api/v1/inbound-log/?sender=EVIL").json()["results"]
    assert [(r["from_email"], r["held_by"]) for r in rows] == [("eve@evil.test", "stranger")]
    rows = client.get(f"/api/v1/inbound-log/?inbox={other.pk}").json()["results"]
    assert [r["from_email"] for r in rows] == ["bob@b.test"]
    assert client.get("/api/v1/inbound-log/?inbox=billing").status_code == 400
