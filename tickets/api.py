"""REST API of tickets and queues: the same services as every other interface."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from inboxes.models import Inbox
from threads.selectors import thread_get
from tickets import csat, macros, selectors, services, sla, workflows
from tickets.models import Macro, Note, Queue, Ticket, TicketEvent
from tisket.api_auth import OrganizationApiMixin
from tisket.api_pagination import CursorPagination
from tisket.models import Membership, Role


class QueueSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()
    inboxes = serializers.SerializerMethodField()

    class Meta:
        model = Queue
        fields = [
            "id",
            "name",
            "members",
            "inboxes",
            "auto_assign",
            "open_ticket_cap",
            "created_at",
        ]

    def get_members(self, queue: Queue) -> list[int]:
        return [m.membership_id for m in queue.queue_members.all()]

    def get_inboxes(self, queue: Queue) -> list[int]:
        return [i.pk for i in queue.inboxes.all()]


class QueueWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    members = serializers.ListField(child=serializers.IntegerField(), required=False)
    inboxes = serializers.ListField(child=serializers.IntegerField(), required=False)
    auto_assign = serializers.BooleanField(required=False)
    open_ticket_cap = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class TicketSlaSerializer(serializers.Serializer):
    policy = serializers.CharField(source="sla_policy.name", default=None, allow_null=True)
    state = serializers.SerializerMethodField(
        help_text="on_track, at_risk, breached, paused; null when no clock runs."
    )
    first_response_due_at = serializers.DateTimeField(allow_null=True)
    next_response_due_at = serializers.DateTimeField(allow_null=True)
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    paused_since = serializers.DateTimeField(source="sla_paused_at", allow_null=True)

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
    queue = serializers.IntegerField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)


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


class TicketsApiMixin(OrganizationApiMixin):
    def member(self, pk: int | None) -> Membership | None:
        if pk is None:
            return None
        member = Membership.objects.select_related("user").filter(
            organization=self.organization, pk=pk
        )
        if not member:
            raise serializers.ValidationError({"assignee": "No such member."})
        return member[0]

    def queue(self, pk: int | None) -> Queue | None:
        if pk is None:
            return None
        try:
            return Queue.objects.get(organization=self.organization, pk=pk)
        except Queue.DoesNotExist:
            raise serializers.ValidationError({"queue": "No such queue."}) from None

    def ticket(self, reference: str) -> Ticket:
        return selectors.ticket_get(organization=self.organization, reference=reference)

    def other_ticket(self, reference: str) -> Ticket:
        """A ticket named in the request body: 400 (not 404) when it is not there."""
        try:
            return self.ticket(reference)
        except Http404:
            raise serializers.ValidationError({"ticket": "No such ticket."}) from None

    def macro(self, pk: int) -> Macro:
        try:
            return Macro.objects.get(organization=self.organization, pk=pk)
        except Macro.DoesNotExist:
            raise Http404("No such macro.") from None

    def inboxes(self, ids: list[int]) -> list[Inbox]:
        inboxes = list(Inbox.objects.filter(organization=self.organization, pk__in=ids))
        if len(inboxes) != len(set(ids)):
            raise serializers.ValidationError({"inboxes": "No such inbox."})
        return inboxes

    def thread(self, reference: str):
        try:
            return thread_get(organization=self.organization, reference=reference)
        except Http404:
            raise serializers.ValidationError({"thread": "No such thread."}) from None


class QueueListApi(TicketsApiMixin, GenericAPIView):
    serializer_class = QueueSerializer
    write_role = Role.SUPERVISOR

    def get_queryset(self) -> QuerySet[Queue]:
        return selectors.queues_list(organization=self.organization)

    @extend_schema(responses=QueueSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(QueueSerializer(page, many=True).data)

    @extend_schema(request=QueueWriteSerializer, responses={201: QueueSerializer})
    def post(self, request: Request) -> Response:
        serializer = QueueWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "name" not in data:
            raise serializers.ValidationError({"name": "A queue needs a name."})
        queue = services.queue_create(
            organization=self.organization,
            actor=self.membership,
            name=data.pop("name"),
            members=[self.member(pk) for pk in data.pop("members", [])],
            inboxes=self.inboxes(data.pop("inboxes", [])),
            **data,
        )
        queue = selectors.queue_get(organization=self.organization, pk=queue.pk)
        return Response(QueueSerializer(queue).data, status=status.HTTP_201_CREATED)


class QueueDetailApi(TicketsApiMixin, GenericAPIView):
    serializer_class = QueueSerializer
    write_role = Role.SUPERVISOR

    def get(self, request: Request, pk: int) -> Response:
        return Response(
            QueueSerializer(selectors.queue_get(organization=self.organization, pk=pk)).data
        )

    @extend_schema(request=QueueWriteSerializer, responses=QueueSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        queue = selectors.queue_get(organization=self.organization, pk=pk)
        serializer = QueueWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "members" in data:
            members = [self.member(m) for m in data.pop("members")]
            services.queue_set_members(queue=queue, members=members)
        if "inboxes" in data:
            services.queue_set_inboxes(queue=queue, inboxes=self.inboxes(data.pop("inboxes")))
        services.queue_update(queue=queue, **data)
        queue = selectors.queue_get(organization=self.organization, pk=pk)
        return Response(QueueSerializer(queue).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.queue_delete(queue=selectors.queue_get(organization=self.organization, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        if "queue" in data:
            data["queue"] = self.queue(data["queue"])
        services.ticket_update(ticket=ticket, actor=self.membership, **data)
        if new_status is not None:
            services.ticket_set_status(ticket=ticket, status=new_status, actor=self.membership)
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

    @extend_schema(responses=TicketSerializer)
    def delete(self, request: Request, reference: str, thread: str) -> Response:
        ticket = self.ticket(reference)
        linked = thread_get(organization=self.organization, reference=thread)
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
        children = selectors.tickets_list(organization=self.organization).filter(parent=parent)
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

    @extend_schema(responses=TicketSerializer)
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


class MacroSerializer(serializers.ModelSerializer):
    actions = serializers.DictField(
        required=False,
        default=dict,
        help_text='e.g. {"status": "waiting_on_customer", "priority": "high", "queue": 3, '
        '"assignee": 12, "tags_add": ["billing"], "tags_remove": ["new"]}',
    )

    class Meta:
        model = Macro
        fields = ["id", "name", "body", "actions", "created_at"]
        read_only_fields = ["id", "created_at"]


class MacroListApi(TicketsApiMixin, GenericAPIView):
    serializer_class = MacroSerializer
    write_role = Role.SUPERVISOR

    @extend_schema(responses=MacroSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(Macro.objects.filter(organization=self.organization))
        return self.get_paginated_response(MacroSerializer(page, many=True).data)

    @extend_schema(request=MacroSerializer, responses={201: MacroSerializer})
    def post(self, request: Request) -> Response:
        serializer = MacroSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        macro = macros.macro_save(
            organization=self.organization, actor=self.membership, **serializer.validated_data
        )
        return Response(MacroSerializer(macro).data, status=status.HTTP_201_CREATED)


class MacroDetailApi(TicketsApiMixin, GenericAPIView):
    serializer_class = MacroSerializer
    write_role = Role.SUPERVISOR

    def get(self, request: Request, pk: int) -> Response:
        return Response(MacroSerializer(self.macro(pk)).data)

    @extend_schema(request=MacroSerializer, responses=MacroSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        macro = self.macro(pk)
        serializer = MacroSerializer(macro, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {"name": macro.name, "body": macro.body, "actions": macro.actions}
        data.update(serializer.validated_data)
        macro = macros.macro_save(
            organization=self.organization, actor=self.membership, macro=macro, **data
        )
        return Response(MacroSerializer(macro).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        self.macro(pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MacroAppliedSerializer(serializers.Serializer):
    ticket = TicketSerializer()
    reply = serializers.CharField(help_text="The macro's reply text, rendered for this ticket")


class TicketMacroApplyApi(TicketsApiMixin, GenericAPIView):
    """Apply a macro to the ticket: its actions, each with its event; returns its reply text."""

    serializer_class = MacroAppliedSerializer

    @extend_schema(request=None, responses=MacroAppliedSerializer)
    def post(self, request: Request, reference: str, pk: int) -> Response:
        ticket = self.ticket(reference)
        result = macros.macro_apply(macro=self.macro(pk), ticket=ticket, actor=self.membership)
        return Response(
            {"ticket": TicketSerializer(self.ticket(reference)).data, "reply": result.reply}
        )


class RatingSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class RatingLinkSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="The ticket's reference")
    subject = serializers.CharField()
    rated = serializers.BooleanField(help_text="Whether this resolution was rated already")


class CsatApi(GenericAPIView):
    """A client rates a resolution through the signed link of their mail (no login)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    serializer_class = RatingLinkSerializer

    def _ticket(self, token: str) -> tuple[Ticket, int]:
        try:
            return csat.csat_ticket(token=token)
        except csat.RatingLinkError as exc:
            raise Http404(str(exc)) from None

    @extend_schema(auth=[], responses=RatingLinkSerializer)
    def get(self, request: Request, token: str) -> Response:
        ticket, resolution = self._ticket(token)
        rated = ticket.ratings.filter(resolution=resolution).exists()
        return Response({"ticket": ticket.reference, "subject": ticket.subject, "rated": rated})

    @extend_schema(auth=[], request=RatingSerializer, responses={201: RatingSerializer})
    def post(self, request: Request, token: str) -> Response:
        self._ticket(token)
        serializer = RatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rating = csat.csat_record(token=token, **serializer.validated_data)
        return Response({"score": rating.score, "comment": rating.comment}, status=201)
