"""The MCP server under test: the ASGI entry served by uvicorn on a thread, on the test
database, and the SDK's own client talking to it over streamable HTTP.

The tests that use it take `transactional_db`: the server's threads read with their own
connections, so what a test writes must be committed for them to see it.
"""

import concurrent.futures
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from tests.processes import READY_WITHIN, wait
from tests.smtp import free_port
from tests.tisket.foreign import foreign  # noqa: F401 (the other organization's objects)
from tests.tisket.test_agent_groups import groups  # noqa: F401 (a grouped agent's desk)
from tisket import services
from tisket.models import Membership


def run_async(func, *args):
    """anyio.run in a thread of its own: a browser test's event loop may own this one."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, func, *args).result()


@pytest.fixture(scope="session")
def mcp_url() -> str:
    from django.db import connections

    from config.asgi import Application

    # The server's threads close their connections after each call, so none is left
    # open on the test database when it is dropped.
    connections["default"].settings_dict["CONN_MAX_AGE"] = 0
    port = free_port()
    config = uvicorn.Config(
        Application(), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait(lambda: server.started, timeout=READY_WITHIN, what="uvicorn serving")
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(timeout=10)


def token_key(membership: Membership, *, role: str = "", scope: str = "write") -> str:
    return services.api_token_create(
        membership=membership, name="assistant", role=role, scope=scope
    )[1]


async def with_client(url: str, key: str, work: Callable[[Client], Awaitable[Any]]) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return await work(client)


class Assistant:
    """One token's view of the server, through the SDK's client."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def run(self, work: Callable[[Client], Awaitable[Any]]) -> Any:
        return run_async(with_client, self.url, self.key, work)

    def tools(self) -> list[str]:
        async def work(client: Client) -> list[str]:
            return sorted(t.name for t in (await client.list_tools()).tools)

        return self.run(work)

    def call(self, tool: str, **arguments) -> CallToolResult:
        async def work(client: Client) -> CallToolResult:
            return await client.call_tool(tool, arguments)

        return self.run(work)

    def ok(self, tool: str, **arguments) -> dict:
        """The tool's answer, which must not be an error."""
        result = self.call(tool, **arguments)
        assert not result.is_error, result.content[0].text
        return result.structured_content or json.loads(result.content[0].text)

    def error(self, tool: str, **arguments) -> str:
        """The tool's error message, which there must be."""
        result = self.call(tool, **arguments)
        assert result.is_error, f"{tool} did not fail: {result.content[0].text[:300]}"
        return result.content[0].text


@pytest.fixture
def assistant(mcp_url, transactional_db) -> Callable[..., Assistant]:
    def make(membership: Membership, *, role: str = "", scope: str = "write") -> Assistant:
        return Assistant(mcp_url, token_key(membership, role=role, scope=scope))

    return make
