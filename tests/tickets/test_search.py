"""Search over what was written: mails and notes, accents and case aside, with operators.

Runs on whichever database the suite runs on: PostgreSQL's full text and the
embedded SQLite's folded substring must find the same conversations.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.conftest import api_client
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
        ("from:núñez", {"Question 2"}),
        ("from:client1", {"Question 1"}),
        ("to:support", {"Question 1", "Question 2", "Question 3"}),
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
