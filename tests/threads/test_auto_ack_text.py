"""The acknowledgement text is variables only: refused on save, and never a failed intake."""

import html

import pytest
from django.urls import reverse

from inboxes.models import AUTO_ACK_VARIABLES, Inbox
from inboxes.services import inbox_update
from tests.conftest import api_client
from tests.factories import UserFactory
from tests.mail import deliver, make_mail
from threads.models import InboundMail, OutboundMail

NESTED_LOOPS = "{% for a in client_name %}" * 3 + "{{ client_name }}" + "{% endfor %}" * 3
BROKEN = ["{{7*7}}", '{% include "missing" %}', NESTED_LOOPS]


@pytest.fixture
def acking_inbox(inbox):
    return inbox_update(inbox=inbox, auto_ack_enabled=True, auto_ack_text="Thanks!")


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def ack_of(smtp) -> str:
    [(_, mail)] = smtp.received
    assert mail["Auto-Submitted"] == "auto-replied"
    return mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def test_the_api_refuses_an_expression_and_changes_nothing(acme, acking_inbox):
    response = api_client(acme.admin).patch(
        f"/api/v1/inboxes/{acking_inbox.pk}/",
        {"auto_ack_text": "Hi {{7*7}}", "color": "#123456", "display_name": "Changed"},
        format="json",
    )
    assert response.status_code == 400
    assert "“{{7*7}}” is not a variable" in response.json()["auto_ack_text"][0]
    inbox = Inbox.objects.get(pk=acking_inbox.pk)
    assert (inbox.auto_ack_text, inbox.color, inbox.display_name) == ("Thanks!", "#3454d1", "")


@pytest.mark.parametrize("text", BROKEN)
def test_the_api_refuses_a_new_inbox_whose_text_is_more_than_variables(acme, text):
    response = api_client(acme.admin).post(
        "/api/v1/inboxes/", {"name": "sales", "auto_ack_text": text}, format="json"
    )
    assert response.status_code == 400
    assert text[:8] in response.json()["auto_ack_text"][0]
    assert not Inbox.objects.exists()


@pytest.mark.parametrize("text", BROKEN)
def test_the_settings_form_refuses_a_text_that_is_more_than_variables(
    acme, acking_inbox, web, text
):
    form = {
        "display_name": "",
        "color": "#3454d1",
        "auto_ack_enabled": "on",
        "auto_ack_text": text,
        "transport": "default",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_folder": "INBOX",
    }
    response = web(acme.admin).post(f"/acme/settings/inboxes/{acking_inbox.pk}/", form)
    assert response.status_code == 200
    assert html.escape(text[:8]) in response.content.decode()
    assert Inbox.objects.get(pk=acking_inbox.pk).auto_ack_text == "Thanks!"


def test_django_admin_refuses_a_text_that_is_more_than_variables(
    acme, acking_inbox, superuser_client
):
    url = reverse("admin:inboxes_inbox_change", args=[acking_inbox.pk])
    page = superuser_client.get(url)
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            value = "on" if value else None
        if value is not None:
            data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {f"{management.prefix}-{n}": management[n].value() for n in management.fields}

    response = superuser_client.post(url, data | {"auto_ack_text": "Hi {{7*7}}"})
    assert response.status_code == 200
    assert html.escape("“{{7*7}}” is not a variable") in response.content.decode()
    assert Inbox.objects.get(pk=acking_inbox.pk).auto_ack_text == "Thanks!"
    response = superuser_client.post(url, data | {"auto_ack_text": "Hi {{ client_name }}"})
    assert response.status_code == 302
    assert Inbox.objects.get(pk=acking_inbox.pk).auto_ack_text == "Hi {{ client_name }}"


@pytest.mark.parametrize("text", BROKEN)
def test_a_broken_stored_text_still_lets_the_conversation_in_with_the_standard_receipt(
    acme, acking_inbox, smtp, django_capture_on_commit_callbacks, text
):
    Inbox.objects.filter(pk=acking_inbox.pk).update(auto_ack_text=text)
    with django_capture_on_commit_callbacks(execute=True):
        result = deliver(make_mail())
    result.inbound.refresh_from_db()
    assert result.inbound.status == InboundMail.Status.ACCEPTED
    assert result.thread.reference == "THD-ACME-001"
    text = ack_of(smtp)
    assert text.startswith("Hello Jane Client,\n\nWe received your message")
    assert "Your reference is THD-ACME-001;" in text
    assert OutboundMail.objects.get().kind == OutboundMail.Kind.AUTO_ACK


VARIABLE_TABLE = [
    ("{{ client_name }}", "Jane Client"),
    ("{{ thread.reference }}", "THD-ACME-001"),
    ("{{ thread.subject }}", "cannot log in"),
    ("{{ inbox.name }}", "Acme"),
    ("{{ inbox.address }}", "support.acme@in.tisket.test"),
    ("{{ client_name|upper }}", "JANE CLIENT"),
    ("{{ client_name|lower }}", "jane client"),
    ("{{ thread.subject|title }}", "Cannot Log In"),
    ("{{ thread.subject|capfirst }}", "Cannot log in"),
    ('{{ inbox.name|default:"us" }}', "Acme"),
]


def test_the_table_names_every_acknowledgement_variable():
    assert {body.strip("{} ").split("|")[0] for body, _ in VARIABLE_TABLE} == set(
        AUTO_ACK_VARIABLES
    )


@pytest.mark.parametrize(("body", "expected"), VARIABLE_TABLE)
def test_each_acknowledgement_variable_and_filter_renders(
    acme, acking_inbox, smtp, django_capture_on_commit_callbacks, body, expected
):
    inbox_update(inbox=acking_inbox, auto_ack_text=f"[{body}]")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(subject="cannot log in"))
    assert ack_of(smtp).startswith(f"[{expected}]\n")


def test_a_clients_name_is_never_read_as_template_text(
    acme, acking_inbox, smtp, django_capture_on_commit_callbacks
):
    inbox_update(inbox=acking_inbox, auto_ack_text="Hi {{ client_name }}, see {{ thread.subject }}")
    name = "{{ inbox.address }} <b>{% include 'x' %}</b>"
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(sender=f'"{name}" <jane@client.test>', subject="{{ client_name }}"))
    assert ack_of(smtp).startswith(f"Hi {name}, see {{{{ client_name }}}}\n")
    [(_, mail)] = smtp.received
    html_part = mail.get_body(preferencelist=("html",)).get_content()
    assert "<b>" not in html_part and "&lt;b&gt;" in html_part
