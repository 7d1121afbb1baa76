"""REST API of members and invitations: a person joins only by accepting an invitation.

`POST /members/` invites (202) whether or not the address has an account, and
answers the same either way: no admin learns who else uses the installation,
and nobody is pulled into an organization without saying yes.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from interface.settings_pages.invites import invitation_send, invitation_send_again
from tisket import invitations, selectors
from tisket.api import MemberSerializer
from tisket.api_auth import OrganizationApiMixin
from tisket.models import Invitation, Membership, Role


class MemberInviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.EmailField(
        source="invited_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at"]


class InvitationSentSerializer(InvitationSerializer):
    mailed = serializers.BooleanField(
        read_only=True, help_text="False when the address bounced recently: no mail was sent."
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "mailed"]


def _sent(invitation: Invitation, mailed: bool) -> dict:
    invitation.mailed = mailed
    return InvitationSentSerializer(invitation).data


class MemberListApi(OrganizationApiMixin, GenericAPIView):
    """The members; a POST invites a person, who becomes a member once they accept."""

    serializer_class = MemberSerializer
    write_role = Role.ADMIN

    def get_queryset(self) -> QuerySet[Membership]:
        return selectors.members_list(organization=self.organization)

    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(request=MemberInviteSerializer, responses={202: InvitationSentSerializer})
    def post(self, request: Request) -> Response:
        serializer = MemberInviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, mailed = invitation_send(
            organization=self.organization, actor=self.membership, **serializer.validated_data
        )
        return Response(_sent(invitation, mailed), status=status.HTTP_202_ACCEPTED)


class InvitationListApi(OrganizationApiMixin, GenericAPIView):
    """Invitations not yet accepted nor revoked, expired ones included."""

    serializer_class = InvitationSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_queryset(self) -> QuerySet[Invitation]:
        return selectors.invitations_pending(organization=self.organization).order_by(
            "-created_at", "-id"
        )

    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)


class InvitationDetailApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = InvitationSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get(self, request: Request, pk: int) -> Response:
        invitation = selectors.invitation_get(organization=self.organization, pk=pk)
        return Response(InvitationSerializer(invitation).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        invitation = selectors.invitation_get(organization=self.organization, pk=pk)
        invitations.invitation_revoke(invitation=invitation, actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendApi(OrganizationApiMixin, GenericAPIView):
    """A new link and seven more days; the earlier link stops working."""

    serializer_class = InvitationSentSerializer
    write_role = Role.ADMIN

    @extend_schema(request=None, responses={202: InvitationSentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        invitation = selectors.invitation_get(organization=self.organization, pk=pk)
        invitation, mailed = invitation_send_again(invitation=invitation, actor=self.membership)
        return Response(_sent(invitation, mailed), status=status.HTTP_202_ACCEPTED)
