"""What people see of an AI assistant's work: its draft in the reply box, its changes on
the timeline, its calls on the API tokens page; at a desktop's width and a phone's."""

import pytest

from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from tickets import queues, services
from tisket.models import McpCall
from tisket.services import api_token_create

WIDTHS = [1440, 390]


@pytest.fixture
def worked(acme, inbox):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    thread = deliver(make_mail(to=inbox.address, subject="Cannot log in")).thread
    token, _ = api_token_create(membership=acme.agent, name="Claude", scope="write")
    actor = token.actor
    actor.via = f"assistant via token {token.label()}"
    ticket = thread.ticket_link.ticket
    services.ticket_update(ticket=ticket, actor=actor, priority="high")
    services.reply_draft_save(
        thread=thread,
        body="Hello Jane,\n\nPlease reset your password from the login page.",
        actor=actor,
    )
    calls = [("get_thread", "ok"), ("draft_reply", "ok"), ("update_ticket", "refused")]
    for tool, outcome in calls:
        McpCall.objects.create(
            organization=acme.org,
            token=token,
            token_label=token.label(),
            tool=tool,
            arguments_digest="0" * 64,
            outcome=outcome,
            duration_ms=12,
        )
    return thread


@pytest.mark.parametrize("width", WIDTHS)
def test_the_draft_waits_in_the_reply_box_and_the_timeline_names_the_token(
    acme, worked, login, width
):
    page = login(acme.agent2, viewport={"width": width, "height": 900})
    page.goto(f"/acme/threads/{worked.reference}/")
    note = page.locator(".draft-note")
    assert "Nothing has been sent" in note.inner_text()
    assert "Please reset your password" in page.locator("#reply-body").input_value()
    assert "assistant via token Claude" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"assistant-draft-{width}")
    assert page.errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_admins_see_the_assistant_calls(acme, worked, login, width):
    page = login(acme.admin, viewport={"width": width, "height": 900})
    page.goto("/acme/settings/tokens/")
    rows = page.locator("table.mcp-calls tbody tr")
    assert rows.count() == 3
    assert "Refused" in rows.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"assistant-calls-{width}")
    assert page.errors == []
