"""REST API of queues: their agents, inboxes and assignment rules."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import queues, selectors
from tickets.api.common import TicketsApiMixin
from tickets.models import Queue
from tisket.models import Role


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


# The columns' ranges: ids are 64-bit, counts 32-bit on PostgreSQL. Beyond them
# the database fails (SQLite cannot even take the value); the request is wrong.
ID_MAX = 2**63 - 1
CAP_MAX = 2**31 - 1


class QueueWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False
    )
    inboxes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False
    )
    auto_assign = serializers.BooleanField(required=False)
    open_ticket_cap = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=CAP_MAX
    )


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
        queue = queues.queue_create(
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
            queues.queue_set_members(queue=queue, members=members)
        if "inboxes" in data:
            queues.queue_set_inboxes(queue=queue, inboxes=self.inboxes(data.pop("inboxes")))
        queues.queue_update(queue=queue, **data)
        queue = selectors.queue_get(organization=self.organization, pk=pk)
        return Response(QueueSerializer(queue).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        queues.queue_delete(queue=selectors.queue_get(organization=self.organization, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
