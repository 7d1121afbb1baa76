"""An assistant's changes in the audit log: each write tool records who (the member), through
which token, via MCP; what was written stays out of it, and reads or failures record nothing."""

import json

from tests.mail import deliver, deliver_without_ticket, make_mail
from tests.mcp.test_tools import ADMIN_TOOLS, AGENT_WRITE_TOOLS
from tickets import queues
from tisket.models import AuditEvent

SECRET = "hunter2-the-password"


def test_every_write_tool_is_audited_naming_the_member_and_the_token_and_no_text(
    acme, inbox, assistant
):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    thread = deliver(make_mail(to=inbox.address, subject="Cannot log in")).thread
    ticket = thread.ticket_link.ticket.reference
    lone = deliver_without_ticket(
        make_mail(to=inbox.address, subject="Other", sender="bob@client.test")
    ).thread.reference
    bot, admin = assistant(acme.agent), assistant(acme.admin)

    bot.ok("get_ticket", ticket=ticket)
    bot.ok("search_conversations", query="log in")
    assert "no queue" in bot.error("update_ticket", ticket=ticket, queue="nowhere")
    assert not AuditEvent.objects.filter(action="mcp.write").exists()

    body = f"Your password is {SECRET}."
    bot.ok("draft_reply", thread=thread.reference, body=body)
    bot.ok("add_internal_note", ticket=ticket, body=SECRET)
    bot.ok("update_thread_status", thread=lone, status="resolved")
    bot.ok("link_thread_to_ticket", thread=lone, ticket=ticket)
    bot.ok("update_ticket", ticket=ticket, priority="high", tags=["vip"])
    admin.ok("create_inbox", name="billing")

    events = list(AuditEvent.objects.filter(action="mcp.write").order_by("id"))
    assert {e.data["tool"] for e in events} == set(AGENT_WRITE_TOOLS + ADMIN_TOOLS)
    for event in events:
        who = acme.admin if event.data["tool"] == "create_inbox" else acme.agent
        assert event.organization_id == acme.org.pk
        assert event.actor == who.user
        assert event.actor_label == f"{who.user.email} via MCP (API token “assistant”)"
        assert event.data["via"] == "MCP"
        assert event.data["assistant"].startswith("assistant (tsk_")
    draft, note, status, link, change, made = events
    assert (draft.target_label, draft.data["arguments"]) == (
        thread.reference, {"thread": thread.reference, "body_length": len(body)}
    )  # fmt: skip
    assert note.data["arguments"] == {"ticket": ticket, "body_length": len(SECRET)}
    assert status.data["arguments"] == {"thread": lone, "status": "resolved"}
    assert link.target_label == ticket
    assert change.data["arguments"] == {"ticket": ticket, "priority": "high", "tags": ["vip"]}
    assert made.target_label == "billing"
    # What the service records of its own names the member via MCP too.
    created = AuditEvent.objects.get(action="inbox.created", target_label__startswith="billing.")
    assert created.actor == acme.admin.user
    assert "via MCP" in created.actor_label

    logged = json.dumps([[e.actor_label, e.target_label, e.data] for e in events])
    assert SECRET not in logged
    assert bot.key not in logged and admin.key not in logged
