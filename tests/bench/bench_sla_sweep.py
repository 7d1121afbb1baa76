"""SLA sweep benchmark: 100,000 open tickets of which 1 % are due, on PostgreSQL.

The sweep must take under a second, and its time must follow the due tickets,
not the open ones. So it is timed twice with the same 1,000 due tickets:
first among 10,000 open tickets, then among 100,000. Each due ticket is
assigned, so a sweep does all its work: claim, breach row, event,
notifications to the assignee and the supervisors, and their outbox mails.
Each figure is the median of three sweeps, the due tickets re-armed between.

Needs DATABASE_URL (PostgreSQL); it creates its own database.
"""

import statistics
import sys
import tempfile
import time
from datetime import timedelta

from tests.bench.support import bench_database_url, recreate_database, setup_django

DUE = 1000
LIMIT_SECONDS = 1.0
RUNS = 3


def log(message: str) -> None:
    print(f"[sla_sweep] {message}", file=sys.stderr, flush=True)


def _organization():
    from sla import services as sla_services
    from tisket import services
    from tisket.models import Membership, Role

    owner, _ = services.user_get_or_create(email="owner@bench.test", full_name="Owner")
    organization = services.organization_create(
        name="Bench", slug="bench", code="BENCH", owner=owner, timezone_name="UTC"
    )
    for n in range(10):
        user, _ = services.user_get_or_create(email=f"agent{n}@bench.test", full_name=f"A {n}")
        Membership.objects.create(user=user, organization=organization, role=Role.AGENT)
    user, _ = services.user_get_or_create(email="boss@bench.test", full_name="Boss")
    Membership.objects.create(user=user, organization=organization, role=Role.SUPERVISOR)
    calendar = sla_services.calendar_create(
        organization=organization, name="Always", always_open=True, timezone_name="UTC"
    )
    sla_services.policy_create(
        organization=organization,
        name="Standard",
        calendar=calendar,
        is_default=True,
        targets={"normal": {"first_response_minutes": 240, "resolution_minutes": 2880}},
    )
    return organization


def _insert(organization, first: int, count: int, *, due: int) -> None:
    """Open tickets numbered from `first`: the first `due` of them past their deadline."""
    from django.utils import timezone

    from sla.models import SlaPolicy
    from tickets.models import Ticket, ticket_reference
    from tisket.models import Membership

    now = timezone.now()
    policy = SlaPolicy.objects.get(organization=organization)
    agents = list(Membership.objects.filter(organization=organization, role="agent"))
    batch = []
    for n in range(first, first + count):
        is_due = n - first < due
        created = now - timedelta(hours=5) if is_due else now - timedelta(minutes=n % 120)
        first_due = created + timedelta(hours=4)
        batch.append(
            Ticket(
                organization=organization,
                number=n,
                reference=ticket_reference(code=organization.code, number=n),
                subject=f"Ticket {n}",
                status=Ticket.Status.OPEN,
                assignee=agents[n % len(agents)],
                sla_policy=policy,
                sla_started_at=created,
                created_at=created,
                updated_at=created,
                first_response_due_at=first_due,
                first_response_alert_at=first_due,  # warned already: a breach is due
                resolution_due_at=created + timedelta(hours=48),
                resolution_alert_at=created + timedelta(hours=36),
            )
        )
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    Ticket.objects.bulk_create(batch)


def _rearm(organization, numbers: range) -> None:
    """Put the due tickets back before their breach, and drop what the last sweep wrote."""
    from django.db.models import F

    from threads.models import OutboundMail
    from tickets.models import SlaBreach, Ticket, TicketEvent
    from tisket.models import Notification

    SlaBreach.objects.all().delete()
    TicketEvent.objects.all().delete()
    Notification.objects.all().delete()
    OutboundMail.objects.all().delete()
    Ticket.objects.filter(organization=organization, number__in=numbers).update(
        first_response_alert_at=F("first_response_due_at")
    )


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")


def _time_sweeps(organization, numbers: range) -> float:
    from tickets.sla import sla_sweep

    timings = []
    for _ in range(RUNS):
        _rearm(organization, numbers)
        _analyze()
        began = time.perf_counter()
        result = sla_sweep()
        timings.append(time.perf_counter() - began)
        if result.breaches != DUE:
            sys.exit(f"bench sla_sweep: expected {DUE} breaches, the sweep found {result.breaches}")
    return statistics.median(timings)


def main() -> None:
    url = bench_database_url("sla_sweep", "tisket_bench_sla")
    recreate_database(url)
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir)
        organization = _organization()
        log("10,000 open tickets, 1,000 of them due")
        _insert(organization, 1, 10_000, due=DUE)
        due_numbers = range(1, DUE + 1)
        at_10k = _time_sweeps(organization, due_numbers)
        log(f"sweep at 10k open: {at_10k * 1000:.0f} ms")
        log("90,000 more open tickets, none due")
        _insert(organization, 10_001, 90_000, due=0)
        at_100k = _time_sweeps(organization, due_numbers)
        log(f"sweep at 100k open: {at_100k * 1000:.0f} ms")
    print(
        f"BENCH sla_sweep open=100000 due={DUE} seconds={at_100k:.3f} "
        f"seconds_at_10k_open={at_10k:.3f} growth_10k_to_100k={at_100k / at_10k:.2f} "
        f"limit_seconds={LIMIT_SECONDS:g} ratio_to_limit={at_100k / LIMIT_SECONDS:.2f}"
    )
