"""REST API of inboxes."""

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from inboxes import domains, imap, selectors, services, transports
from inboxes.models import Inbox, validate_auto_ack_text
from inboxes.transports import ESP_ACCOUNTS
from tisket.api_auth import OrganizationApiMixin
from tisket.models import Role


class InboxSerializer(serializers.ModelSerializer):
    extra_addresses = serializers.SerializerMethodField()
    smtp_password_set = serializers.SerializerMethodField()
    esp_settings_set = serializers.SerializerMethodField()
    imap_password_set = serializers.SerializerMethodField()

    class Meta:
        model = Inbox
        fields = [
            "id",
            "name",
            "address",
            "extra_addresses",
            "from_address",
            "display_name",
            "color",
            "is_active",
            "is_default",
            "auto_ack_enabled",
            "auto_ack_text",
            "mail_on_resolved",
            "mail_on_waiting",
            "mail_on_reopened",
            "status_mail_to_participants",
            "max_message_bytes",
            "transport",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password_set",
            "esp_name",
            "esp_settings_set",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password_set",
            "imap_folder",
            "imap_last_checked_at",
            "imap_last_error",
            "created_at",
        ]

    def get_extra_addresses(self, inbox: Inbox) -> list[str]:
        return [a.address for a in inbox.extra_addresses.all()]

    def get_smtp_password_set(self, inbox: Inbox) -> bool:
        return bool(inbox.smtp_password_sealed)

    def get_esp_settings_set(self, inbox: Inbox) -> bool:
        return bool(inbox.esp_settings_sealed)

    def get_imap_password_set(self, inbox: Inbox) -> bool:
        return bool(inbox.imap_password_sealed)


class InboxWriteSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="Off: its mail is refused and it sends nothing automatic."
    )
    is_default = serializers.BooleanField(
        required=False, help_text="The inbox new conversations start from (one at most)."
    )
    auto_ack_enabled = serializers.BooleanField(required=False)
    auto_ack_text = serializers.CharField(
        required=False, allow_blank=True, validators=[validate_auto_ack_text]
    )
    mail_on_resolved = serializers.BooleanField(
        required=False, help_text="Mail the client when resolved, with the rating links."
    )
    mail_on_waiting = serializers.BooleanField(
        required=False, help_text="Mail the client when the conversation waits on them."
    )
    mail_on_reopened = serializers.BooleanField(
        required=False, help_text="Mail the client when the desk reopens the conversation."
    )
    status_mail_to_participants = serializers.BooleanField(
        required=False,
        help_text="Status mails to every client participant, not only the requester.",
    )
    max_message_bytes = serializers.IntegerField(
        required=False, min_value=0, max_value=50 * 1024 * 1024
    )
    extra_addresses = serializers.ListField(
        child=serializers.EmailField(), required=False, max_length=50
    )
    from_address = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=254,
        help_text="One of its extra addresses on a verified domain to send from; blank: the "
        "provisioned address.",
    )
    transport = serializers.ChoiceField(Inbox.Transport.choices, required=False)
    smtp_host = serializers.CharField(max_length=255, required=False, allow_blank=True)
    smtp_port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    smtp_security = serializers.ChoiceField(Inbox.Security.choices, required=False)
    smtp_username = serializers.CharField(max_length=255, required=False, allow_blank=True)
    smtp_password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Stored encrypted, never shown.",
    )
    esp_name = serializers.CharField(
        max_length=30,
        required=False,
        allow_blank=True,
        help_text=f"One of {', '.join(ESP_ACCOUNTS)}.",
    )
    imap_host = serializers.CharField(max_length=255, required=False, allow_blank=True)
    imap_port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    imap_security = serializers.ChoiceField(Inbox.Security.choices, required=False)
    imap_username = serializers.CharField(max_length=255, required=False, allow_blank=True)
    imap_password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Stored encrypted; never shown.",
    )
    imap_folder = serializers.CharField(max_length=255, required=False)
    esp_settings = serializers.DictField(
        required=False,
        write_only=True,
        help_text="This inbox's own ESP account: only the credential keys of its ESP, "
        'e.g. {"server_token": "..."} for postmark; stored encrypted.',
    )


class InboxCreateSerializer(InboxWriteSerializer):
    name = serializers.CharField(
        max_length=30, help_text="Lowercase a-z, 0-9 and hyphens; the address's first part."
    )


TRANSPORT_FIELDS = (
    "transport",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "esp_name",
    "esp_settings",
)


IMAP_FIELDS = ("host", "port", "security", "username", "password", "folder")


def _set_mailbox(inbox: Inbox, data: dict) -> None:
    given = {k: data.pop(f"imap_{k}") for k in IMAP_FIELDS if f"imap_{k}" in data}
    if not given:
        return
    current = {k: getattr(inbox, f"imap_{k}") for k in IMAP_FIELDS if k != "password"}
    imap.inbox_imap_set(inbox=inbox, **(current | given))


class MailboxResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()
    fetched = serializers.IntegerField(required=False)


def _set_transport(inbox: Inbox, data: dict) -> None:
    given = {k: data.pop(k) for k in TRANSPORT_FIELDS if k in data}
    if not given:
        return
    current = {
        "transport": inbox.transport,
        "smtp_host": inbox.smtp_host,
        "smtp_port": inbox.smtp_port,
        "smtp_security": inbox.smtp_security,
        "smtp_username": inbox.smtp_username,
        "esp_name": inbox.esp_name,
    }
    transports.inbox_transport_set(inbox=inbox, **(current | given))


class SmtpTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


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
        data = serializer.validated_data
        with transaction.atomic():
            transport = {k: data.pop(k) for k in TRANSPORT_FIELDS if k in data}
            mailbox = {k: data.pop(k) for k in list(data) if k.startswith("imap_")}
            from_address = data.pop("from_address", None)
            inbox = services.inbox_create(organization=self.organization, **data)
            if from_address:
                domains.inbox_from_set(inbox=inbox, address=from_address)
            _set_transport(inbox, transport)
            _set_mailbox(inbox, mailbox)
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
        data = dict(serializer.validated_data)
        from_address = data.pop("from_address", None)
        with transaction.atomic():
            _set_transport(inbox, data)
            _set_mailbox(inbox, data)
            services.inbox_update(inbox=inbox, **data)
            if from_address is not None:
                domains.inbox_from_set(inbox=inbox, address=from_address)
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        return Response(InboxSerializer(inbox).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        services.inbox_delete(inbox=inbox)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InboxSmtpTestApi(OrganizationApiMixin, GenericAPIView):
    """Connect to the inbox's own SMTP server as sending would, and say what happened."""

    serializer_class = SmtpTestSerializer
    write_role = Role.ADMIN

    @extend_schema(request=None, responses=SmtpTestSerializer)
    def post(self, request: Request, pk: int) -> Response:
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        ok, message = transports.smtp_test(inbox=inbox)
        return Response({"ok": ok, "message": message})


class InboxImapTestApi(OrganizationApiMixin, GenericAPIView):
    """Connect to the inbox's IMAP mailbox as polling would, and say what happened."""

    serializer_class = MailboxResultSerializer
    write_role = Role.ADMIN

    @extend_schema(request=None, responses=MailboxResultSerializer)
    def post(self, request: Request, pk: int) -> Response:
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        ok, message = imap.imap_test(inbox=inbox)
        return Response({"ok": ok, "message": message})
