"""MCP benchmark: get_thread and search_conversations over streamable HTTP, at scale.

The conversations are the queue benchmark's (COPY on PostgreSQL; four in five with a
ticket), BENCH_MCP_THREADS of them (default 100,000; 1,000,000 is the target size and
takes long to write). The 200 threads that get_thread reads get three messages each
(a client's question with a link, the desk's answer, the client's reply). The server is
the ASGI entry (config.asgi) under uvicorn, one worker, in a process of its own; the
client is the SDK's, over one HTTP connection, with an agent's token. Each figure is
the client's wall time of one tools/call, the first 20 calls of each kind not counted.

BENCH_MCP_KEEP=1 measures again a database a last run left at that size, its own or the
queue benchmark's (BENCH_MCP_DATABASE=tisket_bench_queue: the same conversations), without
writing them anew.

Needs DATABASE_URL (PostgreSQL); it creates its own database.
"""

import os
import random
import subprocess
import sys
import tempfile
import time

import anyio

from tests.bench.bench_queue import _generate, _organization, kept, kept_organization
from tests.bench.support import ROOT, bench_database_url, recreate_database, setup_django

CALLS = 200
WARM = 20
CHUNK = 110_000


def log(message: str) -> None:
    print(f"[mcp] {message}", file=sys.stderr, flush=True)


def _messages(organization, references: list[str]) -> None:
    from threads.models import Message, Thread

    rows = []
    threads = Thread.objects.filter(organization=organization, reference__in=references)
    for thread in threads.filter(messages__isnull=True):  # a kept database has them already
        for n, (direction, text) in enumerate(
            [
                ("inbound", "Hello, my invoice is wrong: see https://example.com/i?id=42"),
                ("outbound", "Thanks, we are looking into it."),
                ("inbound", "Any news? ![screenshot](https://example.com/s.png)"),
            ]
        ):
            rows.append(
                Message(
                    organization=organization,
                    thread=thread,
                    direction=direction,
                    from_email=thread.client_email if direction == "inbound" else "",
                    subject=thread.subject,
                    text=text,
                    visible_text=text,
                    dedupe_key=f"bench-{thread.pk}-{n}",
                    message_id=f"<bench-{thread.pk}-{n}@example.com>",
                )
            )
    Message.objects.bulk_create(rows)


async def _session(url: str, key: str, calls: list[tuple[str, dict]]) -> dict[str, list[float]]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    timings: dict[str, list[float]] = {"get_thread": [], "search_conversations": []}
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=120) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        for n, (tool, arguments) in enumerate(calls):
            began = time.perf_counter()
            result = await client.call_tool(tool, arguments)
            elapsed = (time.perf_counter() - began) * 1000
            if result.is_error:
                sys.exit(f"bench mcp: {tool} {arguments} failed: {result.content[0].text}")
            if n >= 2 * WARM:
                timings[tool].append(elapsed)
    return timings


def _calls(threads: int) -> tuple[list[tuple[str, dict]], list[str]]:
    rng = random.Random(11)
    first = 1_000_000 - threads + 1
    targets = [f"THD-BENCH-{rng.randrange(first, 1_000_001):03d}" for _ in range(CALLS)]
    calls = []
    for n in range(CALLS + WARM):
        reference = targets[n % CALLS]
        number = int(reference.rsplit("-", 1)[1])
        calls.append(("get_thread", {"thread": reference}))
        query = [
            reference,
            f"client{number % 50_000}@example.com",
            f"Question {number - rng.randrange(min(threads, 900_000))}",
        ][n % 3]
        calls.append(("search_conversations", {"query": query, "status": "all"}))
    return calls, targets


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    threads = int(os.environ.get("BENCH_MCP_THREADS", "100000"))
    url = bench_database_url("mcp", os.environ.get("BENCH_MCP_DATABASE", "tisket_bench_mcp"))
    keep = os.environ.get("BENCH_MCP_KEEP") == "1"
    if keep and not kept(url, threads):
        sys.exit(f"bench mcp: no database of {threads:,} threads to keep; run without KEEP")
    if not keep:
        recreate_database(url)
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir, DB_CONN_MAX_AGE="600")
        from tisket.services import api_token_create

        if keep:
            organization, agents, inboxes, queues = kept_organization()
            log(f"{threads:,} threads kept")
        else:
            organization, agents, inboxes, queues = _organization()
            log(f"{threads:,} threads (COPY)")
        first = 1_000_000 - threads + 1
        for start in range(first, 1_000_001, CHUNK) if not keep else ():
            count = min(CHUNK, 1_000_001 - start)
            _generate(url, organization, agents, inboxes, queues, start, count)
            log(f"  {start + count - 1 - first + 1:,} written")
        calls, targets = _calls(threads)
        _messages(organization, targets)
        key = api_token_create(membership=agents[0], name="bench assistant")[1]
        port = 8700 + os.getpid() % 200
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port),
             "--log-level", "warning", "--lifespan", "on", "--no-access-log"],
            cwd=ROOT, env=os.environ | {"TISKET_MCP_RATE": "100000/minute"},
        )  # fmt: skip
        try:
            time.sleep(1)
            deadline = time.monotonic() + 120
            while True:
                try:
                    timings = anyio.run(_session, f"http://127.0.0.1:{port}/mcp", key, calls)
                    break
                except Exception:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(1)
        finally:
            server.terminate()
            server.wait(timeout=30)
    get_p95, search_p95 = _p95(timings["get_thread"]), _p95(timings["search_conversations"])
    log(f"get_thread p95 {get_p95:.1f} ms, search_conversations p95 {search_p95:.1f} ms")
    print(
        f"BENCH mcp threads={threads} kept={int(keep)} calls={len(timings['get_thread'])} "
        f"p95_ms={max(get_p95, search_p95):.1f} get_thread_p95_ms={get_p95:.1f} "
        f"search_p95_ms={search_p95:.1f} "
        f"get_thread_p50_ms={sorted(timings['get_thread'])[len(timings['get_thread']) // 2]:.1f}"
    )
