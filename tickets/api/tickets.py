"""REST API of tickets: list, create, change, assign, notes, events, links, incidents, merge,
SLA override."""

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from threads.selectors import thread_get
from tickets import selectors, services, sla, visibility, workflows
from tickets.api.common import TicketsApiMixin
from tickets.models import Note, Ticket, TicketEvent
from tickets.sla.override import ticket_sla_override
from tisket.api_pagination import CursorPagination
from tisket.models import Role


class TicketSlaSerializer(serializers.Serializer):
    policy = serializers.CharField(source="sla_policy.name", default=None, allow_null=True)
    state = serializers.SerializerMethodField(
        help_text="on_track, at_risk, breached, paused; null when no clock runs."
    )
    first_response_due_at = serializers.DateTimeField(allow_null=True)
    next_response_due_at = serializers.DateTimeField(allow_null=True)
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    paused_since = serializers.DateTimeField(source="sla_paused_at", allow_null=True)
    overridden_due_at = serializers.DateTimeField(
        source="sla_override_due_at",
        allow_null=True,
        help_text="A supervisor's deadline in place of the policy's; null when none.",
    )
    override_reason = serializers.CharField(source="sla_override_reason")

    def get_state(self, ticket: Ticket) -> str | None:
        return sla.sla_state(ticket)


class TicketSerializer(serializers.ModelSerializer):
    queue = serializers.IntegerField(source="queue_id", allow_null=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    assignee_email = serializers.EmailField(
        source="assignee.user.email", default=None, allow_null=True
    )
    tags = serializers.SerializerMethodField()
    threads = serializers.SerializerMethodField()
    sla = TicketSlaSerializer(source="*", read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "reference",
            "subject",
            "description",
            "category",
            "priority",
            "status",
            "queue",
            "assignee",
            "assignee_email",
            "escalation_level",
            "created_via",
            "customer_email",
            "customer_organization",
            "tags",
            "threads",
            "reopen_count",
            "first_responded_at",
            "resolved_at",
            "sla",
            "created_at",
            "updated_at",
        ]

    def get_tags(self, ticket: Ticket) -> list[str]:
        return [tag.name for tag in ticket.tags.all()]

    def get_threads(self, ticket: Ticket) -> list[str]:
        return [link.thread.reference for link in ticket.thread_links.all()]


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=998)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(Ticket.Priority.choices, default=Ticket.Priority.NORMAL)
    queue = serializers.IntegerField(required=False, allow_null=True)
    assignee = serializers.IntegerField(required=False, allow_null=True)
    customer_email = serializers.EmailField(required=False, allow_blank=True, default="")
    customer_organization = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)


class TicketUpdateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=998, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    customer_email = serializers.EmailField(required=False, allow_blank=True)
    customer_organization = serializers.CharField(max_length=200, required=False, allow_blank=True)
    priority = serializers.ChoiceField(Ticket.Priority.choices, required=False)
    status = serializers.ChoiceField(Ticket.Status.choices, required=False)
    summary = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        help_text="With status resolved: the agent's summary in the client's resolved mail "
        "(Markdown).",
    )
    queue = serializers.IntegerField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)

    def validate(self, data: dict) -> dict:
        if data.get("summary", "").strip() and data.get("status") != Ticket.Status.RESOLVED:
            raise serializers.ValidationError({"summary": 'Only with "status": "resolved".'})
        return data


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        allow_null=True, required=False, help_text="A member's id; null unassigns."
    )
    round_robin = serializers.BooleanField(
        default=False, help_text="Pick the next available agent of the ticket's queue."
    )


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.EmailField(source="author.user.email", default=None, allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "author", "body", "created_at"]


class NoteCreateSerializer(serializers.Serializer):
    body = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.user.email", default=None, allow_null=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "data", "created_at"]


class ThreadLinkSerializer(serializers.Serializer):
    thread = serializers.CharField(help_text="The thread's reference, e.g. THD-ACME-001")


class TicketPagination(CursorPagination):
    ordering = ("-updated_at", "-id")


class TicketListApi(TicketsApiMixin, GenericAPIView):
    serializer_class = TicketSerializer
    pagination_class = TicketPagination

    def get_queryset(self) -> QuerySet[Ticket]:
        params = self.request.query_params
        since = params.get("updated_since")
        updated_since = parse_datetime(since) if since else None
        if since and updated_since is None:
            raise serializers.ValidationError({"updated_since": "Use an ISO 8601 date and time."})
        return selectors.tickets_list(
            organization=self.organization,
            me=self.membership,
            status=params.get("status", ""),
            priority=params.get("priority", ""),
            queue=params.get("queue", ""),
            assignee=params.get("assignee", ""),
            tag=params.get("tag", ""),
            sla_state=params.get("sla", ""),
            updated_since=updated_since,
            thread=params.get("thread", ""),
            viewer=self.membership,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="Comma-separated statuses"),
            OpenApiParameter("priority", str, description="Comma-separated priorities"),
            OpenApiParameter("queue", int),
            OpenApiParameter("assignee", str, description="A member's id, 'me' or 'none'"),
            OpenApiParameter("tag", str),
            OpenApiParameter("sla", str, enum=["on_track", "at_risk", "breached", "paused"]),
            OpenApiParameter("updated_since", str, description="ISO 8601 date and time"),
            OpenApiParameter(
                "thread", str, description="A conversation's reference: its ticket, if any"
            ),
        ],
        responses=TicketSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TicketSerializer(page, many=True).data)

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    def post(self, request: Request) -> Response:
        serializer = TicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = services.ticket_create(
            organization=self.organization,
            actor=self.membership,
            queue=self.queue(data.pop("queue", None)),
            assignee=self.member(data.pop("assignee", None)),
            created_via=Ticket.Via.API,
            **data,
        )
        return Response(TicketSerializer(self.ticket(ticket.reference)).data, status=201)


class TicketDetailApi(TicketsApiMixin, GenericAPIView):
    serializer_class = TicketSerializer

    def get(self, request: Request, reference: str) -> Response:
        return Response(TicketSerializer(self.ticket(reference)).data)

    @extend_schema(request=TicketUpdateSerializer, responses=TicketSerializer)
    def patch(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(reference)
        serializer = TicketUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        new_status = data.pop("status", None)
        summary = data.pop("summary", "")
        if "queue" in data:
            data["queue"] = self.queue(data["queue"])
        services.ticket_update(ticket=ticket, actor=self.membership, **data)
        if new_status is not None:
            services.ticket_set_status(
                ticket=ticket, status=new_status, actor=self.membership, summary=summary
            )
        return Response(TicketSerializer(self.ticket(reference)).data)


class TicketAssignApi(TicketsApiMixin, GenericAPIView):
    serializer_class = TicketSerializer

    @extend_schema(request=AssignSerializer, responses=TicketSerializer)
    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(reference)
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["round_robin"]:
            if services.ticket_assign_round_robin(ticket=ticket, actor=self.membership) is None:
                return Response(
                    {"detail": "No agent of the queue is available (all at their cap?)."},
                    status=status.HTTP_409_CONFLICT,
                )
        else:
            assignee = self.member(serializer.validated_data.get("assignee"))
            services.ticket_assign(ticket=ticket, assignee=assignee, actor=self.membership)
        return Response(TicketSerializer(self.ticket(reference)).data)


class TicketNotesApi(TicketsApiMixin, GenericAPIView):
    """Internal notes: for members only, never shown or sent to a client."""

    serializer_class = NoteSerializer

    @extend_schema(responses=NoteSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        notes = selectors.notes_list(ticket=self.ticket(reference))
        page = self.paginate_queryset(notes.order_by("-id"))
        return self.get_paginated_response(NoteSerializer(page, many=True).data)

    @extend_schema(request=NoteCreateSerializer, responses={201: NoteSerializer})
    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(reference)  # 404 before any validation: nothing to learn
        serializer = NoteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.ticket_note_add(
            ticket=ticket,
            body=serializer.validated_data["body"],
            actor=self.membership,
        )
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class TicketEventsApi(TicketsApiMixin, GenericAPIView):
    """The ticket's timeline, oldest first."""

    serializer_class = EventSerializer
    pagination_class = type("EventPagination", (CursorPagination,), {"ordering": ("id",)})

    @extend_schema(responses=EventSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        page = self.paginate_queryset(selectors.events_list(ticket=self.ticket(reference)))
        return self.get_paginated_response(EventSerializer(page, many=True).data)


class TicketThreadsApi(TicketsApiMixin, GenericAPIView):
    serializer_class = TicketSerializer

    @extend_schema(request=ThreadLinkSerializer, responses=TicketSerializer)
    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(reference)
        serializer = ThreadLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        thread = self.thread(serializer.validated_data["thread"])
        services.ticket_thread_link(ticket=ticket, thread=thread, actor=self.membership)
        return Response(TicketSerializer(self.ticket(reference)).data)


class TicketThreadDetailApi(TicketsApiMixin, GenericAPIView):
    serializer_class = TicketSerializer

    @extend_schema(responses={200: TicketSerializer})
    def delete(self, request: Request, reference: str, thread: str) -> Response:
        ticket = self.ticket(reference)
        linked = thread_get(
            organization=self.organization,
            reference=thread,
            scope=visibility.thread_scope(self.membership),
        )
        services.ticket_thread_unlink(ticket=ticket, thread=linked, actor=self.membership)
        return Response(TicketSerializer(self.ticket(reference)).data)


class EscalateSerializer(serializers.Serializer):
    to = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A supervisor's member id; blank: the least busy one.",
    )


class TicketEscalateApi(TicketsApiMixin, GenericAPIView):
    serializer_class = TicketSerializer

    @extend_schema(request=EscalateSerializer, responses=TicketSerializer)
    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(reference)
        serializer = EscalateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to = self.member(serializer.validated_data.get("to"))
        workflows.ticket_escalate(ticket=ticket, actor=self.membership, to=to)
        return Response(TicketSerializer(self.ticket(reference)).data)


class TicketReferenceSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="A ticket's reference, e.g. TKT-ACME-002")


class TicketChildrenApi(TicketsApiMixin, GenericAPIView):
    """The incident's tickets: resolving the incident resolves them."""

    serializer_class = TicketSerializer

    @extend_schema(responses=TicketSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        parent = self.ticket(reference)
        children = selectors.tickets_list(
            organization=self.organization, viewer=self.membership
        ).filter(parent=parent)
        page = self.paginate_queryset(children.order_by("-id"))
        return self.get_paginated_response(TicketSerializer(page, many=True).data)

    @extend_schema(request=TicketReferenceSerializer, responses=TicketSerializer)
    def post(self, request: Request, reference: str) -> Response:
        parent = self.ticket(reference)
        serializer = TicketReferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        child = self.other_ticket(serializer.validated_data["ticket"])
        workflows.incident_link(parent=parent, child=child, actor=self.membership)
        return Response(TicketSerializer(self.ticket(child.reference)).data, status=201)


class TicketChildDetailApi(TicketsApiMixin, GenericAPIView):
    serializer_class = TicketSerializer

    @extend_schema(responses={200: TicketSerializer})
    def delete(self, request: Request, reference: str, child: str) -> Response:
        parent = self.ticket(reference)
        workflows.incident_unlink(parent=parent, child=self.ticket(child), actor=self.membership)
        return Response(TicketSerializer(self.ticket(child)).data)


class MergeSerializer(serializers.Serializer):
    into = serializers.CharField(help_text="The reference of the ticket that survives")


class TicketMergeApi(TicketsApiMixin, GenericAPIView):
    """Merge this duplicate into another ticket; it closes, pointing at the survivor."""

    serializer_class = TicketSerializer

    @extend_schema(request=MergeSerializer, responses=TicketSerializer)
    def post(self, request: Request, reference: str) -> Response:
        source = self.ticket(reference)
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = self.other_ticket(serializer.validated_data["into"])
        workflows.ticket_merge(source=source, target=target, actor=self.membership)
        return Response(TicketSerializer(self.ticket(target.reference)).data)


class SlaOverrideSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="The new deadline (ISO 8601 with its offset); null: back to the policy's.",
    )
    reason = serializers.CharField(max_length=500, help_text="Why; kept on the timeline.")


class TicketSlaOverrideApi(TicketsApiMixin, GenericAPIView):
    """A supervisor's new deadline for the ticket's running clocks, with the reason."""

    serializer_class = TicketSerializer
    write_role = Role.SUPERVISOR

    @extend_schema(request=SlaOverrideSerializer, responses=TicketSerializer)
    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(reference)
        serializer = SlaOverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket_sla_override(
            ticket=ticket,
            due_at=serializer.validated_data["due_at"],
            reason=serializer.validated_data["reason"],
            actor=self.membership,
        )
        return Response(TicketSerializer(self.ticket(reference)).data)
