"""Agent groups through the MCP server: with the organization keeping agents to their queues,
a grouped agent's token lists, reads and changes only what the agent sees in the browser
and the API; a conversation of another queue is "not found" to every tool."""

from mcp.shared.exceptions import MCPError

from inboxes.models import Inbox
from tests.mcp.test_tools import ADMIN_TOOLS, AGENT_WRITE_TOOLS, READ_TOOLS
from tests.tisket.test_agent_groups import Hidden
from tickets.models import Note, ReplyDraft, Ticket, TicketEvent

# Each tool that names a conversation or a ticket, given the one outside the agent's queues.
HIDDEN_CALLS = {
    "get_thread": lambda h: {"thread": h.thread},
    "get_thread_participants": lambda h: {"thread": h.thread},
    "get_ticket_for_thread": lambda h: {"thread": h.thread},
    "get_ticket": lambda h: {"ticket": h.ticket},
    "get_sla_status": lambda h: {"ticket": h.ticket},
    "update_thread_status": lambda h: {"thread": h.thread, "status": "closed"},
    "draft_reply": lambda h: {"thread": h.thread, "body": "Hi"},
    "add_internal_note": lambda h: {"ticket": h.thread, "body": "x"},
    "update_ticket": lambda h: {"ticket": h.ticket, "priority": "low"},
    "link_thread_to_ticket": lambda h: {"thread": h.thread, "ticket": h.other_ticket},
}
# Tools that name no conversation: what they list or count leaves it out.
LISTS = {"list_threads", "list_tickets", "search_conversations", "get_inbox"}
UNSCOPED = {"list_inboxes", "create_inbox", "search_kb", "get_article"}  # no conversation


def test_the_walk_covers_every_tool():
    every = set(READ_TOOLS + AGENT_WRITE_TOOLS + ADMIN_TOOLS)
    assert set(HIDDEN_CALLS) | LISTS | UNSCOPED == every


def test_every_tool_given_a_conversation_outside_the_agents_queues_finds_nothing(
    groups: Hidden, acme, assistant
):
    before = (Note.objects.count(), TicketEvent.objects.count(), ReplyDraft.objects.count())
    agent = assistant(acme.agent)
    for tool, arguments in HIDDEN_CALLS.items():
        message = agent.error(tool, **arguments(groups))
        assert "in this organization" in message, (tool, message)
        assert "Invoice dispute" not in message
    # Nor the other way round: the hidden ticket is not the agent's to link their thread to.
    mine = Ticket.objects.get(reference=groups.other_ticket).thread_links.get().thread.reference
    assert "No ticket" in agent.error("link_thread_to_ticket", thread=mine, ticket=groups.ticket)
    after = (Note.objects.count(), TicketEvent.objects.count(), ReplyDraft.objects.count())
    assert after == before
    assert Ticket.objects.get(reference=groups.ticket).priority == "normal"

    async def work(client):
        refused = []
        for call in (
            client.read_resource(f"tisket://conversations/{groups.thread}"),
            client.get_prompt("draft_reply_from_kb", {"reference": groups.thread}),
        ):
            try:
                await call
            except MCPError as error:
                refused.append(str(error))
        return refused

    refused = agent.run(work)
    assert len(refused) == 2
    assert all(f"No conversation '{groups.thread}'" in r for r in refused)
    # A supervisor reads it, as in the browser.
    supervisor = assistant(acme.supervisor)
    assert supervisor.ok("get_thread", thread=groups.thread)["reference"] == groups.thread


def test_lists_leave_it_out_and_the_agent_works_their_own_and_what_is_assigned_to_them(
    groups: Hidden, acme, assistant
):
    agent, supervisor = assistant(acme.agent), assistant(acme.supervisor)
    billing = Inbox.objects.get(organization=acme.org, name="billing").pk
    for tool, arguments, field in (
        ("list_threads", {}, "threads"),
        ("list_tickets", {}, "tickets"),
        ("search_conversations", {"query": "invoice"}, "threads"),
        ("search_conversations", {"query": groups.ticket}, "threads"),
        ("list_threads", {"inbox": billing}, "threads"),
    ):
        seen = str(agent.ok(tool, **arguments)[field])
        assert "Invoice dispute" not in seen, (tool, arguments)
        assert "Invoice dispute" in str(supervisor.ok(tool, **arguments)[field]), tool
    assert agent.ok("get_inbox", inbox_id=billing)["unresolved_conversations"] == 0
    assert supervisor.ok("get_inbox", inbox_id=billing)["unresolved_conversations"] == 1

    mine = agent.ok("list_tickets")["tickets"]
    assert [t["reference"] for t in mine] == [groups.other_ticket]
    changed = agent.ok("update_ticket", ticket=groups.other_ticket, priority="high")
    assert changed["priority"] == "high"
    # Handed to another queue: the answer says so, and then it is out of the agent's sight.
    moved = agent.ok("update_ticket", ticket=groups.other_ticket, queue="Billing")
    assert moved["queue"] == "Billing"
    assert Ticket.objects.get(reference=groups.other_ticket).queue.name == "Billing"
    assert "No ticket" in agent.error("get_ticket", ticket=groups.other_ticket)

    Ticket.objects.filter(reference=groups.ticket).update(assignee=acme.agent)
    assert agent.ok("get_ticket", ticket=groups.ticket)["reference"] == groups.ticket
    assert agent.ok("get_thread", thread=groups.thread)["ticket"] == groups.ticket
