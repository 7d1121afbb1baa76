"""Macro texts are variables only: every writer refuses more; a stored one never hurts a page."""

import html

import pytest
from django.urls import reverse

from tests.conftest import api_client
from tests.factories import UserFactory
from tests.mail import deliver_without_ticket, make_mail
from tests.tickets.conversation_seed import seed_conversation
from tickets import macros
from tickets import services as tickets
from tickets.models import MACRO_VARIABLES, Macro

NESTED_LOOPS = (
    "{% for a in client_email %}{% for b in client_email %}{% for c in client_email %}"
    "[{{ client_name }}]"
    "{% endfor %}{% endfor %}{% endfor %}"
)
INCLUDE_MISSING = 'Hello {{ client_name }}, {% include "missing" %}'
ATTACKS = pytest.mark.parametrize(
    ("body", "named"),
    [(NESTED_LOOPS, "{% for a in client_email %}"), (INCLUDE_MISSING, '{% include "missing" %}')],
    ids=["nested-loops", "include-missing"],
)


@pytest.fixture
def conv(acme, inbox):
    return seed_conversation(acme, inbox)


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def stored(acme, body: str) -> Macro:
    """A macro saved before texts were checked: written past every check."""
    return Macro.objects.create(organization=acme.org, name="Old", body=body)


@ATTACKS
def test_the_api_refuses_a_macro_with_tags_naming_the_tag(acme, body, named):
    client = api_client(acme.supervisor)
    response = client.post("/api/v1/macros/", {"name": "Loop", "body": body}, format="json")
    assert response.status_code == 400
    assert named in response.json()["body"][0]
    assert not Macro.objects.exists()

    macro = macros.macro_save(organization=acme.org, actor=None, name="Hi", body="Hi")
    response = client.patch(f"/api/v1/macros/{macro.pk}/", {"body": body}, format="json")
    assert response.status_code == 400
    assert named in response.json()["body"][0]
    macro.refresh_from_db()
    assert macro.body == "Hi"


@ATTACKS
def test_the_settings_form_refuses_a_macro_with_tags_naming_the_tag(acme, web, body, named):
    response = web(acme.admin).post("/acme/settings/macros/new/", {"name": "Loop", "body": body})
    assert response.status_code == 200
    assert html.escape(named) in response.content.decode()
    assert not Macro.objects.exists()


@ATTACKS
def test_django_admin_refuses_a_macro_with_tags_naming_the_tag(acme, superuser_client, body, named):
    response = superuser_client.post(
        reverse("admin:tickets_macro_add"),
        {"organization": acme.org.pk, "name": "Loop", "body": body, "actions": "{}"},
    )
    assert response.status_code == 200
    assert html.escape(named) in response.content.decode()
    assert not Macro.objects.exists()


def test_django_admin_saves_a_macro_of_variables(acme, superuser_client):
    response = superuser_client.post(
        reverse("admin:tickets_macro_add"),
        {
            "organization": acme.org.pk,
            "name": "Hi",
            "body": "Hi {{ client_name }}",
            "actions": "{}",
        },
    )
    assert response.status_code == 302
    assert Macro.objects.get().body == "Hi {{ client_name }}"


def test_a_stored_macro_with_nested_loops_renders_its_variable_once(acme, conv, web):
    macro = stored(acme, NESTED_LOOPS)
    rendered = macros.macro_render(macro=macro, ticket=conv.ticket, agent=acme.agent)
    # The old engine wrote the name once per character triple of the address: 16³ times.
    assert rendered.count("[Jane Client]") == 1
    assert len(rendered) <= len(NESTED_LOOPS) + len("Jane Client")
    page = web(acme.agent).get(f"/acme/threads/{conv.thread.reference}/")
    assert page.status_code == 200
    assert page.content.decode().count("[Jane Client]") == 1


def test_a_stored_include_of_a_missing_template_never_breaks_the_conversation(acme, conv, web):
    macro = stored(acme, INCLUDE_MISSING)
    client = web(acme.agent)
    page = client.get(f"/acme/threads/{conv.thread.reference}/")
    assert page.status_code == 200
    assert html.escape('Hello Jane Client, {% include "missing" %}') in page.content.decode()
    applied = client.post(f"/acme/tickets/{conv.ticket.reference}/macros/{macro.pk}/apply/")
    assert applied.status_code == 302
    response = api_client(acme.agent).post(
        f"/api/v1/tickets/{conv.ticket.reference}/macros/{macro.pk}/apply/"
    )
    assert response.status_code == 200
    assert response.json()["reply"] == 'Hello Jane Client, {% include "missing" %}'


VARIABLE_TABLE = [
    ("{{ client_name }}", "Jane Client"),
    ("{{ client_email }}", "jane@client.test"),
    ("{{ thread.reference }}", "{thread}"),
    ("{{ thread.subject }}", "Cannot log in since this morning"),
    ("{{ ticket.reference }}", "{ticket}"),
    ("{{ ticket.subject }}", "Cannot log in since this morning"),
    ("{{ ticket.priority }}", "High"),
    ("{{ ticket.status }}", "Open"),
    ('{{ ticket.category|default:"none" }}', "none"),
    ("{{ agent_name }}", "Alex Martin"),
    ("{{ organization.name }}", "Acme"),
    ("{{ client_name|upper }}", "JANE CLIENT"),
    ("{{ client_email|title }}", "Jane@Client.Test"),
    ("{{ ticket.priority|lower }}", "high"),
    ("{{ client_email|capfirst }}", "Jane@client.test"),
]


def test_the_table_names_every_macro_variable():
    named = {body.strip("{} ").split("|")[0] for body, _ in VARIABLE_TABLE}
    assert named == set(MACRO_VARIABLES)


@pytest.mark.parametrize(("body", "expected"), VARIABLE_TABLE)
def test_each_macro_variable_and_filter_renders_for_the_ticket(acme, conv, body, expected):
    macro = macros.macro_save(organization=acme.org, actor=None, name="v", body=body)
    rendered = macros.macro_render(macro=macro, ticket=conv.ticket, agent=acme.agent)
    assert rendered == expected.format(thread=conv.thread.reference, ticket=conv.ticket.reference)


def test_a_clients_name_and_a_subject_are_never_read_as_template_text(acme, inbox, web):
    name = "{{ agent_name }} <b>{% include 'x' %}</b>"
    thread = deliver_without_ticket(
        make_mail(sender=f'"{name}" <bob@client.test>', subject="{{ organization.name }}")
    ).thread
    ticket = tickets.ticket_create(organization=acme.org, subject="x", actor=None)
    tickets.ticket_thread_link(ticket=ticket, thread=thread, actor=None)
    macro = macros.macro_save(
        organization=acme.org,
        actor=None,
        name="Hi",
        body="Hi {{ client_name }} about {{ thread.subject }}",
    )
    rendered = macros.macro_render(macro=macro, ticket=ticket, agent=acme.agent)
    assert rendered == f"Hi {name} about {{{{ organization.name }}}}"
    page = web(acme.agent).get(f"/acme/threads/{thread.reference}/").content.decode()
    assert "<b>{% include" not in page
    assert html.escape(f"Hi {name}") in page
