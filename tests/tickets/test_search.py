"""Search over what was written: mails and notes, accents and case aside, with operators.

Runs on whichever database the suite runs on: PostgreSQL's full text and the
embedded SQLite's folded substring must find the same conversations.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import api_client, require_postgres
from tests.mail import deliver, make_mail
from threads.models import Thread, ThreadSearch
from tickets import queues, services
from tickets.models import Ticket
from tickets.search import SearchError
from tickets.selectors import QueueFilters, queue_page, queue_threads


def mail_in(inbox, n: int, **fields):
    fields.setdefault("subject", f"Question {n}")
    fields.setdefault("sender", f"Client {n} <client{n}@example.com>")
    return deliver(make_mail(to=inbox.address, message_id=f"<s{n}@example.com>", **fields))


def ticket_of(result) -> Ticket:
    return Ticket.objects.get(thread_links__thread=result.thread)


def found(member, q: str) -> set[str]:
    threads = queue_threads(
        organization=member.organization, me=member, filters=QueueFilters(statuses=(), q=q)
    )
    return {t.subject for t in queue_page(threads, 50)}


@pytest.fixture
def desk(acme, inbox, globex, globex_inbox):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    cafe = mail_in(inbox, 1, body="Le café était FROID ce matin, merci de rembourser.")
    printer = mail_in(
        inbox,
        2,
        sender="Ana Núñez <ana@example.com>",
        body="The printer jammed again.",
        attachments=[("jam.pdf", "application/pdf", b"%PDF-1.4 jam")],
    )
    billing = mail_in(inbox, 3, body="Where is my invoice?")
    services.ticket_note_add(
        ticket=ticket_of(billing), body="Escalated to Renée in finance", actor=acme.agent
    )
    services.ticket_update(ticket=ticket_of(billing), actor=None, tags=["Billing"])
    services.ticket_set_status(ticket=ticket_of(printer), status="resolved", actor=None)
    # Another organization's conversation says the same words: never found from Acme.
    deliver(
        make_mail(
            to=globex_inbox.address,
            sender="Globex Ana <ana@example.com>",
            subject="Globex café",
            body="Le café était froid. Invoice? Printer jammed. Renée",
            attachments=[("x.pdf", "application/pdf", b"%PDF-1.4 x")],
        )
    )
    return {"cafe": cafe, "printer": printer, "billing": billing}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("cafe", {"Question 1"}),
        ("CAFÉ froid", {"Question 1"}),
        ("étäit", {"Question 1"}),
        ('"cafe etait froid"', {"Question 1"}),
        ('"froid cafe"', set()),
        ("renee", {"Question 3"}),  # a note's words
        ("RENÉE finance", {"Question 3"}),
        ("printer", {"Question 2"}),
        ("invoice printer", set()),  # every word, in one conversation
        ("from:ana@example.com", {"Question 2"}),
        ("from:ANA@Example.COM", {"Question 2"}),  # a whole address, in any case
        ("from:na@example.com", set()),  # a whole address is itself, not one ending with it
        ("from:núñez", {"Question 2"}),
        ("from:nunez", {"Question 2"}),  # accents aside
        ('from:"ana nunez"', {"Question 2"}),
        ("from:ana", {"Question 2"}),  # part of a name or an address
        ("from:ana@", {"Question 2"}),
        ("from:client1", {"Question 1"}),
        ("from:client", {"Question 1", "Question 3"}),
        ("from:example.com", {"Question 1", "Question 2", "Question 3"}),  # a domain
        ("from:@example.com cafe", {"Question 1"}),
        ("from:example.com from:ana", {"Question 2"}),  # every from:, in one conversation
        ("from:globex", set()),  # another organization's sender
        ("to:support", {"Question 1", "Question 2", "Question 3"}),
        ("to:support.acme@in.tisket.test", {"Question 1", "Question 2", "Question 3"}),
        ("to:in.tisket.test printer", {"Question 2"}),
        ("to:ana@example.com", set()),  # she wrote, nobody wrote to her yet
        ("to:help.globex", set()),
        ("status:resolved", {"Question 2"}),
        ("status:new status:resolved", {"Question 1", "Question 2", "Question 3"}),
        ("status:unresolved", {"Question 1", "Question 3"}),
        ("tag:billing", {"Question 3"}),
        ("tag:billing invoice", {"Question 3"}),
        ("inbox:support", {"Question 1", "Question 2", "Question 3"}),
        ("inbox:nowhere", set()),
        ("has:attachment", {"Question 2"}),
        ("has:attachment printer status:resolved", {"Question 2"}),
        ("Question 3", {"Question 3"}),  # a subject, as before
    ],
)
def test_search_finds_words_of_mails_and_notes_with_operators(desk, acme, q, expected):
    assert found(acme.agent, q) == expected


def test_dates_are_the_last_activity_in_the_organizations_days(desk, acme):
    today = timezone.localdate(timezone=ZoneInfo(acme.org.timezone))  # its day, not the server's
    tomorrow = today + timedelta(days=1)
    assert found(acme.agent, f"after:{today}") == {"Question 1", "Question 2", "Question 3"}
    assert found(acme.agent, f"before:{today}") == set()
    assert found(acme.agent, f"before:{tomorrow} cafe") == {"Question 1"}
    Thread.objects.filter(pk=desk["cafe"].thread.pk).update(
        updated_at=timezone.now() - timedelta(days=40)
    )
    assert found(acme.agent, f"before:{today - timedelta(days=30)}") == {"Question 1"}


def test_another_organization_is_never_searched(desk, globex):
    assert found(globex.agent, "cafe") == {"Globex café"}
    assert found(globex.agent, "renee has:attachment") == {"Globex café"}
    assert found(globex.agent, "Question") == set()


def test_a_bad_operator_value_is_a_clear_message_never_a_500(desk, acme, web):
    with pytest.raises(SearchError, match="before:soon is not a date"):
        found(acme.agent, "before:soon")
    response = web(acme.agent).get("/acme/", {"q": "after:2026-02-30 cafe"})
    assert response.status_code == 200
    assert "after:2026-02-30 is not a date" in response.content.decode()
    answer = api_client(acme.agent).get("/api/v1/threads/", {"q": "status:sleeping"})
    assert answer.status_code == 400
    assert "status:sleeping is unknown" in answer.json()["detail"]


def test_the_api_and_the_page_search_the_same_way(desk, acme, web):
    answer = api_client(acme.agent).get("/api/v1/threads/", {"q": "CAFÉ"})
    assert answer.status_code == 200
    assert [t["subject"] for t in answer.json()["results"]] == ["Question 1"]
    answer = api_client(acme.agent).get("/api/v1/threads/", {"q": "status:resolved printer"})
    assert [t["subject"] for t in answer.json()["results"]] == ["Question 2"]
    html = web(acme.agent).get("/acme/", {"q": "renee"}).content.decode()
    assert "Question 3" in html and "Question 1" not in html


def test_an_agent_kept_to_their_queues_finds_only_their_conversations(desk, acme, inbox):
    acme.org.restrict_agents_to_queues = True
    acme.org.save(update_fields=["restrict_agents_to_queues"])
    acme.agent.organization = acme.org
    assert found(acme.agent, "cafe") == set()  # not a member of Support, nothing assigned
    services.ticket_assign(ticket=ticket_of(desk["cafe"]), assignee=acme.agent, actor=None)
    acme.agent._queue_ids = None
    assert found(acme.agent, "cafe") == {"Question 1"}
    assert found(acme.agent, "renee") == set()


def test_replies_are_searchable_and_documents_stay_bounded(desk, acme):
    thread = desk["cafe"].thread
    services.thread_reply_send(thread=thread, author=acme.agent, body="Remboursé: 4 €")
    assert found(acme.agent, "rembourse") == {"Question 1"}
    document = ThreadSearch.objects.get(thread=thread).text
    assert "remboursé" not in document and "rembourse" in document


def test_to_finds_whom_the_desk_wrote_to_and_the_inbox_a_bcc_reached(desk, acme, inbox):
    cafe = desk["cafe"].thread
    services.thread_reply_send(thread=cafe, author=acme.agent, body="We refund it.")
    assert found(acme.agent, "to:client1@example.com") == {"Question 1"}
    assert found(acme.agent, "to:client1") == {"Question 1"}
    # A mail that named the inbox in Bcc only (To: someone else) was still sent to it.
    bcc = make_mail(to="Partner <partner@elsewhere.test>", subject="Question 9", message_id="<b@x>")
    deliver(bcc, recipient=inbox.address)
    assert found(acme.agent, "to:partner@elsewhere.test") == {"Question 9"}
    assert "Question 9" in found(acme.agent, f"to:{inbox.address}")
    # Each sender and recipient is kept once, however many mails name them.
    mail_in(inbox, 10, subject="Re: Question 1", in_reply_to="<s1@example.com>")
    document = ThreadSearch.objects.get(thread=cafe)
    assert document.senders.count("<client1@example.com>") == 1
    assert document.recipients.count(f"<{inbox.address}>") == 1


def test_from_and_to_take_the_same_queries_as_words(desk, acme, web):
    client = web(acme.agent)
    client.get("/acme/", {"q": "cafe"})

    def queries(q: str) -> int:
        with CaptureQueriesContext(connection) as run:
            assert client.get("/acme/", {"q": q}).status_code == 200
        return len(run.captured_queries)

    words = queries("cafe")  # one row found, as each below finds one or more
    assert queries("from:example.com") == words
    assert queries("from:client to:support invoice") == words
    for n in range(20, 26):
        mail_in(desk["cafe"].thread.inbox, n, sender=f"Dana {n} <dana{n}@example.com>")
    assert queries("from:example.com") == words


def _many_documents(organization, inbox, n: int = 3000) -> None:
    """n conversations from clients of two domains to the inbox, a few from Dana at acme.test
    and one sent to a partner: a desk's spread, for the planner to weigh."""
    threads = Thread.objects.bulk_create(
        Thread(
            organization=organization,
            inbox=inbox,
            number=1000 + k,
            reference=f"THD-{organization.code}-{1000 + k}",
            subject=f"Question {k}",
        )
        for k in range(n)
    )
    ThreadSearch.objects.bulk_create(
        ThreadSearch(
            thread=thread,
            organization=organization,
            text=f"question {k}",
            senders=(
                f" dana scully <dana{k}@acme.test>"
                if k % 500 == 0
                else f" client {k} <client{k}@{('example.com', 'client.test')[k % 2]}>"
            ),
            recipients=f" <{inbox.address}>" + (" <partner@elsewhere.test>" if k == 7 else ""),
        )
        for k, thread in enumerate(threads)
    )


@pytest.mark.parametrize(
    ("q", "index"),
    [
        ("from:dana", "thread_search_senders_trgm"),
        ("from:acme.test", "thread_search_senders_trgm"),
        ("from:dana500@acme.test", "thread_search_senders_trgm"),
        ("to:partner", "thread_search_recipients_trgm"),
        ("to:partner@elsewhere.test", "thread_search_recipients_trgm"),
    ],
)
def test_from_and_to_are_answered_by_their_trigram_indexes(acme, inbox, q, index):
    require_postgres()
    _many_documents(acme.org, inbox)
    with connection.cursor() as cursor:
        # As autovacuum would: the indexes' pending entries merged, the tables' statistics
        # taken. The planner then weighs the index against reading every document.
        for name in ("thread_search_senders_trgm", "thread_search_recipients_trgm"):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])
        cursor.execute("ANALYZE threads_thread, threads_threadsearch")
    with CaptureQueriesContext(connection) as queries:
        threads = queue_threads(
            organization=acme.org, me=acme.agent, filters=QueueFilters(statuses=(), q=q)
        )
        assert queue_page(threads, 50)  # found
    # The documents are read first (threads.search.document_matches), then the page.
    [documents] = [x["sql"] for x in queries.captured_queries if "threads_threadsearch" in x["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {documents}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Bitmap Index Scan on {index}" in plan, plan
    assert "Seq Scan on threads_threadsearch" not in plan, plan


def test_many_or_few_matches_give_the_same_pages(acme, inbox, monkeypatch):
    """The matches are read first while they are few (threads.search.SEARCH_HITS_READ_FIRST);
    past that, the same conditions are a semi-join: the pages are the same either way."""
    _many_documents(acme.org, inbox, n=40)

    def found(q: str) -> list[str]:
        threads = queue_threads(
            organization=acme.org, me=acme.agent, filters=QueueFilters(statuses=(), q=q)
        )
        return [thread.reference for thread in queue_page(threads, 50)]

    queries = ("question", "question 7", "to:partner", "from:dana", "from:client.test")
    read_first = {q: found(q) for q in queries}
    monkeypatch.setattr("threads.search.SEARCH_HITS_READ_FIRST", 3)
    assert {q: found(q) for q in queries} == read_first
    assert len(read_first["question"]) == 40
    assert "THD-ACME-1007" in read_first["question 7"]
    assert read_first["to:partner"] == ["THD-ACME-1007"]
    assert read_first["from:dana"] == ["THD-ACME-1000"]
    assert len(read_first["from:client.test"]) == 20
