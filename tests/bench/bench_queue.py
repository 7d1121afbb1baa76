"""Queue benchmark: the queue page and the queue API over 10,000 and then 1,000,000 threads.

BENCH_QUEUE_THREADS sets the larger size (1,000,000 by default) on a machine that
cannot hold a million in the time it has; the line printed says which size it was.
BENCH_QUEUE_KEEP=1 measures again the database the last run left at that size (after
a change to the queue's code, without writing a million rows again; the figures
at 10,000 are then those of the last full run, not measured).

The threads (four in five with a ticket: statuses, priorities, assignees, SLA
deadlines, the newest mostly unresolved and the old mostly resolved, as on a
real desk) are written with COPY on PostgreSQL. Each figure is the server
time of 200 requests through Django's full stack (middleware, view, template,
database), rotating through the filters an agent uses: unresolved, mine,
unassigned, urgent, an inbox, a queue, waiting on customer, SLA breached and
at risk, a search (a reference, a client's address, a word of a subject, over
every status), a search of what was written (words of the mails and notes, a
phrase, an operator), and the next page. Every conversation has a search
document of some forty words drawn from a vocabulary of 20,000 by Zipf's law, as
mail text is; searches ask for words of middling and rare frequency. The same requests run at
10,000 threads and at 1,000,000, so their ratio shows how the queue scales.

Needs DATABASE_URL (PostgreSQL); it creates its own database.
"""

import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import psycopg

from tests.bench.support import bench_database_url, recreate_database, setup_django

REQUESTS = 200
THREADS = int(os.environ.get("BENCH_QUEUE_THREADS", "1000000"))
VOCABULARY = 20_000
SYLLABLES = ["ka", "lo", "mi", "ner", "tus", "ba", "re", "sol", "vin", "dor", "pe", "qua"]


def word(rank: int) -> str:
    """The rank-th word of the vocabulary: made of syllables, so the parser sees words."""
    parts = []
    rank += len(SYLLABLES)
    while rank:
        rank, digit = divmod(rank, len(SYLLABLES))
        parts.append(SYLLABLES[digit])
    return "".join(parts)


ZIPF = [1 / (rank + 1) for rank in range(VOCABULARY)]
AGENTS = 20
TARGET_P95_MS = 50
TARGET_GROWTH = 1.5


def log(message: str) -> None:
    print(f"[queue] {message}", file=sys.stderr, flush=True)


def _organization():
    from inboxes.services import inbox_create
    from tickets.queues import queue_create
    from tisket import services
    from tisket.models import Membership, Role

    owner, _ = services.user_get_or_create(email="owner@bench.test", full_name="Owner")
    organization = services.organization_create(
        name="Bench", slug="bench", code="BENCH", owner=owner, timezone_name="UTC"
    )
    agents = []
    for n in range(AGENTS):
        user, _ = services.user_get_or_create(email=f"agent{n}@bench.test", full_name=f"Agent {n}")
        agents.append(
            Membership.objects.create(user=user, organization=organization, role=Role.AGENT)
        )
    inboxes = [inbox_create(organization=organization, name=f"box{n}") for n in range(4)]
    queues = [
        queue_create(organization=organization, name=f"Queue {n}", actor=None, inboxes=[box])
        for n, box in enumerate(inboxes)
    ]
    return organization, agents, inboxes, queues


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def _generate(url: str, organization, agents, inboxes, queues, first: int, count: int) -> None:
    """Threads numbered first..first+count-1, the highest number the most recent."""
    rng = random.Random(first)
    now = datetime.now(UTC)
    total = THREADS
    unresolved_status = ["new", "open", "in_progress", "waiting_on_customer"]
    from tickets.selectors import THREAD_STATUS_FOR

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM threads_thread")
        thread_id = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
        ticket_id = cursor.fetchone()[0]
        threads, tickets, links, documents = [], [], [], []
        for n in range(first, first + count):
            thread_id += 1
            age = timedelta(minutes=(total - n) * 0.5)  # one a half minute, back ~1 year
            moment = now - age
            recent = age < timedelta(days=7)
            box = rng.randrange(len(inboxes))
            unresolved = rng.random() < (0.8 if recent else 0.03)
            has_ticket = rng.random() < 0.8
            status = (
                rng.choice(unresolved_status) if unresolved else rng.choice(["resolved", "closed"])
            )
            if not has_ticket and status in ("new", "waiting_on_customer"):
                status = "open"
            thread_status = THREAD_STATUS_FOR[status]
            threads.append(
                (
                    thread_id,
                    organization.pk,
                    inboxes[box].pk,
                    n,
                    f"THD-BENCH-{n:03d}",
                    f"Question {n} about invoice {rng.randrange(10_000)}",
                    thread_status,
                    f"client{n % 50_000}@example.com",
                    f"Client {n % 50_000}",
                    rng.randrange(1, 8),
                    moment.isoformat(),
                    moment.isoformat(),
                    moment.isoformat(),
                    0,
                    moment.isoformat(),
                    "t" if unresolved and rng.random() < 0.5 else "f",
                )
            )
            body = " ".join(word(r) for r in rng.choices(range(VOCABULARY), ZIPF, k=40))
            # What the mails add: the sender's name and address, the subject, the words.
            documents.append(
                (
                    thread_id,
                    organization.pk,
                    f"client {n % 50_000} client{n % 50_000}@example.com "
                    f"question {n} about invoice {rng.randrange(10_000)} {body}",
                )
            )
            if not has_ticket:
                continue
            ticket_id += 1
            assignee = agents[rng.randrange(AGENTS)].pk if rng.random() < 0.85 else None
            due = moment + timedelta(hours=rng.choice([1, 4, 8, 24]))
            running = status in unresolved_status
            tickets.append(
                (
                    ticket_id,
                    organization.pk,
                    n,
                    f"TKT-BENCH-{n:03d}",
                    f"Question {n}",
                    "",
                    "",
                    rng.choices(["urgent", "high", "normal", "low"], [5, 15, 60, 20])[0],
                    status,
                    queues[box].pk,
                    assignee,
                    0,
                    "email",
                    f"client{n % 50_000}@example.com",
                    "",
                    0,
                    "",
                    "[]",
                    moment.isoformat(),
                    moment.isoformat(),
                    moment.isoformat() if running else None,
                    due.isoformat() if running else None,
                    (due - timedelta(minutes=30)).isoformat() if running else None,
                    now.isoformat() if status == "waiting_on_customer" else None,
                    (due - timedelta(minutes=30)).isoformat() if running else None,
                    due.isoformat() if running else None,
                    "",
                )
            )
            links.append((thread_id, ticket_id, thread_id, moment.isoformat()))
        _copy(
            cursor,
            "threads_thread",
            [
                "id",
                "organization_id",
                "inbox_id",
                "number",
                "reference",
                "subject",
                "status",
                "client_email",
                "client_name",
                "message_count",
                "created_at",
                "updated_at",
                "last_message_at",
                "client_link_version",
                "last_inbound_at",
                "client_replied_last",
            ],
            threads,
        )
        _copy(
            cursor,
            "tickets_ticket",
            [
                "id",
                "organization_id",
                "number",
                "reference",
                "subject",
                "description",
                "category",
                "priority",
                "status",
                "queue_id",
                "assignee_id",
                "escalation_level",
                "created_via",
                "customer_email",
                "customer_organization",
                "reopen_count",
                "status_before_incident",
                "sla_pauses",
                "created_at",
                "updated_at",
                "sla_started_at",
                "resolution_due_at",
                "resolution_alert_at",
                "sla_paused_at",
                "sla_warn_at",
                "sla_due_at",
                "sla_override_reason",
            ],
            tickets,
        )
        _copy(cursor, "tickets_ticketthread", ["id", "ticket_id", "thread_id", "created_at"], links)
        _copy(cursor, "threads_threadsearch", ["thread_id", "organization_id", "text"], documents)
        for table in ("threads_thread", "tickets_ticket", "tickets_ticketthread"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in (
            "threads_thread",
            "tickets_ticket",
            "tickets_ticketthread",
            "threads_threadsearch",
        ):
            conn.execute(f"VACUUM ANALYZE {table}")


def _requests(agents, inboxes, queues, last_number: int) -> list[tuple[str, str]]:
    """(path, who) pairs: the page and the API, with the filters agents use."""
    rng = random.Random(7)
    page_filters = [
        "",
        "assignee=me",
        "assignee=none",
        "priority=urgent",
        f"inbox={inboxes[1].pk}",
        f"queue={queues[2].pk}",
        "status=waiting_on_customer",
        "sla=breached",
        "sla=at_risk",
        "priority=high&assignee=me",
    ]
    requests = []
    for n in range(REQUESTS):
        if n % 10 == 4:  # words written in the mails and notes, a phrase, an operator
            middling, rare = word(rng.randrange(200, 2000)), word(rng.randrange(2000, 20_000))
            requests.append(
                (
                    [
                        f"/bench/?status=all&q={rare}",
                        f"/bench/?status=all&q={middling} {word(rng.randrange(200, 2000))}",
                        f'/bench/?status=all&q="question {last_number - rng.randrange(9000)}"',
                        f"/bench/?q={middling}",
                        f"/bench/?status=all&q={rare} status:resolved",
                    ][(n // 10) % 5],
                    "written",
                )
            )
        elif n % 10 == 9:  # a search: a reference, a client's address, a word, all statuses
            number = last_number - rng.randrange(1000)
            requests.append(
                (
                    [
                        f"/bench/?q=THD-BENCH-{number:03d}",
                        f"/bench/?status=all&q=client{number % 50_000}@example.com",
                        f"/bench/?status=all&q=Question {number - rng.randrange(900_000)} ",
                    ][(n // 10) % 3],
                    "page",
                )
            )
        elif n % 4 == 3:
            status = rng.choice(["open", "in_progress", "waiting_on_customer", "new"])
            requests.append((f"/api/v1/tickets/?status={status}", "api"))
        else:
            requests.append((f"/bench/?{page_filters[n % len(page_filters)]}", "page"))
    return requests


def _measure(organization, agents, requests) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tisket.services import api_token_create

    agent = agents[0]
    browser = Client()
    browser.force_login(agent.user)
    key = api_token_create(membership=agent, name="bench")[1]
    api = Client(headers={"authorization": f"Token {key}"})
    for path, who in requests[:20]:  # warm caches, templates and the connection
        (api if who == "api" else browser).get(path)
    timings: dict[str, list[float]] = {"page": [], "api": []}
    searches: list[float] = []
    written: list[float] = []
    queries: list[int] = []
    for path, who in requests:
        client = api if who == "api" else browser
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            sys.exit(f"bench queue: {path} answered {response.status_code}")
        timings["api" if who == "api" else "page"].append(elapsed)
        if "q=" in path:
            searches.append(elapsed)
        if who == "written":
            written.append(elapsed)
        if who != "api":
            queries.append(len(captured))
    everything = sorted(timings["page"] + timings["api"])
    return {
        "p50": statistics.median(everything),
        "p95": everything[int(len(everything) * 0.95) - 1],
        "page_p95": sorted(timings["page"])[int(len(timings["page"]) * 0.95) - 1],
        "api_p95": sorted(timings["api"])[int(len(timings["api"]) * 0.95) - 1],
        "queries": max(queries),
        "search_p95": sorted(searches)[int(len(searches) * 0.95) - 1],
        "body_search_p95": sorted(written)[int(len(written) * 0.95) - 1],
    }


def kept(url: str, threads: int = THREADS) -> bool:
    """Whether the last run left a database of this size to measure again."""
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM threads_thread t JOIN tisket_organization o"
                " ON o.id = t.organization_id WHERE o.slug = 'bench'"
            ).fetchone()
    except psycopg.Error:
        return False
    return row[0] == threads


def kept_organization():
    """What _organization() made, read back from a kept database."""
    from inboxes.models import Inbox
    from tickets.models import Queue
    from tisket.models import Membership, Organization

    organization = Organization.objects.get(slug="bench")
    agents = list(Membership.objects.filter(organization=organization, role="agent"))
    agents.sort(key=lambda member: member.pk)
    inboxes = list(Inbox.objects.filter(organization=organization).order_by("pk"))
    queues = list(Queue.objects.filter(organization=organization, name__startswith="Queue "))
    queues.sort(key=lambda queue: queue.pk)
    return organization, agents, inboxes, queues


def main_kept(url: str) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir, static=True, ALLOWED_HOSTS="testserver", DB_CONN_MAX_AGE="600")
        organization, agents, inboxes, queues = kept_organization()
        large = _measure(organization, agents, _requests(agents, inboxes, queues, THREADS))
        log(f"at {THREADS:,} (kept): p50 {large['p50']:.1f} ms, p95 {large['p95']:.1f} ms")
    print(
        f"BENCH queue threads={THREADS} kept=1 p50_ms={large['p50']:.1f} "
        f"p95_ms={large['p95']:.1f} queries={large['queries']} "
        f"page_p95_ms={large['page_p95']:.1f} api_p95_ms={large['api_p95']:.1f} "
        f"search_p95_ms={large['search_p95']:.1f} "
        f"body_search_p95_ms={large['body_search_p95']:.1f} "
        f"ratio_to_50ms={large['p95'] / TARGET_P95_MS:.2f}"
    )


def main() -> None:
    url = bench_database_url("queue", os.environ.get("BENCH_QUEUE_DATABASE", "tisket_bench_queue"))
    if os.environ.get("BENCH_QUEUE_KEEP") == "1":
        if not kept(url):
            sys.exit(f"bench queue: no database of {THREADS:,} threads to keep; run without KEEP")
        main_kept(url)
        return
    recreate_database(url)
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir, static=True, ALLOWED_HOSTS="testserver", DB_CONN_MAX_AGE="600")
        organization, agents, inboxes, queues = _organization()
        log("10,000 threads")
        _generate(url, organization, agents, inboxes, queues, THREADS - 9_999, 10_000)
        requests = _requests(agents, inboxes, queues, THREADS)
        small = _measure(organization, agents, requests)
        log(f"at 10k: p50 {small['p50']:.1f} ms, p95 {small['p95']:.1f} ms")
        log(f"{THREADS - 10_000:,} more threads (COPY)")
        for start in range(1, THREADS - 9_999, 110_000):
            count = min(110_000, THREADS - 10_000 - start + 1)
            _generate(url, organization, agents, inboxes, queues, start, count)
            log(f"  {start + count - 1:,} written")
        large = _measure(organization, agents, requests)
        log(f"at {THREADS:,}: p50 {large['p50']:.1f} ms, p95 {large['p95']:.1f} ms")
    print(
        f"BENCH queue threads={THREADS} p50_ms={large['p50']:.1f} p95_ms={large['p95']:.1f} "
        f"p95_ms_at_10k={small['p95']:.1f} queries={large['queries']} "
        f"page_p95_ms={large['page_p95']:.1f} api_p95_ms={large['api_p95']:.1f} "
        f"search_p95_ms={large['search_p95']:.1f} search_p95_ms_at_10k={small['search_p95']:.1f} "
        f"body_search_p95_ms={large['body_search_p95']:.1f} "
        f"body_search_p95_ms_at_10k={small['body_search_p95']:.1f} "
        f"growth_10k_to_1m={large['p95'] / small['p95']:.2f} "
        f"ratio_to_50ms={large['p95'] / TARGET_P95_MS:.2f} "
        f"ratio_to_1_5x={large['p95'] / small['p95'] / TARGET_GROWTH:.2f}"
    )
