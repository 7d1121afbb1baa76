"""A conversation without a ticket joins an existing ticket from its side panel: picked by
reference or by words of the subject, in its own organization, as far as the agent sees."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.mail import deliver_without_ticket, make_mail
from threads.models import Thread
from tickets import queues, services, workflows
from tickets.models import Ticket, TicketEvent, TicketThread


def flash_of(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


def link_url(thread: Thread, org: str = "acme") -> str:
    return reverse(
        "tickets:thread-ticket-link", kwargs={"org_slug": org, "thread": thread.reference}
    )


@pytest.fixture
def lone(acme, inbox) -> Thread:
    """An old conversation, from before every conversation had its ticket."""
    return deliver_without_ticket(
        make_mail(subject="Printer jams again", message_id="<old@x>")
    ).thread


def new(cast, subject: str, **fields) -> Ticket:
    return services.ticket_create(organization=cast.org, subject=subject, actor=None, **fields)


def test_the_panel_of_a_ticketless_conversation_offers_the_link(acme, lone, web):
    page = web(acme.agent).get(f"/acme/threads/{lone.reference}/").content.decode()
    assert "Or link it to a ticket" in page and link_url(lone) in page
    viewer = web(acme.viewer).get(f"/acme/threads/{lone.reference}/").content.decode()
    assert "Or link it to a ticket" not in viewer


def test_the_picker_finds_tickets_by_reference_number_or_subject_words(acme, lone, web):
    printer = new(acme, "The printer on floor 2 is jammed")
    invoice = new(acme, "Invoice 2041 twice")
    done = new(acme, "Printer toner ordered")
    services.ticket_set_status(ticket=done, status="resolved", actor=None)
    merged = new(acme, "Printer jammed (duplicate)")
    workflows.ticket_merge(source=merged, target=printer, actor=None)
    client = web(acme.agent)

    def picks(text: str) -> list[str]:
        html = client.get(link_url(lone), {"ticket": text}).content.decode()
        return [t.reference for t in (printer, invoice, done, merged) if t.reference in html]

    assert picks("printer") == [printer.reference, done.reference]  # merged ones left out
    assert picks("PRINTER jammed") == [printer.reference]
    assert picks(invoice.reference.lower()) == [invoice.reference]
    assert picks(str(invoice.number)) == [invoice.reference]
    assert picks("") == []
    html = client.get(link_url(lone), {"ticket": "nothing like it"}).content.decode()
    assert "No ticket you may see matches" in html
    # Open tickets first: the resolved one comes after the open one.
    html = client.get(link_url(lone), {"ticket": "printer"}).content.decode()
    assert html.index(printer.reference) < html.index(done.reference)


def test_the_picker_takes_the_same_queries_however_many_tickets_match(acme, lone, web):
    client = web(acme.agent)
    new(acme, "Printer one")
    client.get(link_url(lone), {"ticket": "printer"})  # sessions and caches warm

    def queries() -> int:
        with CaptureQueriesContext(connection) as run:
            assert client.get(link_url(lone), {"ticket": "printer"}).status_code == 200
        return len(run.captured_queries)

    few = queries()
    for n in range(6):
        new(acme, f"Printer {n}")
    assert queries() == few


def test_linking_joins_the_ticket_with_its_event_and_status(acme, lone, web):
    ticket = new(acme, "Printers of floor 2")
    services.ticket_set_status(ticket=ticket, status="in_progress", actor=None)
    response = web(acme.agent).post(link_url(lone), {"ticket": "", "pick": ticket.reference})
    assert response.status_code == 302
    assert response["Location"] == f"/acme/threads/{lone.reference}/"
    assert f"linked to {ticket.reference}" in flash_of(response)
    assert TicketThread.objects.get(thread=lone).ticket == ticket
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.LINKED)
    assert event.actor == acme.agent and event.data["thread"] == lone.reference
    lone.refresh_from_db()
    assert lone.status == Thread.Status.IN_PROGRESS  # it follows its ticket now
    page = web(acme.agent).get(f"/acme/threads/{lone.reference}/").content.decode()
    assert "This conversation has no ticket" not in page


def test_a_typed_reference_links_without_the_picker(acme, lone, web):
    ticket = new(acme, "Printers")
    response = web(acme.agent).post(link_url(lone), {"ticket": f" {ticket.reference.lower()} "})
    assert response.status_code == 302 and "linked" in flash_of(response)
    assert TicketThread.objects.get(thread=lone).ticket == ticket


@pytest.mark.parametrize(
    ("typed", "error"),
    [("", "Give a ticket reference"), ("TKT-ACME-999", "There is no ticket TKT-ACME-999")],
)
def test_linking_to_nothing_says_why_and_changes_nothing(acme, lone, web, typed, error):
    response = web(acme.agent).post(link_url(lone), {"ticket": typed})
    assert response.status_code == 302 and error in flash_of(response)
    assert not TicketThread.objects.filter(thread=lone).exists()


def test_a_merged_ticket_or_a_conversation_with_a_ticket_is_refused(acme, lone, inbox, web):
    keep, gone = new(acme, "Keep"), new(acme, "Gone")
    workflows.ticket_merge(source=gone, target=keep, actor=None)
    response = web(acme.agent).post(link_url(lone), {"ticket": gone.reference})
    assert f"merged into {keep.reference}" in flash_of(response)
    assert not TicketThread.objects.filter(thread=lone).exists()
    web(acme.agent).post(link_url(lone), {"ticket": keep.reference})
    other = new(acme, "Other")
    response = web(acme.agent).post(link_url(lone), {"ticket": other.reference})
    assert f"already belongs to {keep.reference}" in flash_of(response)
    assert TicketThread.objects.get(thread=lone).ticket == keep


def test_another_organizations_ticket_is_refused_and_its_conversations_are_404(
    acme, globex, lone, globex_inbox, web
):
    theirs = new(globex, "Printer jams again")
    client = web(acme.owner)
    response = client.post(link_url(lone), {"ticket": theirs.reference})
    assert f"There is no ticket {theirs.reference}" in flash_of(response)
    response = client.post(link_url(lone), {"ticket": "", "pick": theirs.reference})
    assert f"There is no ticket {theirs.reference}" in flash_of(response)
    assert not TicketThread.objects.filter(thread=lone).exists()
    html = client.get(link_url(lone), {"ticket": "printer"}).content.decode()
    assert theirs.reference not in html
    html = client.get(link_url(lone), {"ticket": theirs.reference}).content.decode()
    assert theirs.reference not in html.replace(f"“{theirs.reference}”", "")
    # Their conversation, through our address or theirs: 404, nothing linked.
    their_thread = deliver_without_ticket(
        make_mail(to=globex_inbox.address, subject="Theirs", message_id="<g@x>")
    ).thread
    ours = new(acme, "Ours")
    assert client.post(link_url(their_thread), {"ticket": ours.reference}).status_code == 404
    assert client.get(link_url(their_thread), {"ticket": "ours"}).status_code == 404
    assert client.post(link_url(lone, "globex"), {"ticket": theirs.reference}).status_code == 404
    assert not TicketThread.objects.filter(thread=their_thread).exists()


def test_a_viewer_may_not_link_and_the_page_never_links_on_get(acme, lone, web):
    ticket = new(acme, "Printers")
    assert web(acme.viewer).post(link_url(lone), {"ticket": ticket.reference}).status_code == 403
    web(acme.agent).get(link_url(lone), {"ticket": ticket.reference})
    assert not TicketThread.objects.filter(thread=lone).exists()


def test_an_agent_kept_to_their_queues_picks_and_links_only_tickets_they_see(acme, inbox, web):
    support = queues.queue_create(
        organization=acme.org, name="Support", actor=None, inboxes=[inbox], members=[acme.agent]
    )
    billing = queues.queue_create(organization=acme.org, name="Billing", actor=None)
    acme.org.restrict_agents_to_queues = True
    acme.org.save(update_fields=["restrict_agents_to_queues"])
    lone = deliver_without_ticket(make_mail(subject="Old question", message_id="<q@x>")).thread
    seen = new(acme, "Printer in support", queue=support)
    hidden = new(acme, "Printer in billing", queue=billing)
    client = web(acme.agent)
    html = client.get(link_url(lone), {"ticket": "printer"}).content.decode()
    assert seen.reference in html and hidden.reference not in html
    response = client.post(link_url(lone), {"ticket": hidden.reference})
    assert f"There is no ticket {hidden.reference}" in flash_of(response)
    assert not TicketThread.objects.filter(thread=lone).exists()
    client.post(link_url(lone), {"ticket": seen.reference})
    assert TicketThread.objects.get(thread=lone).ticket == seen


@pytest.mark.parametrize("typed", ["²", "9" * 30, "%", "_", "TKT-%", "a" * 200])
def test_the_picker_answers_odd_typing_with_no_pick_not_an_error(acme, lone, web, typed):
    new(acme, "Printer one")
    response = web(acme.agent).get(link_url(lone), {"ticket": typed})
    assert response.status_code == 200
    assert "No ticket you may see matches" in response.content.decode()
