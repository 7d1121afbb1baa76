"""REST API of custom mail domains: /api/v1/domains/ (admins only)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from inboxes import domains, esp_domains, selectors
from inboxes.esp_domains import INBOUND_MX_HOST, INBOUND_MX_PRIORITY
from inboxes.models import MailDomain
from tisket.api_auth import OrganizationApiMixin
from tisket.models import Role


class CheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    ok = serializers.BooleanField(allow_null=True)
    explanation = serializers.CharField()


class RecordSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    value = serializers.CharField()
    purpose = serializers.CharField()


class EspRecordSerializer(RecordSerializer):
    ok = serializers.BooleanField(help_text="Whether the ESP sees the record.")


class EspMxRecordSerializer(RecordSerializer):
    priority = serializers.IntegerField()
    ok = serializers.BooleanField(
        allow_null=True, help_text="Whether the last check found it (null: not known yet)."
    )


def esp_inbound_mx_record(domain: MailDomain) -> dict | None:
    """The MX record that sends the domain's mail to its inbound server at the ESP."""
    if not domain.esp_inbound_id:
        return None
    return {
        "type": "MX",
        "name": domain.name,
        "priority": INBOUND_MX_PRIORITY,
        "value": INBOUND_MX_HOST,
        "purpose": "inbound",
        "ok": domain.inbound_mx_ok,
    }


def domain_records(domain: MailDomain) -> list[dict]:
    """The DNS records to publish for the domain (public values only)."""
    records = [
        {
            "type": "TXT",
            "name": domain.ownership_record_name,
            "value": domain.ownership_record_value,
            "purpose": "ownership",
        },
        {
            "type": "TXT",
            "name": domain.dkim_record_name,
            "value": MailDomain.dkim_record_value(domain.dkim_public),
            "purpose": "dkim",
        },
    ]
    if domain.dkim_next_selector:
        records.append(
            {
                "type": "TXT",
                "name": domain.dkim_next_record_name,
                "value": MailDomain.dkim_record_value(domain.dkim_next_public),
                "purpose": "dkim-next",
            }
        )
    return records


class MailDomainSerializer(serializers.ModelSerializer):
    """A domain as admins see it; the private DKIM keys are never part of it."""

    checks = CheckSerializer(many=True, read_only=True)
    records = serializers.SerializerMethodField()
    esp_records = EspRecordSerializer(
        many=True,
        read_only=True,
        help_text="The records the installation's ESP asks for, when it sets domains up.",
    )

    esp_inbound_mx = serializers.SerializerMethodField(
        help_text="The MX record to publish for mail in through the ESP, once it receives for "
        "the domain (null until then)."
    )

    class Meta:
        model = MailDomain
        fields = [
            "id",
            "name",
            "status",
            "verified_at",
            "checked_at",
            "checks",
            "mx_routes_here",
            "dkim_selector",
            "dkim_verified",
            "dkim_next_selector",
            "records",
            "esp_records",
            "esp_error",
            "esp_checked_at",
            "esp_inbound_address",
            "esp_inbound_mx",
            "esp_inbound_error",
            "created_at",
        ]
        extra_kwargs = {
            "esp_inbound_address": {
                "help_text": "The address of the domain's inbound server at the ESP: mail "
                "forwarded to it arrives too."
            }
        }

    def get_records(self, domain: MailDomain) -> list[dict]:
        return RecordSerializer(domain_records(domain), many=True).data

    @extend_schema_field(EspMxRecordSerializer(allow_null=True))
    def get_esp_inbound_mx(self, domain: MailDomain) -> dict | None:
        record = esp_inbound_mx_record(domain)
        return None if record is None else EspMxRecordSerializer(record).data


class MailDomainCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=253, help_text="e.g. clientcorp.com")


class MailDomainListApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = MailDomainSerializer
    read_role = write_role = Role.ADMIN

    def get_queryset(self):
        return selectors.mail_domains_list(organization=self.organization)

    @extend_schema(responses=MailDomainSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MailDomainSerializer(page, many=True).data)

    @extend_schema(request=MailDomainCreateSerializer, responses={201: MailDomainSerializer})
    def post(self, request: Request) -> Response:
        serializer = MailDomainCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        domain = domains.mail_domain_add(
            organization=self.organization, name=serializer.validated_data["name"]
        )
        return Response(MailDomainSerializer(domain).data, status=status.HTTP_201_CREATED)


class MailDomainDetailApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = MailDomainSerializer
    read_role = write_role = Role.ADMIN

    def get(self, request: Request, pk: int) -> Response:
        domain = selectors.mail_domain_get(organization=self.organization, pk=pk)
        return Response(MailDomainSerializer(domain).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        domain = selectors.mail_domain_get(organization=self.organization, pk=pk)
        domains.mail_domain_delete(domain=domain)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MailDomainCheckApi(OrganizationApiMixin, GenericAPIView):
    """Look the domain's DNS records up now and answer with what they say."""

    serializer_class = MailDomainSerializer
    read_role = write_role = Role.ADMIN

    @extend_schema(request=None, responses=MailDomainSerializer)
    def post(self, request: Request, pk: int) -> Response:
        domain = selectors.mail_domain_get(organization=self.organization, pk=pk)
        return Response(MailDomainSerializer(domains.mail_domain_check(domain=domain)).data)


class MailDomainRotateApi(OrganizationApiMixin, GenericAPIView):
    """Make a new DKIM key; the current one signs until DNS shows the new one."""

    serializer_class = MailDomainSerializer
    read_role = write_role = Role.ADMIN

    @extend_schema(request=None, responses=MailDomainSerializer)
    def post(self, request: Request, pk: int) -> Response:
        domain = selectors.mail_domain_get(organization=self.organization, pk=pk)
        return Response(MailDomainSerializer(domains.mail_domain_rotate(domain=domain)).data)


class MailDomainEspSyncApi(OrganizationApiMixin, GenericAPIView):
    """Set the domain up at the installation's ESP (mail in too, once it verifies), or have
    the ESP check its records again; a failure is a 409 that says its kind."""

    serializer_class = MailDomainSerializer
    read_role = write_role = Role.ADMIN

    @extend_schema(request=None, responses=MailDomainSerializer)
    def post(self, request: Request, pk: int) -> Response:
        domain = selectors.mail_domain_get(organization=self.organization, pk=pk)
        return Response(MailDomainSerializer(esp_domains.mail_domain_esp_sync(domain=domain)).data)
