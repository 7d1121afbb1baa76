"""Who may do what through the MCP server: the tenancy walk (every tool with another
organization's objects is "not found") and the role and scope matrix."""

from collections.abc import Callable

import pytest

from tests.mcp.conftest import Assistant
from tests.mcp.test_tools import ADMIN_TOOLS, AGENT_WRITE_TOOLS, READ_TOOLS
from tests.tisket.foreign import Foreign
from tickets.models import Note, ReplyDraft, Ticket, TicketEvent
from tisket.models import McpCall

# Each tool, called with the other organization's objects (and ours where it takes two).
FOREIGN_CALLS: dict[str, Callable[[Foreign, dict], dict]] = {
    "get_inbox": lambda f, ours: {"inbox_id": f.inbox_id},
    "list_threads": lambda f, ours: {"inbox": f.inbox_id},
    "get_thread": lambda f, ours: {"thread": f.thread_reference},
    "get_thread_participants": lambda f, ours: {"thread": f.thread_reference},
    "get_ticket_for_thread": lambda f, ours: {"thread": f.thread_reference},
    "get_ticket": lambda f, ours: {"ticket": f.ticket_reference},
    "get_sla_status": lambda f, ours: {"ticket": f.ticket_reference},
    "update_thread_status": lambda f, ours: {"thread": f.thread_reference, "status": "closed"},
    "draft_reply": lambda f, ours: {"thread": f.thread_reference, "body": "Hi"},
    "add_internal_note": lambda f, ours: {"ticket": f.ticket_reference, "body": "x"},
    "update_ticket": lambda f, ours: {"ticket": f.ticket_reference, "status": "closed"},
    "link_thread_to_ticket": lambda f, ours: {
        "thread": f.thread_reference,
        "ticket": ours["ticket"],
    },
    "list_tickets": lambda f, ours: {"assignee": f.cast.agent.user.email},
    "get_article": lambda f, ours: {"article": str(foreign_article(f).pk)},
}
# Tools that name no object: what they list or find holds nothing of the other organization.
LISTS: dict[str, Callable[[Foreign], dict]] = {
    "list_inboxes": lambda f: {},
    "list_threads": lambda f: {},
    "list_tickets": lambda f: {"thread": f.thread_reference},
    "search_conversations": lambda f: {"query": f.thread_reference},
    "create_inbox": lambda f: {"name": "help"},  # globex has one named so; acme may too
    "search_kb": lambda f: {"query": foreign_article(f).title.removeprefix("Globex ")},
}


def foreign_article(f: Foreign):
    """A published article of the other organization, for members of it only."""
    from kb.models import Article
    from kb.services import article_create

    return Article.objects.filter(organization=f.cast.org).first() or article_create(
        organization=f.cast.org,
        actor=None,
        title="Globex warp drive manual",
        body="Calibrate the warp drive monthly.",
        visibility="members",
        publish=True,
    )


@pytest.fixture
def ours(acme, inbox) -> dict:
    from tests.mail import deliver, make_mail
    from tickets import queues

    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    result = deliver(make_mail(to=inbox.address))
    return {"ticket": result.thread.ticket_link.ticket.reference}


def test_the_walk_covers_every_tool():
    assert set(FOREIGN_CALLS) | set(LISTS) == set(READ_TOOLS + AGENT_WRITE_TOOLS + ADMIN_TOOLS)


@pytest.mark.parametrize("tool", sorted(FOREIGN_CALLS))
def test_every_tool_given_another_organizations_objects_finds_nothing(
    acme, foreign, ours, assistant, tool
):
    before = (Note.objects.count(), TicketEvent.objects.count(), ReplyDraft.objects.count())
    globex_ticket = Ticket.objects.get(reference=foreign.ticket_reference)
    arguments = FOREIGN_CALLS[tool](foreign, ours)
    message = assistant(acme.owner).error(tool, **arguments)
    assert "in this organization" in message, message
    for value in arguments.values():  # what was asked for may be named back, nothing more
        message = message.replace(str(value), "")
    assert "globex" not in message.lower()
    assert "glx" not in message.lower()
    after = (Note.objects.count(), TicketEvent.objects.count(), ReplyDraft.objects.count())
    assert after == before
    globex_ticket.refresh_from_db()
    assert globex_ticket.status != "closed"


@pytest.mark.parametrize("tool", sorted(LISTS))
def test_what_a_tool_lists_holds_nothing_of_another_organization(
    acme, foreign, ours, assistant, tool
):
    result = assistant(acme.owner).call(tool, **LISTS[tool](foreign))
    text = result.content[0].text.lower()
    assert "thd-glx" not in text
    assert "tkt-glx" not in text
    assert "globex" not in text


def test_each_write_tool_refuses_a_read_token_and_a_viewer(acme, ours, assistant, inbox):
    thread = Ticket.objects.get(reference=ours["ticket"]).thread_links.get().thread.reference
    arguments = {
        "add_internal_note": {"ticket": ours["ticket"], "body": "x"},
        "draft_reply": {"thread": thread, "body": "x"},
        "link_thread_to_ticket": {"thread": thread, "ticket": ours["ticket"]},
        "update_thread_status": {"thread": thread, "status": "closed"},
        "update_ticket": {"ticket": ours["ticket"], "priority": "low"},
        "create_inbox": {"name": "billing"},
    }
    read_token: Assistant = assistant(acme.owner, scope="read")
    viewer: Assistant = assistant(acme.viewer)
    capped: Assistant = assistant(acme.admin, role="viewer")
    agent: Assistant = assistant(acme.agent)
    for tool, args in arguments.items():
        assert "has the read scope" in read_token.error(tool, **args), tool
        assert "needs the" in viewer.error(tool, **args), tool
        assert "acts as viewer" in capped.error(tool, **args), tool
    assert "needs the admin role" in agent.error("create_inbox", name="billing")
    assert not Note.objects.exists()
    assert not ReplyDraft.objects.exists()
    assert Ticket.objects.get(reference=ours["ticket"]).priority == "normal"
    refused = McpCall.objects.filter(outcome="refused")
    assert refused.count() == 3 * len(arguments) + 1


def test_a_read_token_reads_everything_a_viewer_may(acme, ours, assistant):
    bot = assistant(acme.agent, scope="read")
    assert bot.ok("get_ticket", ticket=ours["ticket"])["reference"] == ours["ticket"]
    assert bot.ok("list_tickets")["tickets"]


def test_the_rest_api_refuses_a_read_tokens_writes(acme, ours):
    from tests.conftest import api_client
    from tisket.services import api_token_create

    _, key = api_token_create(membership=acme.agent, name="reader", scope="read")
    client = api_client(acme.agent)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"/api/v1/tickets/{ours['ticket']}/").status_code == 200
    response = client.post(f"/api/v1/tickets/{ours['ticket']}/notes/", {"body": "x"}, format="json")
    assert response.status_code == 403
    assert "read scope" in response.json()["detail"]
