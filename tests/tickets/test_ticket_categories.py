"""Ticket categories (an admin's list, a ticket's field, a queue filter) and a ticket opened
from scratch in the browser's form."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mail import deliver, make_mail
from tickets import categories, queues, services
from tickets.models import Ticket, TicketCategory


@pytest.fixture
def support(acme, inbox):
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def ticket_for(inbox, n: int) -> Ticket:
    thread = deliver(
        make_mail(to=inbox.address, subject=f"Question {n}", message_id=f"<c{n}@x.test>")
    ).thread
    return Ticket.objects.get(thread_links__thread=thread)


def test_admins_keep_the_list_and_others_may_not(acme, web):
    admin = web(acme.admin)
    assert admin.post("/acme/settings/categories/new/", {"name": "  Billing  "}).status_code == 302
    admin.post("/acme/settings/categories/new/", {"name": "billing"})  # a duplicate: refused
    admin.post("/acme/settings/categories/new/", {"name": ""})  # refused too
    assert list(TicketCategory.objects.values_list("name", flat=True)) == ["Billing"]
    page = admin.get("/acme/settings/categories/", follow=True).content.decode()
    assert "Billing" in page
    agent = web(acme.agent)
    assert agent.get("/acme/settings/categories/").status_code == 403
    assert agent.post("/acme/settings/categories/new/", {"name": "x"}).status_code == 403
    category = TicketCategory.objects.get()
    url = f"/acme/settings/categories/{category.pk}/delete/"
    assert web(acme.agent).post(url).status_code == 403
    assert web(acme.admin).post(url).status_code == 302
    assert not TicketCategory.objects.exists()


def test_a_ticket_takes_a_category_of_the_list_and_the_queue_filters_on_it(
    acme, inbox, support, web
):
    for name in ("Billing", "Access"):
        categories.category_create(organization=acme.org, name=name)
    first, second = ticket_for(inbox, 1), ticket_for(inbox, 2)
    thread = first.thread_links.get().thread
    client = web(acme.agent)
    panel = client.post(
        f"/acme/tickets/{first.reference}/update/",
        {"category": "billing", "thread": thread.reference},
        HTTP_HX_REQUEST="true",
    )
    assert panel.status_code == 200 and 'value="Billing" selected' in panel.content.decode()
    assert Ticket.objects.get(pk=first.pk).category == "Billing"  # as the list spells it
    refused = client.post(
        f"/acme/tickets/{second.reference}/update/", {"category": "Nope"}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 400 and "Unknown category" in refused.content.decode()
    html = client.get("/acme/?category=Billing").content.decode()
    assert "Question 1" in html and "Question 2" not in html
    assert 'name="category"' in html


def test_the_category_filter_costs_the_same_queries_for_few_or_many_rows(acme, inbox, support, web):
    categories.category_create(organization=acme.org, name="Billing")
    client = web(acme.agent)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/acme/?category=Billing").status_code == 200
        return len(queries)

    for n in range(2):
        services.ticket_update(ticket=ticket_for(inbox, n), actor=None, category="Billing")
    count()
    few = count()
    for n in range(2, 8):
        services.ticket_update(ticket=ticket_for(inbox, n), actor=None, category="Billing")
    assert count() == few


def test_without_a_list_any_category_is_taken(acme):
    ticket = services.ticket_create(
        organization=acme.org, subject="x", actor=None, category=" Odd  one "
    )
    assert ticket.category == "Odd one"


def test_an_agent_opens_a_ticket_from_scratch(acme, support, web):
    categories.category_create(organization=acme.org, name="Hardware")
    client = web(acme.agent)
    form = client.get("/acme/tickets/new/").content.decode()
    assert 'name="subject"' in form and "Hardware" in form
    response = client.post(
        "/acme/tickets/new/",
        {
            "subject": "Laptop screen cracked (phoned in)",
            "description": "Called at 9:10.",
            "priority": "high",
            "queue": str(support.pk),
            "assignee": str(acme.agent2.pk),
            "category": "Hardware",
            "client": "Jane@Client.test",
        },
    )
    ticket = Ticket.objects.get(subject="Laptop screen cracked (phoned in)")
    assert response.status_code == 302 and response["Location"].endswith(f"{ticket.reference}/")
    assert (ticket.priority, ticket.queue, ticket.assignee, ticket.category) == (
        "high",
        support,
        acme.agent2,
        "Hardware",
    )
    assert ticket.customer_email == "jane@client.test" and ticket.created_via == "web"
    assert not ticket.thread_links.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Laptop screen cracked" in page and "Called at 9:10." in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "", "needs a subject"),
        ("priority", "huge", "Choose a priority"),
        ("queue", "999999", "No such queue"),
        ("assignee", "x1", "No such member"),
        ("client", "not an address", "Not an email address"),
    ],
)
def test_a_bad_new_ticket_is_refused_with_the_form_kept(acme, support, web, field, value, message):
    data = {"subject": "Kept subject", "priority": "normal", "queue": "", "assignee": ""}
    data[field] = value
    response = web(acme.agent).post("/acme/tickets/new/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Ticket.objects.exists()


def test_viewers_open_no_ticket(acme, web):
    assert web(acme.viewer).get("/acme/tickets/new/").status_code == 403
    assert web(acme.viewer).post("/acme/tickets/new/", {"subject": "x"}).status_code == 403
