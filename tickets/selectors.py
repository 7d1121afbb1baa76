from dataclasses import dataclass, replace
from datetime import datetime

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from threads.models import OutboundMail, Thread
from tickets import sla, visibility
from tickets.models import (
    Macro,
    Note,
    Queue,
    QueueMember,
    ThreadRead,
    Ticket,
    TicketEvent,
    TicketThread,
)
from tickets.search import search_filter, search_read, search_statuses
from tisket.errors import TisketError
from tisket.lib.params import id_param
from tisket.models import Membership, Organization


def queues_list(*, organization: Organization) -> QuerySet[Queue]:
    return Queue.objects.filter(organization=organization).prefetch_related(
        Prefetch(
            "queue_members",
            queryset=QueueMember.objects.select_related("membership__user").order_by("id"),
        ),
        "inboxes",
    )


def queue_get(*, organization: Organization, pk: int) -> Queue:
    try:
        return queues_list(organization=organization).get(pk=pk)
    except (Queue.DoesNotExist, ValueError, TypeError):
        raise Http404("No such queue.") from None


SLA_STATES = ("on_track", "at_risk", "breached", "paused")


def tickets_list(
    *,
    organization: Organization,
    me: Membership | None = None,
    status: str = "",
    priority: str = "",
    queue: str = "",
    assignee: str = "",
    tag: str = "",
    sla_state: str = "",
    updated_since: datetime | None = None,
    thread: str = "",
    viewer: Membership | None = None,
) -> QuerySet[Ticket]:
    """The organization's tickets, filtered; `viewer` narrows them to what that member sees."""
    tickets = Ticket.objects.filter(organization=organization).select_related(
        "queue", "assignee__user", "sla_policy"
    )
    if (scope := visibility.ticket_scope(viewer)) is not None:
        tickets = tickets.filter(scope)
    if status:
        tickets = tickets.filter(status__in=status.split(","))
    if priority:
        tickets = tickets.filter(priority__in=priority.split(","))
    if queue:
        tickets = tickets.filter(queue_id=int(queue)) if id_param(queue) else tickets.none()
    if assignee == "me":
        tickets = tickets.filter(assignee=me)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = (
            tickets.filter(assignee_id=int(assignee)) if id_param(assignee) else tickets.none()
        )
    if tag:
        tickets = tickets.filter(tags__name=" ".join(tag.strip().lower().split()))
    if updated_since is not None:
        tickets = tickets.filter(updated_at__gte=updated_since)
    if thread:
        tickets = tickets.filter(thread_links__thread__reference=thread.strip().upper())
    if sla_state:
        if sla_state not in SLA_STATES:
            raise TisketError(f"sla: use one of {', '.join(SLA_STATES)}.")
        tickets = tickets.filter(sla.sla_state_q(sla_state, timezone.now()))
    return tickets.prefetch_related(
        Prefetch("thread_links", queryset=TicketThread.objects.select_related("thread")),
        "tags",
    )


def ticket_get(
    *, organization: Organization, reference: str, viewer: Membership | None = None
) -> Ticket:
    try:
        return tickets_list(organization=organization, viewer=viewer).get(
            reference=reference.upper()
        )
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None


TICKET_PICKS = 8


def tickets_to_link(*, organization: Organization, viewer: Membership, text: str) -> list[Ticket]:
    """The tickets a conversation could join, for a picker: by reference (or its start, or its
    number) or by words of the subject; those the member sees, merged ones left out, open ones
    first, then the latest."""
    text = " ".join(text.split())
    if not text:
        return []
    tickets = Ticket.objects.filter(organization=organization, merged_into__isnull=True)
    if (scope := visibility.ticket_scope(viewer)) is not None:
        tickets = tickets.filter(scope)
    if text.upper().startswith("TKT-"):
        tickets = tickets.filter(reference__startswith=text.upper())
    elif text.isdecimal():  # what int() reads: "²" is a digit, not a number
        tickets = tickets.filter(number=int(text))
    else:
        for word in text.split()[:5]:
            tickets = tickets.filter(subject__icontains=word)
    closed = [Ticket.Status.RESOLVED, Ticket.Status.CLOSED]
    return list(
        tickets.annotate(done=Case(When(status__in=closed, then=1), default=0))
        .order_by("done", "-updated_at", "-id")
        .only("reference", "subject", "status", "updated_at")[:TICKET_PICKS]
    )


def macros_list(*, organization: Organization) -> QuerySet[Macro]:
    return Macro.objects.filter(organization=organization).order_by("name", "id")


def ticket_for_thread(*, organization: Organization, thread_id: int) -> Ticket | None:
    """The ticket a thread belongs to, with what its side panel shows, or None."""
    return (
        Ticket.objects.filter(organization=organization, thread_links__thread_id=thread_id)
        .select_related("queue", "assignee__user", "parent", "sla_policy", "merged_into")
        .prefetch_related("tags")
        .first()
    )


def notes_list(*, ticket: Ticket) -> QuerySet[Note]:
    return Note.objects.filter(ticket=ticket).select_related("author__user")


def events_list(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor__user")


# The agent's queue --------------------------------------------------------------

UNRESOLVED = ["new", "open", "in_progress", "waiting_on_customer"]
# A linked thread carries its ticket's status in coarser terms (tickets.services
# keeps it so): the queue narrows on the thread's own column, without a join.
THREAD_STATUS_FOR = {
    "new": "open",
    "open": "open",
    "in_progress": "in_progress",
    "waiting_on_customer": "in_progress",
    "resolved": "resolved",
    "closed": "closed",
}
QUEUE_PAGE = 50
QUEUE_THREAD_FIELDS = (
    "organization_id",
    "inbox_id",
    "reference",
    "subject",
    "status",
    "client_email",
    "client_name",
    "message_count",
    "updated_at",
    "last_inbound_at",
    "client_replied_last",
)
QUEUE_TICKET_FIELDS = (
    "organization_id",
    "reference",
    "status",
    "priority",
    "queue_id",
    "assignee_id",
    "sla_due_at",
    "sla_warn_at",
    "sla_paused_at",
)


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows; every field comes from the query string."""

    inbox: int | None = None
    queue: int | None = None
    statuses: tuple[str, ...] = tuple(UNRESOLVED)
    priorities: tuple[str, ...] = ()
    assignee: str = ""  # "me", "none" or a membership id
    sla: str = ""
    tag: str = ""
    category: str = ""
    q: str = ""
    delivery: str = ""  # "failed": conversations with a mail that did not reach its client
    sort: str = ""  # a key of SORTS, "-" before it for the other way; blank: latest activity


TICKET = "ticket_link__ticket__"
PRIORITY_RANK = Case(
    *(
        When(**{f"{TICKET}priority": p}, then=Value(n))
        for n, p in enumerate(Ticket.Priority.values)
    ),
    default=Value(len(Ticket.Priority.values)),
)
# Each column of the queue, in the order it sorts ascending; ties by newest activity.
SORTS = {
    "updated": (F("updated_at").asc(),),
    "subject": (Lower("subject").asc(),),
    "client": (Lower("client_name").asc(), F("client_email").asc()),
    "status": (F("status").asc(), F(f"{TICKET}status").asc(nulls_last=True)),
    "priority": (PRIORITY_RANK.asc(),),  # most urgent first
    "assignee": (Lower(f"{TICKET}assignee__user__full_name").asc(nulls_last=True),),
    "sla": (F(f"{TICKET}sla_due_at").asc(nulls_last=True),),
}

TICKET_SORTS = {"status", "priority", "assignee", "sla"}


def queue_order(sort: str) -> list:
    """ORDER BY for a sort key ("sla", "-priority"); unknown keys raise TisketError."""
    key = sort.removeprefix("-")
    if key not in SORTS:
        raise TisketError(f"sort: use one of {', '.join(SORTS)} (with - for the other way).")
    columns = [c.copy() for c in SORTS[key]]
    if sort.startswith("-"):
        for column in columns:
            column.reverse_ordering()
    return [*columns, F("updated_at").desc(), F("id").desc()]


# A mail that did not leave, or that the provider reports bounced or rejected.
DELIVERY_FAILED = Q(status=OutboundMail.Status.FAILED) | Q(
    delivery_event__in=("bounced", "rejected", "failed")
)


def _ticket_conditions(
    filters: QueueFilters, me: Membership, now: datetime, *, joined: bool = False
) -> Q | None:
    """The filters that only a thread's ticket can answer, or None when there are none.

    joined: the ticket is joined to sort by its columns; the statuses are said on it too.
    """
    conditions = Q()
    if filters.queue:
        conditions &= Q(queue_id=filters.queue)
    if filters.priorities:
        conditions &= Q(priority__in=filters.priorities)
    if filters.assignee == "me":
        conditions &= Q(assignee=me)
    elif filters.assignee == "none":
        conditions &= Q(assignee__isnull=True)
    elif id_param(filters.assignee) is not None:
        conditions &= Q(assignee_id=int(filters.assignee))
    if filters.sla:
        if filters.sla not in SLA_STATES:
            raise TisketError(f"sla: use one of {', '.join(SLA_STATES)}.")
        conditions &= sla.sla_state_q(filters.sla, now)
    if filters.tag:
        conditions &= Q(tags__name=filters.tag.strip().lower())
    if filters.category:
        conditions &= Q(category__iexact=filters.category)
    statuses = set(filters.statuses)
    coarse = {THREAD_STATUS_FOR[s] for s in statuses}
    covered = {t for t, c in THREAD_STATUS_FOR.items() if c in coarse}
    # The thread's column decides alone when the statuses cover its coarse ones exactly.
    if statuses and statuses != covered:
        conditions &= Q(status__in=statuses)
    elif statuses and conditions.children and joined:
        # Said again on the ticket (a linked thread's status follows its ticket's), so
        # that the database can find, say, "mine and unresolved" from the ticket's index.
        conditions &= Q(status__in=covered)
    return conditions if conditions.children else None


def _through_ticket(condition: Q) -> Q:
    """The same condition on a thread, reaching its ticket through the link."""
    children = [
        _through_ticket(child) if isinstance(child, Q) else (TICKET + child[0], child[1])
        for child in condition.children
    ]
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


def queue_threads(
    *,
    organization: Organization,
    me: Membership,
    filters: QueueFilters,
    after: tuple[datetime, int] | None = None,
    now: datetime | None = None,
) -> QuerySet[Thread]:
    """Conversations with their ticket, newest activity first, keyset-paginated.

    The thread's own columns (status, inbox, activity) narrow first; filters
    on the ticket (queue, priority, assignee, SLA, tag, a finer status) are a
    semi-join on the organization's tickets, so the database can start from
    whichever side is more selective.
    """
    parsed = search_read(filters.q) if filters.q.strip() else None
    if parsed is not None and (statuses := search_statuses(parsed)) is not None:
        filters = replace(filters, statuses=statuses)
    threads = Thread.objects.filter(organization=organization)
    if (scope := visibility.thread_scope(me)) is not None:
        threads = threads.filter(scope)
    if filters.inbox:
        threads = threads.filter(inbox_id=filters.inbox)
    if filters.statuses:
        threads = threads.filter(status__in={THREAD_STATUS_FOR[s] for s in filters.statuses})
    # Sorted by a ticket's column, every candidate is read and sorted anyway: the ticket
    # is joined and filtered as one, so that the database may start from its indexes
    # ("mine" by SLA: the agent's unresolved tickets). Sorted by activity, the thread's
    # index walks the page in order and the ticket conditions are a semi-join.
    joined = filters.sort.removeprefix("-") in TICKET_SORTS and not filters.tag
    conditions = _ticket_conditions(filters, me, now or timezone.now(), joined=joined)
    if conditions is not None and joined:
        threads = threads.filter(
            _through_ticket(conditions), **{f"{TICKET}organization": organization}
        )
    elif conditions is not None:
        tickets = Ticket.objects.filter(conditions, organization=organization)
        threads = threads.filter(
            pk__in=TicketThread.objects.filter(ticket__in=tickets).values("thread_id")
        )
    if filters.delivery == "failed":
        threads = threads.filter(
            pk__in=OutboundMail.objects.filter(DELIVERY_FAILED, organization=organization)
            .exclude(thread_id=None)
            .values("thread_id")
        )
    if parsed is not None:
        threads = search_filter(threads, organization=organization, parsed=parsed)
    if filters.sort and filters.sort != "-updated":
        return threads.order_by(*queue_order(filters.sort))
    if after is not None:
        updated_at, pk = after
        threads = threads.filter(Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk))
    return threads.order_by("-updated_at", "-id")


def queue_page(
    threads: QuerySet[Thread], limit: int, *, me: Membership | None = None
) -> list[Thread]:
    """One page of the queue: the ids first, in a lean query; then those rows in full.

    Finding the page needs only the thread's columns and the ticket semi-join;
    the joins that draw a row (inbox, ticket, assignee, queue, tags) are made
    for the page's rows alone, never for every candidate.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A top-N read in index order: parallel workers cost more to start than the
            # whole read (tens of ms under load), whatever the planner estimates.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        keys = list(threads.values_list("pk", flat=True)[:limit])
    ticket = "ticket_link__ticket__"
    rows = (
        Thread.objects.filter(pk__in=keys)
        .select_related("inbox", f"{ticket}assignee__user", f"{ticket}queue")
        .only(  # a row's own columns: no mail bodies, descriptions or inbox secrets
            *QUEUE_THREAD_FIELDS,
            "inbox__name",
            "inbox__color",
            "ticket_link__thread_id",
            "ticket_link__ticket_id",
            *(ticket + name for name in QUEUE_TICKET_FIELDS),
            f"{ticket}queue__name",
            f"{ticket}assignee__user_id",
            f"{ticket}assignee__user__full_name",
            f"{ticket}assignee__user__email",
        )
    )
    rows = rows.annotate(
        delivery_failed=Exists(OutboundMail.objects.filter(DELIVERY_FAILED, thread=OuterRef("pk")))
    )
    if me is not None:
        # Unread: the client wrote after this member last opened the conversation.
        read = ThreadRead.objects.filter(
            membership=me, thread=OuterRef("pk"), read_at__gte=OuterRef("last_inbound_at")
        )
        rows = rows.annotate(
            unread=ExpressionWrapper(
                Q(last_inbound_at__isnull=False) & ~Exists(read), output_field=BooleanField()
            )
        )
    by_key = {thread.pk: thread for thread in rows.prefetch_related("ticket_link__ticket__tags")}
    return [by_key[key] for key in keys if key in by_key]


def counts_capped(querysets: dict[str, QuerySet]) -> dict[str, int]:
    """Each queryset's row count, in one round trip: `SELECT (SELECT count(*) FROM (...)), ...`.

    Every queryset should carry its own LIMIT: each count then stops where it is read."""
    if not querysets:
        return {}
    parts, params = [], []
    for queryset in querysets.values():
        sql, values = queryset.query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS counted)")  # noqa: S608  compiled SQL
        params += values
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))
