"""Tickets: internal work items in queues, with an append-only event trail."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from sla.models import Metric, SlaPolicy
from threads.models import Thread
from tisket.lib.templating import TemplateError, template_check
from tisket.models import Membership, Organization


class Queue(models.Model):
    """Where tickets wait for an agent; its members are the agents who work it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="queues")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(
        Membership, blank=True, through="QueueMember", related_name="queues"
    )
    inboxes = models.ManyToManyField(
        "inboxes.Inbox",
        blank=True,
        related_name="+",
        help_text="New threads of these inboxes open their tickets in this queue.",
    )
    auto_assign = models.BooleanField(
        default=False, help_text="Assign new tickets round-robin among the queue's agents."
    )
    open_ticket_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Round-robin skips agents holding this many open tickets; blank: no cap.",
    )
    is_default = models.BooleanField(
        default=False,
        help_text="New conversations of inboxes that feed no other queue open their tickets here.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="queue_name_unique"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True),
                name="queue_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QueueMember(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="queue_members")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "membership"], name="queue_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} in {self.queue_id}"


class Tag(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="tag_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """An internal work item, referenced as TKT-<ORGCODE>-<SEQ>."""

    class Priority(models.TextChoices):
        URGENT = "urgent", "Urgent"
        HIGH = "high", "High"
        NORMAL = "normal", "Normal"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Via(models.TextChoices):
        EMAIL = "email", "Email"
        WEB = "web", "Web"
        API = "api", "API"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tickets")
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=40, unique=True)
    subject = models.CharField(max_length=998)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    created_via = models.CharField(max_length=10, choices=Via.choices, default=Via.WEB)
    customer_email = models.CharField(max_length=320, blank=True)
    customer_organization = models.CharField(max_length=200, blank=True)
    tags = models.ManyToManyField("Tag", blank=True, related_name="tickets")
    reopen_count = models.PositiveIntegerField(default=0)
    status_before_incident = models.CharField(
        max_length=24,
        blank=True,
        help_text="The status this ticket had when its incident resolved it, restored on unlink.",
    )
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # SLA clocks (tickets.sla keeps them). Each metric has its deadline and its
    # alert: the instant the sweep acts next, at 75 % of the target (warning)
    # and then at the deadline (breach); null once breached or stopped.
    sla_policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    sla_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Start of the resolution clock: creation or reopen."
    )
    sla_paused_at = models.DateTimeField(
        null=True, blank=True, help_text="Since when the clocks wait on the customer."
    )
    sla_pauses = models.JSONField(
        default=list, blank=True, help_text="Finished pauses since the clocks started."
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_alert_at = models.DateTimeField(null=True, blank=True)
    next_response_started_at = models.DateTimeField(
        null=True, blank=True, help_text="The client message waiting for an answer."
    )
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_alert_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_alert_at = models.DateTimeField(null=True, blank=True)
    sla_warn_at = models.DateTimeField(
        null=True, blank=True, help_text="The first 75 % point of the running clocks: at risk."
    )
    sla_due_at = models.DateTimeField(
        null=True, blank=True, help_text="The first deadline of the running clocks: breached."
    )
    sla_computed_at = models.DateTimeField(
        null=True, blank=True, help_text="When these deadlines were computed from the policy."
    )
    # A supervisor's deadline, in place of the policy's for every running clock until the
    # ticket resolves (a reopen starts the policy's clocks again).
    sla_override_due_at = models.DateTimeField(
        null=True, blank=True, help_text="A supervisor's deadline, in place of the policy's."
    )
    sla_override_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the deadline was overridden: the warning counts from it.",
    )
    sla_override_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ticket_number_unique")
        ]
        indexes = [
            # The SLA sweep's claims: only running, unpaused clocks are in them.
            *(
                models.Index(
                    fields=[f"{metric}_alert_at"],
                    name=f"ticket_sla_{metric}",
                    condition=models.Q(
                        **{f"{metric}_alert_at__isnull": False}, sla_paused_at__isnull=True
                    ),
                )
                for metric in ("first_response", "next_response", "resolution")
            ),
            # The queue and the summary find tickets by SLA state with these ranges.
            models.Index(
                fields=["organization", "sla_due_at"],
                name="ticket_sla_due",
                condition=models.Q(sla_due_at__isnull=False),
            ),
            models.Index(
                fields=["organization", "sla_warn_at"],
                name="ticket_sla_warn",
                condition=models.Q(sla_warn_at__isnull=False),
            ),
            models.Index(fields=["organization", "-updated_at", "-id"], name="ticket_org_updated"),
            models.Index(
                fields=["organization", "status", "-updated_at", "-id"], name="ticket_org_status"
            ),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            # The sweep's catch-up after a policy or calendar change: per policy, by age.
            models.Index(fields=["sla_policy", "sla_computed_at"], name="ticket_sla_computed"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.RESOLVED, self.Status.CLOSED)


OPEN_STATUSES = [
    Ticket.Status.NEW,
    Ticket.Status.OPEN,
    Ticket.Status.IN_PROGRESS,
    Ticket.Status.WAITING_ON_CUSTOMER,
]


def ticket_reference(*, code: str, number: int) -> str:
    return f"TKT-{code}-{number:03d}"


class TicketThread(models.Model):
    """A thread linked to a ticket; a thread belongs to one ticket at most."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="thread_links")
    thread = models.OneToOneField(Thread, on_delete=models.CASCADE, related_name="ticket_link")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.ticket_id} <-> {self.thread_id}"


class Note(models.Model):
    """An internal note: never shown or sent to a client."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on {self.ticket_id}"


class TicketEvent(models.Model):
    """One change to a ticket. Append-only: the timeline, the audit log and reports read it."""

    class Kind(models.TextChoices):
        CREATED = "created"
        ASSIGNED = "assigned"
        STATUS = "status"
        PRIORITY = "priority"
        QUEUE = "queue"
        TAGS = "tags"
        LINKED = "linked"
        UNLINKED = "unlinked"
        MERGED = "merged"
        ESCALATED = "escalated"
        NOTE_ADDED = "note_added"
        REPLY_SENT = "reply_sent"
        CLIENT_REPLIED = "client_replied"
        UPDATED = "updated"
        INCIDENT_LINKED = "incident_linked"
        INCIDENT_UNLINKED = "incident_unlinked"
        MACRO_APPLIED = "macro_applied"
        RATED = "rated"
        SLA_WARNING = "sla_warning"
        SLA_BREACHED = "sla_breached"
        SLA_OVERRIDDEN = "sla_overridden"
        DRAFT_SAVED = "draft_saved"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="event_ticket_order")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class SlaBreach(models.Model):
    """A target missed: which clock of which ticket, when it was due, when the sweep saw it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_breaches")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    priority = models.CharField(max_length=10, choices=Ticket.Priority.choices)
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-breached_at", "-id"]
        verbose_name = "SLA breach"
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric", "due_at"], name="sla_breach_once")
        ]
        indexes = [models.Index(fields=["organization", "breached_at"], name="breach_org_time")]

    def __str__(self) -> str:
        return f"{self.metric} of {self.ticket_id} due {self.due_at:%Y-%m-%d %H:%M}"


MACRO_VARIABLES = (
    "client_name",
    "client_email",
    "thread.reference",
    "thread.subject",
    "ticket.reference",
    "ticket.subject",
    "ticket.priority",
    "ticket.status",
    "ticket.category",
    "agent_name",
    "organization.name",
)


def validate_macro_body(value: str) -> None:
    try:
        template_check(value, variables=MACRO_VARIABLES)
    except TemplateError as error:
        raise ValidationError(str(error)) from None


class Macro(models.Model):
    """A canned reply with variables, and actions applied with it in one go."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="macros")
    name = models.CharField(max_length=100)
    body = models.TextField(
        blank=True,
        help_text="Reply text; variables: {{ client_name }}, {{ client_email }}, "
        "{{ thread.reference }}, {{ ticket.reference }}, {{ ticket.subject }}, "
        "{{ ticket.priority }}, {{ ticket.status }}, {{ agent_name }}, {{ organization.name }}.",
    )
    actions = models.JSONField(
        default=dict,
        blank=True,
        help_text='e.g. {"status": "waiting_on_customer", "priority": "high", "queue": 3, '
        '"assignee": 12, "tags_add": ["billing"], "tags_remove": ["new"]}',
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="macro_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            validate_macro_body(self.body)
        except ValidationError as error:
            raise ValidationError({"body": error.messages}) from None


class Rating(models.Model):
    """A client's satisfaction rating of one resolution of a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ratings")
    resolution = models.PositiveIntegerField(help_text="0 for the first resolution, then 1, 2…")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "resolution"], name="rating_once"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 for {self.ticket_id}"


class SavedView(models.Model):
    """A named set of queue filters: a member's own, or shared with the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000, help_text="The queue's filters, as a query string.")
    shared = models.BooleanField(default=False, help_text="Everyone in the organization sees it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ThreadRead(models.Model):
    """Up to when a member has read a conversation: newer client mail shows it unread again."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "thread"], name="thread_read_unique")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} read {self.thread_id} at {self.read_at:%Y-%m-%d %H:%M}"


class ClientView(models.Model):
    """A member looking at a conversation as its client sees it: who, whom, why, when, how long."""

    LIFETIME_MINUTES = 30

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    client_email = models.EmailField()
    reason = models.CharField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member_id} as {self.client_email} on {self.thread_id}"

    def is_open(self, now=None) -> bool:
        return self.ended_at is None and self.expires_at > (now or timezone.now())


# Kept in a module of their own (this one would pass 500 lines); imported here so that
# `tickets.models.ReplyDraft` and the migrations' state stay as they were.
from tickets.models.extra import ReplyDraft, TicketCategory  # noqa: E402, F401
