"""REST API of inboxes."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from inboxes import selectors, services
from inboxes.models import Inbox
from tisket.api_auth import OrganizationApiMixin
from tisket.models import Role


class InboxSerializer(serializers.ModelSerializer):
    extra_addresses = serializers.SerializerMethodField()

    class Meta:
        model = Inbox
        fields = [
            "id",
            "name",
            "address",
            "extra_addresses",
            "display_name",
            "color",
            "auto_ack_enabled",
            "auto_ack_text",
            "max_message_bytes",
            "created_at",
        ]

    def get_extra_addresses(self, inbox: Inbox) -> list[str]:
        return [a.address for a in inbox.extra_addresses.all()]


class InboxWriteSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    auto_ack_enabled = serializers.BooleanField(required=False)
    auto_ack_text = serializers.CharField(required=False, allow_blank=True)
    max_message_bytes = serializers.IntegerField(
        required=False, min_value=0, max_value=50 * 1024 * 1024
    )
    extra_addresses = serializers.ListField(
        child=serializers.EmailField(), required=False, max_length=50
    )


class InboxCreateSerializer(InboxWriteSerializer):
    name = serializers.CharField(
        max_length=30, help_text="Lowercase a-z, 0-9 and hyphens; the address's first part."
    )


class InboxListApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = InboxSerializer
    write_role = Role.ADMIN

    def get_queryset(self) -> QuerySet[Inbox]:
        return selectors.inboxes_list(organization=self.organization)

    @extend_schema(responses=InboxSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InboxSerializer(page, many=True).data)

    @extend_schema(request=InboxCreateSerializer, responses={201: InboxSerializer})
    def post(self, request: Request) -> Response:
        serializer = InboxCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inbox = services.inbox_create(organization=self.organization, **serializer.validated_data)
        inbox = selectors.inbox_get(organization=self.organization, pk=inbox.pk)
        return Response(InboxSerializer(inbox).data, status=status.HTTP_201_CREATED)


class InboxDetailApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = InboxSerializer
    write_role = Role.ADMIN

    def get(self, request: Request, pk: int) -> Response:
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        return Response(InboxSerializer(inbox).data)

    @extend_schema(request=InboxWriteSerializer, responses=InboxSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        serializer = InboxWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.inbox_update(inbox=inbox, **serializer.validated_data)
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        return Response(InboxSerializer(inbox).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        services.inbox_delete(inbox=inbox)
        return Response(status=status.HTTP_204_NO_CONTENT)
