"""The MCP server in processes of its own, as it is run: `manage.py mcp` over stdio, and
the ASGI entry under uvicorn over streamable HTTP; the SDK's client talks to each."""

import json
import sqlite3
import sys
from contextlib import closing

import pytest
from mcp import Client, StdioServerParameters

from tests.mcp.conftest import run_async, with_client
from tests.processes import READY_WITHIN, ROOT, django, installation, manage, running, wait
from tests.smtp import free_port

# The installation starts as a copy of the test database, which a test must have asked for.
pytestmark = pytest.mark.django_db

SETUP = """
import json
from inboxes.services import inbox_create
from tests.mail import make_mail
from threads.inbound import inbound_record
from tickets.intake import mail_process
from tisket import services

agent, _ = services.user_get_or_create(email="agent@acme.test")
org = services.organization_create(name="Acme", slug="acme", code="ACME", owner=agent)
inbox = inbox_create(organization=org, name="support", auto_ack_enabled=False)
mail, _ = inbound_record(raw=make_mail(to=inbox.address), source="test")
thread = mail_process(inbound_id=mail.pk).thread
member = agent.memberships.get()
_, write = services.api_token_create(membership=member, name="desk assistant")
_, read = services.api_token_create(membership=member, name="reader", scope="read")
print(json.dumps({"write": write, "read": read, "reference": thread.reference}))
"""


@pytest.fixture(scope="module")
def site(migrated_sqlite, tmp_path_factory) -> tuple[dict, dict]:
    env = installation(migrated_sqlite, tmp_path_factory.mktemp("mcp-site"))
    return env, json.loads(django(env, SETUP))


async def over_stdio(env: dict, key: str, reference: str) -> tuple[list[str], dict | None]:
    server = StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp"],
        env=env | {"TISKET_MCP_TOKEN": key},
        cwd=ROOT,
    )
    async with Client(server, read_timeout_seconds=READY_WITHIN) as client:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        thread = await client.call_tool("get_thread", {"thread": reference})
        if "draft_reply" in names:
            await client.call_tool("draft_reply", {"thread": reference, "body": "Try again."})
        return names, thread.structured_content


def test_manage_py_mcp_serves_the_tools_over_stdio_as_its_token(site):
    env, made = site
    names, thread = run_async(over_stdio, env, made["write"], made["reference"])
    assert "draft_reply" in names
    assert thread["messages"][0]["content"]["untrusted"] is True
    read_names, _ = run_async(over_stdio, env, made["read"], made["reference"])
    assert "draft_reply" not in read_names
    assert "get_thread" in read_names
    # What the servers stored, read from the installation's database file in this process.
    with closing(sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))) as db:
        [(via,)] = db.execute("SELECT via FROM tickets_replydraft").fetchall()
        [(calls,)] = db.execute("SELECT count(*) FROM tisket_mcpcall").fetchall()
    assert via.startswith("assistant via token desk assistant (tsk_")
    assert calls == 3  # get_thread twice, draft_reply once


def test_without_a_usable_token_the_command_says_why_in_one_line(site):
    env, _ = site
    for key in ("", "tsk_wrong"):
        done = manage_fails(env | {"TISKET_MCP_TOKEN": key})
        assert done.returncode != 0
        assert "TISKET_MCP_TOKEN" in done.stderr.strip().splitlines()[-1]


def manage_fails(env: dict):
    import subprocess

    return subprocess.run(
        [sys.executable, "manage.py", "mcp"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=READY_WITHIN,
    )  # fmt: skip


def test_the_asgi_entry_under_uvicorn_serves_the_site_and_the_tools(site):
    env, made = site
    port = free_port()
    args = ["-m", "uvicorn", "config.asgi:application", "--port", str(port), "--lifespan", "on"]
    with running(args, env | {"SITE_URL": f"http://127.0.0.1:{port}"}) as server:
        wait(lambda: "Application startup complete" in server.output, READY_WITHIN, "uvicorn")

        async def work(client):
            return await client.call_tool("get_thread", {"thread": made["reference"]})

        url = f"http://127.0.0.1:{port}/mcp"
        thread = run_async(with_client, url, made["read"], work)
        assert thread.structured_content["reference"] == made["reference"]
        manage(env, "check")  # the same installation, unchanged by serving
