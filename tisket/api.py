"""REST API of the core: the token's organization, its members and API tokens.

Joining goes through an invitation, whose mail needs the outbox: the member
list and the invitations live in interface.settings_pages.api.
"""

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from tisket import selectors, services
from tisket.api_auth import OrganizationApiMixin
from tisket.audit import audit_events_list
from tisket.errors import NotAllowedError
from tisket.models import (
    ApiToken,
    AuditEvent,
    Membership,
    Organization,
    Role,
    TokenScope,
    role_at_least,
    validate_timezone,
)


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "code", "timezone", "created_at"]
        read_only_fields = ["id", "slug", "code", "created_at"]


class OrganizationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])


class UserSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()


class MemberSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class TokenSerializer(serializers.ModelSerializer):
    member = serializers.EmailField(source="membership.user.email", read_only=True)
    effective_role = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "member",
            "role",
            "effective_role",
            "scope",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, required=False, default="")
    scope = serializers.ChoiceField(
        choices=TokenScope.choices,
        required=False,
        default=TokenScope.WRITE,
        help_text="read: the token never writes, whatever its role.",
    )


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    role = serializers.CharField()
    organization = OrganizationSerializer()
    token = TokenSerializer()


class MeApi(OrganizationApiMixin, GenericAPIView):
    """Who the token acts as, in which organization, with which role."""

    serializer_class = MeSerializer

    def get(self, request: Request) -> Response:
        data = {
            "user": self.membership.user,
            "role": self.token.effective_role,
            "organization": self.organization,
            "token": self.token,
        }
        return Response(MeSerializer(data).data)


class OrganizationApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = OrganizationSerializer
    write_role = Role.ADMIN

    def get(self, request: Request) -> Response:
        return Response(OrganizationSerializer(self.organization).data)

    @extend_schema(request=OrganizationUpdateSerializer, responses=OrganizationSerializer)
    def patch(self, request: Request) -> Response:
        serializer = OrganizationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_update(
            organization=self.organization, **serializer.validated_data
        )
        return Response(OrganizationSerializer(organization).data)


class MemberDetailApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = MemberSerializer
    write_role = Role.ADMIN

    def get(self, request: Request, pk: int) -> Response:
        membership = selectors.member_get(organization=self.organization, pk=pk)
        return Response(MemberSerializer(membership).data)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        membership = selectors.member_get(organization=self.organization, pk=pk)
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_set_role(
            membership=membership, role=serializer.validated_data["role"], actor=self.membership
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        membership = selectors.member_get(organization=self.organization, pk=pk)
        services.membership_remove(membership=membership, actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListApi(OrganizationApiMixin, GenericAPIView):
    """Admins see every token of the organization; other members their own."""

    serializer_class = TokenSerializer
    write_role = Role.VIEWER  # anyone may create a token for themselves

    def get_queryset(self) -> QuerySet[ApiToken]:
        tokens = selectors.api_tokens_list(organization=self.organization)
        if not self.membership.has_role(Role.ADMIN):
            tokens = tokens.filter(membership=self.membership)
        return tokens

    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TokenSerializer(page, many=True).data)

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request: Request) -> Response:
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A token may only mint tokens as strong as itself.
        role = serializer.validated_data["role"] or self.token.effective_role
        if not role_at_least(self.token.effective_role, role):
            raise NotAllowedError(
                f"A new token cannot exceed this token's role ({self.token.effective_role})."
            )
        token, key = services.api_token_create(
            membership=self.membership,
            name=serializer.validated_data["name"],
            role=role,
            scope=serializer.validated_data["scope"],
            created_by=self.membership.user,
        )
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = TokenSerializer
    write_role = Role.VIEWER

    def get_object(self) -> ApiToken:
        token = selectors.api_token_get(organization=self.organization, pk=self.kwargs["pk"])
        if token.membership_id != self.membership.pk and not self.membership.has_role(Role.ADMIN):
            # Another member's token is none of this member's business: as if absent.
            raise Http404("No such token.")
        return token

    def get(self, request: Request, pk: int) -> Response:
        return Response(TokenSerializer(self.get_object()).data)

    @extend_schema(responses={200: TokenSerializer})
    def delete(self, request: Request, pk: int) -> Response:
        token = services.api_token_revoke(token=self.get_object(), actor=self.membership)
        return Response(TokenSerializer(token).data)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", help_text="Who, as written then.")
    target = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "action", "actor", "target", "ip", "data"]

    def get_target(self, event: AuditEvent) -> dict | None:
        if not event.target_type:
            return None
        return {"type": event.target_type, "id": event.target_id, "label": event.target_label}


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.CharField(
        required=False, max_length=64, help_text="An action (member.removed) or an area (member)."
    )
    actor = serializers.CharField(required=False, max_length=254, help_text="Part of the actor.")
    target = serializers.CharField(required=False, max_length=300)
    since = serializers.DateTimeField(required=False, help_text="From this time (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Before this time.")


class AuditEventListApi(OrganizationApiMixin, GenericAPIView):
    """The organization's audit log, newest first (admins)."""

    serializer_class = AuditEventSerializer
    read_role = Role.ADMIN
    write_role = Role.OWNER

    def get_queryset(self) -> QuerySet[AuditEvent]:
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return audit_events_list(organization=self.organization, **filters.validated_data)

    @extend_schema(parameters=[AuditFilterSerializer], responses=AuditEventSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)
