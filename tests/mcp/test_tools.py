"""The MCP server over streamable HTTP, with the SDK's own client: auth, the tool list, and
each tool's happy path."""

import json
from datetime import timedelta

import anyio
import httpx2
import pytest
import time_machine
from django.utils import timezone
from mcp.shared.exceptions import MCPError

from tests.mail import deliver, deliver_without_ticket, make_mail
from tickets import queues, services
from tickets.models import Note, ReplyDraft, Ticket, TicketEvent
from tisket.models import McpCall
from tisket.services import api_token_create, api_token_revoke

READ_TOOLS = [
    "get_article",
    "get_inbox",
    "get_sla_status",
    "get_thread",
    "get_thread_participants",
    "get_ticket",
    "get_ticket_for_thread",
    "list_inboxes",
    "list_threads",
    "list_tickets",
    "search_conversations",
    "search_kb",
]
AGENT_WRITE_TOOLS = [
    "add_internal_note",
    "draft_reply",
    "link_thread_to_ticket",
    "update_thread_status",
    "update_ticket",
]
ADMIN_TOOLS = ["create_inbox"]


@pytest.fixture
def desk(acme, inbox):
    """A queue fed by the inbox, a client's mail (a thread and its ticket), a lone thread."""
    queue = queues.queue_create(
        organization=acme.org, name="Support", actor=None, members=[acme.agent], inboxes=[inbox]
    )
    first = deliver(make_mail(to=inbox.address, subject="Cannot log in"))
    queues.queue_create(organization=acme.org, name="Billing", actor=None)
    return {
        "queue": queue,
        "thread": first.thread.reference,
        "ticket": first.thread.ticket_link.ticket.reference,
    }


def post(url: str, headers: dict) -> httpx2.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return httpx2.post(url, json=body, headers={"Accept": "application/json", **headers})


def test_without_a_valid_token_the_answer_is_401_naming_the_resource_metadata(
    mcp_url, acme, transactional_db
):
    token, key = api_token_create(membership=acme.agent, name="gone")
    api_token_revoke(token=token)
    for headers in (
        {},
        {"Authorization": "Bearer tsk_nonsense"},
        {"Authorization": f"Bearer {key}"},
    ):
        response = post(mcp_url, headers)
        assert response.status_code == 401
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ")
        assert (
            'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"'
            in (challenge)
        )
    metadata = httpx2.get(mcp_url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"))
    assert metadata.status_code == 200
    assert metadata.json()["resource"] == "http://127.0.0.1:8000/mcp"
    assert metadata.json()["scopes_supported"] == ["read", "write"]
    assert metadata.json()["bearer_methods_supported"] == ["header"]


def test_the_rest_of_the_site_is_served_by_the_same_entry(mcp_url, transactional_db):
    site = mcp_url.removesuffix("/mcp")
    assert httpx2.get(f"{site}/healthz").status_code == 200
    assert httpx2.get(f"{site}/api/v1/me/").status_code == 401
    assert httpx2.get(f"{site}/.well-known/unknown").status_code == 404


def test_each_token_lists_the_tools_its_scope_and_role_allow(acme, assistant):
    assert assistant(acme.admin).tools() == sorted(READ_TOOLS + AGENT_WRITE_TOOLS + ADMIN_TOOLS)
    assert assistant(acme.agent).tools() == sorted(READ_TOOLS + AGENT_WRITE_TOOLS)
    assert assistant(acme.admin, scope="read").tools() == READ_TOOLS
    assert assistant(acme.viewer).tools() == READ_TOOLS
    assert assistant(acme.admin, role="viewer").tools() == READ_TOOLS


def test_every_tool_has_a_described_schema_and_says_whether_it_writes(acme, assistant):
    async def work(client):
        return (await client.list_tools()).tools

    for tool in assistant(acme.admin).run(work):
        assert len(tool.description) > 30, tool.name
        for name, field in tool.input_schema.get("properties", {}).items():
            assert field.get("description"), (tool.name, name)
        writes = tool.name in AGENT_WRITE_TOOLS + ADMIN_TOOLS
        assert tool.annotations.read_only_hint is (not writes), tool.name
        assert tool.annotations.destructive_hint is False


def test_inboxes(acme, inbox, assistant):
    bot = assistant(acme.admin)
    listed = bot.ok("list_inboxes")
    assert [i["name"] for i in listed["inboxes"]] == ["support"]
    assert bot.ok("get_inbox", inbox_id=inbox.pk)["address"] == inbox.address
    made = bot.ok("create_inbox", name="billing", display_name="Billing")
    assert made["address"].startswith("billing.acme@")
    assert "already has an inbox" in bot.error("create_inbox", name="billing")
    assert "smtp" not in json.dumps(made)  # no transport settings, let alone secrets


def test_threads_are_listed_paged_found_and_read(acme, inbox, desk, assistant):
    for n in range(3):
        deliver(
            make_mail(
                to=inbox.address,
                subject=f"Question {n}",
                sender=f"c{n}@client.test",
                body=f"Question {n} is about the printer.",  # search reads bodies too
            )
        )
    bot = assistant(acme.agent)
    first = bot.ok("list_threads", limit=2)
    assert len(first["threads"]) == 2
    rest = bot.ok("list_threads", limit=2, cursor=first["next_cursor"])
    assert rest["next_cursor"] is None
    seen = [t["reference"] for t in first["threads"] + rest["threads"]]
    assert len(set(seen)) == 4
    assert bot.ok("list_threads", inbox=inbox.pk, status=["closed"])["threads"] == []
    assert "cursor:" in bot.error("list_threads", cursor="not-a-cursor")

    found = bot.ok("search_conversations", query="Cannot log")["threads"]
    assert [t["reference"] for t in found] == [desk["thread"]]
    assert found[0]["ticket"] == desk["ticket"]
    by_ticket = bot.ok("search_conversations", query=desk["ticket"])["threads"]
    assert [t["reference"] for t in by_ticket] == [desk["thread"]]

    thread = bot.ok("get_thread", thread=desk["thread"])
    assert thread["ticket"] == desk["ticket"]
    [message] = thread["messages"]
    assert message["content"]["untrusted"] is True
    assert "cannot log in" in message["content"]["text"]
    people = bot.ok("get_thread_participants", thread=desk["thread"])["participants"]
    assert [p["email"] for p in people] == ["jane@client.test"]


def test_tickets_are_listed_read_and_changed_with_events_naming_the_token(acme, desk, assistant):
    bot = assistant(acme.agent)
    [listed] = bot.ok("list_tickets", status=["new"], thread=desk["thread"])["tickets"]
    assert listed["reference"] == desk["ticket"]
    assert (
        bot.ok("get_ticket_for_thread", thread=desk["thread"])["ticket"]["reference"]
        == (desk["ticket"])
    )
    sla = bot.ok("get_sla_status", ticket=desk["ticket"])
    assert set(sla) >= {"state", "first_response_due_at", "resolution_due_at"}

    changed = bot.ok(
        "update_ticket",
        ticket=desk["ticket"],
        status="in_progress",
        priority="high",
        queue="billing",
        assignee="agent@acme.test",
        tags=["Login", "vip"],
    )
    assert (changed["status"], changed["priority"], changed["queue"]) == (
        "in_progress", "high", "Billing"
    )  # fmt: skip
    assert changed["assignee"] == "agent@acme.test"
    assert changed["tags"] == ["login", "vip"]
    assert "Give at least one" in bot.error("update_ticket", ticket=desk["ticket"])
    assert "no queue 'nowhere'" in bot.error(
        "update_ticket", ticket=desk["ticket"], queue="nowhere"
    )
    assert "no member" in bot.error("update_ticket", ticket=desk["ticket"], assignee="x@y.test")

    note = bot.ok("add_internal_note", ticket=desk["thread"], body="Checked the logs.")
    assert Note.objects.get(pk=note["note"]["id"]).ticket.reference == desk["ticket"]
    assert bot.ok("get_ticket", ticket=desk["ticket"])["notes"][0]["body"] == "Checked the logs."

    ticket = Ticket.objects.get(reference=desk["ticket"])
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind__in=["created", "linked"])
    assert {e.kind for e in events} >= {"status", "priority", "queue", "assigned", "tags"}
    for event in events.exclude(kind="assigned", actor=None):
        assert event.data["via"].startswith("assistant via token assistant (tsk_"), event.kind
        assert event.actor == acme.agent


def test_status_links_and_drafts(acme, inbox, desk, assistant):
    other = deliver_without_ticket(
        make_mail(to=inbox.address, subject="Other", sender="bob@client.test")
    ).thread
    bot = assistant(acme.agent)

    assert bot.ok("get_ticket_for_thread", thread=other.reference)["ticket"] is None
    assert (
        bot.ok("update_thread_status", thread=other.reference, status="resolved")["status"]
        == "resolved"
    )
    assert "has no ticket" in bot.error(
        "update_thread_status", thread=other.reference, status="new"
    )
    assert "has no ticket" in bot.error("add_internal_note", ticket=other.reference, body="x")

    linked = bot.ok("link_thread_to_ticket", thread=other.reference, ticket=desk["ticket"])
    assert other.reference in linked["threads"]
    assert (
        bot.ok("update_thread_status", thread=desk["thread"], status="waiting_on_customer")[
            "status"
        ]
        == "in_progress"
    )
    assert Ticket.objects.get(reference=desk["ticket"]).status == "waiting_on_customer"

    drafted = bot.ok("draft_reply", thread=desk["thread"], body="Hello Jane, try this.")
    assert drafted["draft"]["via"].startswith("assistant via token")
    bot.ok("draft_reply", thread=desk["thread"], body="Hello Jane, try that.")
    assert ReplyDraft.objects.get().body == "Hello Jane, try that."
    assert bot.ok("get_thread", thread=desk["thread"])["draft"]["body"] == "Hello Jane, try that."


def test_a_draft_waits_in_the_reply_box_and_a_sent_reply_uses_it_up(acme, desk, assistant, web):
    assistant(acme.agent).ok("draft_reply", thread=desk["thread"], body="Dear Jane, **try this**.")
    page = web(acme.agent2).get(f"/acme/threads/{desk['thread']}/")
    html = page.content.decode()
    assert "Dear Jane, **try this**." in html  # in the reply box's textarea, not sent
    assert "Nothing has been sent" in html
    assert "assistant via token" in html
    from threads.models import Thread

    services.thread_reply_send(
        thread=Thread.objects.get(reference=desk["thread"]), author=acme.agent2, body="Sent."
    )
    assert not ReplyDraft.objects.exists()


def test_every_call_is_logged_with_a_digest_of_its_arguments(acme, desk, assistant):
    bot = assistant(acme.agent)
    bot.ok("get_ticket", ticket=desk["ticket"])
    bot.error("get_ticket", ticket="TKT-ACME-999")
    bot.error("get_thread", thread="THD-ACME-001", cursor="nope")
    calls = list(McpCall.objects.order_by("id"))
    assert [(c.tool, c.outcome) for c in calls] == [
        ("get_ticket", "ok"),
        ("get_ticket", "error"),
        ("get_thread", "error"),
    ]
    assert calls[0].token_label.startswith("assistant (tsk_")
    assert calls[0].organization == acme.org
    assert desk["ticket"] not in calls[0].arguments_digest
    assert len(calls[0].arguments_digest) == 64
    assert "No ticket 'TKT-ACME-999'" in calls[1].error


def test_a_token_past_its_rate_is_told_when_to_come_back(acme, desk, assistant, settings):
    settings.TISKET_MCP_RATE = "3/minute"
    bot = assistant(acme.agent)
    # The count is kept a minute at a time: the calls start at the top of one.
    minute = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(minute, tick=True):
        for _ in range(3):
            bot.ok("list_inboxes")
        assert "Rate limit of this token reached: try again in" in bot.error("list_inboxes")
    assert McpCall.objects.filter(outcome="throttled").count() == 1
    assistant(acme.agent2).ok("list_inboxes")  # another token has its own count


def test_a_token_revoked_between_calls_stops_at_the_next(acme, desk, mcp_url, transactional_db):
    token, key = api_token_create(membership=acme.agent, name="assistant")

    async def work(client):
        first = await client.call_tool("list_inboxes", {})
        await anyio.to_thread.run_sync(lambda: api_token_revoke(token=token))
        return first, await client.call_tool("list_inboxes", {})

    from tests.mcp.conftest import run_async, with_client

    with pytest.raises(ExceptionGroup) as raised:  # the client's task group: the 401 inside
        run_async(with_client, mcp_url, key, work)
    assert raised.group_contains(MCPError)
    assert McpCall.objects.filter(outcome="ok").count() == 1


def test_the_transcript_resource_and_the_prompt(acme, desk, assistant):
    async def work(client):
        templates = (await client.list_resource_templates()).resource_templates
        read = await client.read_resource(f"tisket://conversations/{desk['thread']}")
        prompt = await client.get_prompt("summarize_conversation", {"reference": desk["thread"]})
        return templates, read, prompt

    templates, read, prompt = assistant(acme.viewer).run(work)
    assert sorted(t.uri_template for t in templates) == [
        "tisket://conversations/{reference}",
        "tisket://kb/articles/{slug}",
    ]
    text = read.contents[0].text
    assert "<untrusted>\nHello, I cannot log in" in text
    assert desk["thread"] in prompt.messages[0].content.text
    # Reads and prompts are in the call log like tools, the reference only as a digest.
    logged = list(McpCall.objects.order_by("id").values_list("tool", "outcome", "arguments_digest"))
    assert [(tool, outcome) for tool, outcome, _ in logged] == [
        ("read tisket://conversations", "ok"),
        ("prompt summarize_conversation", "ok"),
    ]
    assert all(desk["thread"] not in digest for _, _, digest in logged)
