"""The agent's queue page: filters, keyset pages, saved views, bulk actions, live activity."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.mail import deliver, make_mail
from threads.models import Thread
from tickets import queues, services
from tickets.models import SavedView, Ticket
from tickets.selectors import QUEUE_PAGE


@pytest.fixture
def support(acme, inbox):
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def mail_in(inbox, n: int, **fields):
    fields.setdefault("subject", f"Question {n}")
    fields.setdefault("sender", f"client{n}@example.com")
    return deliver(make_mail(to=inbox.address, message_id=f"<q{n}@example.com>", **fields))


def ticket_of(result) -> Ticket:
    return Ticket.objects.get(thread_links__thread=result.thread)


def page(client, query: str = "") -> str:
    response = client.get(f"/acme/?{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_queue_lists_conversations_with_their_ticket(acme, inbox, support, web):
    first = mail_in(inbox, 1, subject="Printer on fire")
    services.ticket_assign(ticket=ticket_of(first), assignee=acme.agent, actor=None)
    html = page(web(acme.agent))
    assert "Printer on fire" in html
    # One reference per conversation: the thread's; the ticket's adds nothing in a row.
    assert first.thread.reference in html and ticket_of(first).reference not in html
    assert "Support" in html and "client1@example.com" in html
    assert f'href="/acme/threads/{first.thread.reference}/"' in html


def test_filters_narrow_the_queue(acme, inbox, support, web):
    mine, theirs, urgent = (mail_in(inbox, n) for n in (1, 2, 3))
    services.ticket_assign(ticket=ticket_of(mine), assignee=acme.agent, actor=None)
    services.ticket_assign(ticket=ticket_of(theirs), assignee=acme.agent2, actor=None)
    services.ticket_update(ticket=ticket_of(urgent), actor=None, priority="urgent")
    services.ticket_update(ticket=ticket_of(urgent), actor=None, tags=["billing"])
    client = web(acme.agent)
    assert_only = lambda query, *expected: _assert_only(client, query, expected)  # noqa: E731
    assert_only("assignee=me", mine)
    assert_only("assignee=none", urgent)
    assert_only(f"assignee={acme.agent2.pk}", theirs)
    assert_only("priority=urgent", urgent)
    assert_only("tag=billing", urgent)
    assert_only(f"q={ticket_of(theirs).reference}", theirs)
    assert_only("q=client3@", urgent)
    services.ticket_set_status(ticket=ticket_of(mine), status="resolved", actor=None)
    assert_only("status=resolved", mine)
    assert_only("", theirs, urgent)  # unresolved by default


def _assert_only(client, query: str, expected) -> None:
    html = page(client, query)
    everyone = {f"Question {n}" for n in (1, 2, 3)}
    shown = {subject for subject in everyone if subject in html}
    assert shown == {r.thread.subject for r in expected}, query


def test_bad_filters_are_reported_and_ignored(acme, inbox, support, web):
    mail_in(inbox, 1)
    html = page(web(acme.agent), "status=bogus&priority=loud&sla=late&inbox=x&assignee=bob")
    assert "Question 1" in html
    for complaint in ("status=", "priority loud", "sla=", "inbox=", "assignee="):
        assert complaint in html


def test_ids_beyond_any_row_are_reported_and_ignored(acme, inbox, support, web):
    mail_in(inbox, 1)
    huge = "638000542754786748009545728"  # once reached the database: a 500
    html = page(web(acme.agent), f"queue={huge}&inbox={huge}&assignee={huge}&view={huge}")
    assert "Question 1" in html
    for complaint in ("queue=", "inbox=", "assignee="):
        assert complaint in html


def test_pages_follow_each_other_without_gaps_or_repeats(acme, inbox, web):
    for n in range(QUEUE_PAGE + 5):
        mail_in(inbox, n)
    client = web(acme.agent)
    first = page(client)
    assert "Load more" in first
    cursor = first.split('hx-get="?after=')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(f"/acme/?after={cursor}", headers={"HX-Request": "true"})
    html = second.content.decode()
    assert "<html" not in html  # an htmx page is just rows
    seen = [n for n in range(QUEUE_PAGE + 5) if f">Question {n}<" in first]
    more = [n for n in range(QUEUE_PAGE + 5) if f">Question {n}<" in html]
    assert len(seen) == QUEUE_PAGE and len(more) == 5
    assert not set(seen) & set(more)


def test_the_queue_takes_the_same_queries_for_few_or_many_rows(acme, inbox, support, web):
    client = web(acme.agent)
    for n in range(2):
        mail_in(inbox, n)
    page(client)
    with CaptureQueriesContext(connection) as few:
        page(client)
    for n in range(2, 30):
        result = mail_in(inbox, n)
        services.ticket_update(ticket=ticket_of(result), actor=None, tags=[f"t{n}"])
        services.ticket_assign(ticket=ticket_of(result), assignee=acme.agent2, actor=None)
    with CaptureQueriesContext(connection) as many:
        page(client)
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_new_activity_is_announced_without_redrawing_the_list(acme, inbox, web):
    client = web(acme.agent)
    since = (timezone.now() - timedelta(seconds=1)).isoformat()
    quiet = client.get("/acme/", {"since": timezone.now().isoformat()})
    assert quiet.content.decode().strip() == ""
    mail_in(inbox, 1)
    mail_in(inbox, 2)
    banner = client.get("/acme/", {"since": since}).content.decode()
    assert "2 conversations updated" in banner


def test_bulk_actions_change_the_selected_tickets(acme, inbox, support, web):
    first, second, third = (mail_in(inbox, n) for n in (1, 2, 3))
    client = web(acme.agent)
    refs = [first.thread.reference, second.thread.reference]
    response = client.post(
        "/acme/queue/bulk/", {"thread": refs, "action": "assignee", "assignee": "me"}
    )
    assert response.status_code == 302
    assert {ticket_of(r).assignee for r in (first, second)} == {acme.agent}
    assert ticket_of(third).assignee is None
    client.post("/acme/queue/bulk/", {"thread": refs, "action": "priority", "priority": "high"})
    client.post("/acme/queue/bulk/", {"thread": refs, "action": "status", "status": "resolved"})
    assert {(ticket_of(r).priority, ticket_of(r).status) for r in (first, second)} == {
        ("high", "resolved")
    }


def test_a_bad_bulk_action_changes_nothing(acme, inbox, support, web, globex, globex_inbox):
    first = mail_in(inbox, 1)
    queues.queue_create(organization=globex.org, name="G", actor=None, inboxes=[globex_inbox])
    theirs = deliver(make_mail(to=globex_inbox.address, message_id="<g@example.com>"))
    client = web(acme.agent)
    response = client.post(
        "/acme/queue/bulk/",
        {"thread": [first.thread.reference], "action": "status", "status": "sleeping"},
        follow=True,
    )
    assert "Nothing changed" in response.content.decode()
    assert ticket_of(first).status == "new"
    client.post(
        "/acme/queue/bulk/",
        {"thread": [theirs.thread.reference], "action": "priority", "priority": "urgent"},
    )
    assert Ticket.objects.get(thread_links__thread=theirs.thread).priority == "normal"


def test_viewers_see_the_queue_but_cannot_change_it(acme, inbox, support, web):
    first = mail_in(inbox, 1)
    client = web(acme.viewer)
    assert 'name="thread"' not in page(client)
    response = client.post(
        "/acme/queue/bulk/",
        {"thread": [first.thread.reference], "action": "priority", "priority": "urgent"},
    )
    assert response.status_code == 403
    assert ticket_of(first).priority == "normal"


def test_saved_views_private_and_shared(acme, inbox, support, web):
    # `web` logs its one client in as the member named last: name the member before each use.
    mail_in(inbox, 1)
    web(acme.agent).post(
        "/acme/queue/views/", {"name": "Hot stuff", "query": "priority=urgent&junk=1"}
    )
    view = SavedView.objects.get(name="Hot stuff")
    assert view.query == "priority=urgent" and not view.shared
    assert "Hot stuff" in page(web(acme.agent))
    assert "Hot stuff" not in page(web(acme.agent2))
    refused = web(acme.agent).post(
        "/acme/queue/views/", {"name": "Team", "query": "sla=breached", "shared": "on"}
    )
    assert refused.status_code == 302 and not SavedView.objects.filter(name="Team").exists()
    web(acme.supervisor).post(
        "/acme/queue/views/", {"name": "Team", "query": "sla=breached", "shared": "on"}
    )
    assert "Team" in page(web(acme.agent2))
    opened = page(web(acme.agent), f"view={view.pk}")
    assert 'aria-current="page">Hot stuff' in opened
    assert "Question 1" not in opened  # the view's filter (urgent) applies
    web(acme.agent2).post(f"/acme/queue/views/{view.pk}/delete/")
    assert SavedView.objects.filter(pk=view.pk).exists()  # not theirs
    web(acme.agent).post(f"/acme/queue/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_a_thread_without_a_ticket_shows_its_own_status(acme, inbox, web):
    result = mail_in(inbox, 1)  # the inbox feeds no queue: no ticket
    Thread.objects.filter(pk=result.thread.pk).update(status="resolved")
    assert "Question 1" not in page(web(acme.agent))
    assert "Question 1" in page(web(acme.agent), "status=resolved")


def test_hostile_subjects_names_and_tags_are_escaped(acme, inbox, support, web):
    result = mail_in(
        inbox,
        1,
        subject='<img src=x onerror="alert(1)">',
        sender='"<script>alert(2)</script>" <evil@example.com>',
    )
    services.ticket_update(ticket=ticket_of(result), actor=None, tags=["<b>x</b>"])
    html = page(web(acme.agent))
    assert "<img src=x" not in html and "<script>alert" not in html and "<b>x</b>" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_delivery_failed_view_lists_conversations_whose_mail_failed(
    acme, inbox, support, web, django_assert_max_num_queries
):
    from threads.models import OutboundMail
    from threads.outbound import reply_send_skipping_ticket

    failing = [mail_in(inbox, n) for n in range(1, 4)]
    fine = mail_in(inbox, 9, subject="All good")
    for result in [*failing, fine]:
        _, row = reply_send_skipping_ticket(thread=result.thread, author=acme.agent, body="Hi")
        if result is not fine:
            OutboundMail.objects.filter(pk=row.pk).update(delivery_event="bounced")
    services.ticket_set_status(ticket=ticket_of(failing[0]), status="resolved", actor=None)
    client = web(acme.agent)
    page(client)  # warm the session and caches
    with django_assert_max_num_queries(30):
        html = page(client, "delivery=failed&status=all")
    assert all(r.thread.subject in html for r in failing)
    assert "All good" not in html
    assert html.count('class="badge danger">Delivery failed') == 3


def test_a_reply_address_reloaded_comes_back_to_the_conversation(acme, inbox, web):
    thread = mail_in(inbox, 1).thread
    response = web(acme.agent).get(f"/acme/threads/{thread.reference}/reply/")
    assert response.status_code == 302
    assert response["Location"] == f"/acme/threads/{thread.reference}/#reply"
