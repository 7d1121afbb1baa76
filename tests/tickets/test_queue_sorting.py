"""The queue sorts by any column, counts its views in one query, and marks what is unread."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.mail import deliver, make_mail
from tickets import queues, services
from tickets.models import SavedView, Ticket
from tickets.selectors import QUEUE_PAGE


@pytest.fixture
def support(acme, inbox):
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def mail_in(inbox, n: int, reply_to: str = "", **fields):
    fields.setdefault("subject", f"Question {n}")
    fields.setdefault("sender", f"Client {n} <client{n}@example.com>")
    return deliver(
        make_mail(
            to=inbox.address, message_id=f"<o{n}@example.com>", in_reply_to=reply_to, **fields
        )
    )


def ticket_of(result) -> Ticket:
    return Ticket.objects.get(thread_links__thread=result.thread)


def order(client, query: str) -> list[str]:
    html = client.get(f"/acme/?{query}").content.decode()
    return [s for _, s in sorted((html.index(f">{s}<"), s) for s in SUBJECTS if f">{s}<" in html)]


SUBJECTS = ("Apples", "bananas", "Cherries")


def test_every_column_sorts_both_ways(acme, inbox, support, web):
    a, b, c = (mail_in(inbox, n, subject=s) for n, s in enumerate(SUBJECTS))
    services.ticket_update(ticket=ticket_of(b), actor=None, priority="urgent")
    services.ticket_update(ticket=ticket_of(a), actor=None, priority="low")
    services.ticket_assign(ticket=ticket_of(c), assignee=acme.agent, actor=None)
    client = web(acme.agent)
    assert order(client, "") == ["Cherries", "bananas", "Apples"]  # latest activity
    assert order(client, "sort=subject") == ["Apples", "bananas", "Cherries"]  # case aside
    assert order(client, "sort=-subject") == ["Cherries", "bananas", "Apples"]
    assert order(client, "sort=priority") == ["bananas", "Cherries", "Apples"]
    assert order(client, "sort=-priority") == ["Apples", "Cherries", "bananas"]
    assert order(client, "sort=client") == ["Apples", "bananas", "Cherries"]
    assert order(client, "sort=assignee")[0] == "Cherries"  # the unassigned last
    assert order(client, "sort=updated") == ["Apples", "bananas", "Cherries"]
    for key in ("status", "sla", "-sla", "-updated"):
        assert len(order(client, f"sort={key}")) == 3
    html = client.get("/acme/?sort=subject").content.decode()
    assert 'aria-sort="ascending"' in html and "sort=-subject" in html


def test_an_unknown_sort_is_reported_and_ignored(acme, inbox, support, web):
    mail_in(inbox, 1, subject="Apples")
    response = web(acme.agent).get("/acme/?sort=price&offset=nine")
    assert response.status_code == 200
    assert "Ignored sort=&#x27;price&#x27;" in response.content.decode()


def test_mine_puts_the_nearest_deadline_first(acme, inbox, support, web):
    results = [mail_in(inbox, n, subject=s) for n, s in enumerate(SUBJECTS)]
    now = timezone.now()
    for result, hours in zip(results, (5, 1, 3), strict=True):
        ticket = ticket_of(result)
        services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=now + timedelta(hours=hours))
    assert order(web(acme.agent), "assignee=me") == ["bananas", "Cherries", "Apples"]


def test_sorted_pages_follow_each_other_without_gaps_or_repeats(acme, inbox, web):
    for n in range(QUEUE_PAGE + 5):
        mail_in(inbox, n, subject=f"Topic {n:03d}")
    client = web(acme.agent)
    first = client.get("/acme/?sort=subject").content.decode()
    assert "offset=50" in first
    second = client.get("/acme/?sort=subject&offset=50", headers={"HX-Request": "true"})
    more = second.content.decode()
    assert "<html" not in more
    assert [n for n in range(QUEUE_PAGE + 5) if f">Topic {n:03d}<" in more] == [50, 51, 52, 53, 54]


def test_views_are_counted_in_one_query_however_many(acme, inbox, support, web):
    mine = mail_in(inbox, 1)
    mail_in(inbox, 2)
    services.ticket_assign(ticket=ticket_of(mine), assignee=acme.agent, actor=None)
    SavedView.objects.create(organization=acme.org, owner=acme.agent, name="One", query="q=2")
    client = web(acme.agent)
    client.get("/acme/?counts=1")
    with CaptureQueriesContext(connection) as few:
        html = client.get("/acme/?counts=1").content.decode()
    assert 'id="count-mine" hx-swap-oob="true">1<' in html
    assert 'id="count-unresolved" hx-swap-oob="true">2<' in html
    assert 'id="count-unassigned" hx-swap-oob="true">1<' in html
    for n in range(5):
        SavedView.objects.create(
            organization=acme.org, owner=acme.agent, name=f"V{n}", query=f"tag=t{n}&sort=sla"
        )
    SavedView.objects.create(
        organization=acme.org, owner=acme.agent, name="Broken", query="q=before:soon"
    )
    with CaptureQueriesContext(connection) as many:
        html = client.get("/acme/?counts=1").content.decode()
    assert len(many) == len(few)
    view = SavedView.objects.get(name="One")
    assert f'id="count-view-{view.pk}" hx-swap-oob="true">1<' in html
    assert "count-view-" + str(SavedView.objects.get(name="Broken").pk) not in html


def test_the_queue_page_takes_as_many_queries_sorted_or_not(acme, inbox, support, web):
    for n in range(3):
        mail_in(inbox, n)
    client = web(acme.agent)
    client.get("/acme/?q=question")
    with CaptureQueriesContext(connection) as plain:
        client.get("/acme/?q=question")
    with CaptureQueriesContext(connection) as sorted_:
        client.get("/acme/?sort=-priority&q=question")
    assert len(sorted_) == len(plain)


def presence(client, thread, seen: str):
    url = f"/acme/threads/{thread.reference}/presence/"
    return client.post(url, {"seen": seen})


def row_of(client, subject: str) -> str:
    html = client.get("/acme/?status=all").content.decode()
    at = html.index(f">{subject}<")
    return html[html.rindex("<tr", 0, at) : html.index("</tr>", at)]


def test_a_conversation_is_unread_until_opened_and_again_when_the_client_writes(
    acme, inbox, support, web, client
):
    first = mail_in(inbox, 1, subject="Apples")
    thread = first.thread
    agent = web(acme.agent)
    assert "is-unread" in row_of(agent, "Apples")
    page = agent.get(f"/acme/threads/{thread.reference}/").content.decode()
    seen = page.split('id="seen-at" name="seen" value="')[1].split('"')[0]
    assert presence(agent, thread, seen).status_code == 200
    assert "is-unread" not in row_of(agent, "Apples")
    # Each agent reads for themselves.
    client.force_login(acme.agent2.user)
    assert "is-unread" in row_of(client, "Apples")
    client.force_login(acme.agent.user)
    mail_in(
        inbox, 2, subject="Re: Apples", reply_to="<o1@example.com>", sender="client1@example.com"
    )
    assert "is-unread" in row_of(agent, "Apples")
    # A page drawn before the new mail does not mark it read; nor does a made-up future.
    assert presence(agent, thread, seen).status_code == 200
    assert "is-unread" in row_of(agent, "Apples")
    presence(agent, thread, "2999-01-01T00:00:00+00:00")
    assert "is-unread" not in row_of(agent, "Apples")
    for nonsense in ("", "yesterday", "2026-13-45T99:00:00", "2026-01-01T00:00:00"):
        assert presence(agent, thread, nonsense).status_code == 200


def test_client_replied_marks_a_row_until_an_agent_answers(acme, inbox, support, web):
    first = mail_in(inbox, 1, subject="Apples")
    agent = web(acme.agent)
    assert "Client replied" in row_of(agent, "Apples")
    services.thread_reply_send(thread=first.thread, author=acme.agent, body="On it.")
    assert "Client replied" not in row_of(agent, "Apples")
    mail_in(
        inbox, 2, subject="Re: Apples", reply_to="<o1@example.com>", sender="client1@example.com"
    )
    assert "Client replied" in row_of(agent, "Apples")


def test_another_organizations_member_cannot_mark_a_conversation_read(
    acme, globex, inbox, support, web
):
    first = mail_in(inbox, 1, subject="Apples")
    response = web(globex.agent).post(
        f"/acme/threads/{first.thread.reference}/presence/", {"seen": timezone.now().isoformat()}
    )
    assert response.status_code == 404


def test_filtered_views_sorted_by_a_ticket_column_match_the_same_views_sorted_by_activity(
    acme, inbox, support, web
):
    """Sorted by a ticket's column, the ticket is joined and filtered as one; the rows
    are the same as by activity, each once (a ticket with two tags too)."""
    a, b, _, d = (mail_in(inbox, n, subject=s) for n, s in enumerate([*SUBJECTS, "Dates"]))
    for result in (a, b, d):
        services.ticket_assign(ticket=ticket_of(result), assignee=acme.agent, actor=None)
    services.ticket_update(ticket=ticket_of(a), actor=None, priority="urgent", tags=["x", "y"])
    services.ticket_set_status(ticket=ticket_of(d), status="resolved", actor=None)
    client = web(acme.agent)

    def shown(query: str) -> list[str]:
        html = client.get(f"/acme/?{query}").content.decode()
        return sorted(s for s in (*SUBJECTS, "Dates") for _ in range(html.count(f">{s}<")))

    expected = {
        "assignee=me": ["Apples", "bananas"],
        "priority=urgent": ["Apples"],
        "tag=x": ["Apples"],
        "assignee=none": ["Cherries"],
        "assignee=me&status=resolved": ["Dates"],
    }
    for query, subjects in expected.items():
        assert shown(query) == subjects, query
        for sort in ("sla", "-sla", "priority", "assignee", "status"):
            assert shown(f"{query}&sort={sort}") == subjects, (query, sort)
