"""REST API of threads, messages, attachments and suppressed addresses; the intake's is in
tickets.api.intake."""

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import parsers, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inboxes.models import Inbox
from inboxes.selectors import inbox_default
from threads import outbound, selectors
from threads.downloads import attachment_response
from threads.models import Attachment, Message, OutboundMail, Suppression, Thread
from tickets import macros, search, visibility
from tickets import selectors as ticket_selectors
from tickets.conversations import conversation_start
from tickets.models import Macro, Ticket
from tickets.services import conversation_set_status, thread_reply_send
from tisket.api_auth import OrganizationApiMixin
from tisket.api_pagination import CursorPagination
from tisket.api_schema import ErrorSerializer
from tisket.lib.params import id_param
from tisket.models import Role


class ParticipantSerializer(serializers.Serializer):
    email = serializers.CharField()
    name = serializers.CharField()


class ThreadSerializer(serializers.ModelSerializer):
    inbox = serializers.CharField(source="inbox.name")
    participants = ParticipantSerializer(many=True)
    ticket = serializers.CharField(
        source="ticket_link.ticket.reference",
        default=None,
        allow_null=True,
        read_only=True,
        help_text="The reference of the ticket the conversation belongs to; null: none.",
    )

    class Meta:
        model = Thread
        fields = [
            "reference",
            "subject",
            "status",
            "inbox",
            "client_email",
            "client_name",
            "participants",
            "ticket",
            "message_count",
            "created_at",
            "updated_at",
            "last_message_at",
        ]


class ThreadUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Thread.Status.choices)


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "content_id",
            "is_inline",
            "omitted_reason",
            "download_url",
        ]

    def get_download_url(self, attachment: Attachment) -> str | None:
        if not attachment.file:
            return None
        path = reverse("api:attachment-download", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    status = serializers.ChoiceField(OutboundMail.Status.choices)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivery_event = serializers.CharField(
        help_text="The ESP's last word once sent: delivered, bounced, complained… (blank: none)."
    )
    delivery_detail = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    delivery = serializers.SerializerMethodField(
        help_text="For a mail we send: whether it left, or why not (null otherwise)."
    )
    to = AddressSerializer(many=True)
    cc = AddressSerializer(many=True)
    attachments = AttachmentSerializer(many=True)
    author = serializers.EmailField(source="author.user.email", default=None, allow_null=True)
    is_automated = serializers.BooleanField()

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "from_email",
            "from_name",
            "to",
            "cc",
            "subject",
            "html",
            "text",
            "visible_text",
            "message_id",
            "in_reply_to",
            "references",
            "author",
            "is_automated",
            "automated_reason",
            "sender_note",
            "sent_at",
            "client_read_at",
            "created_at",
            "attachments",
            "delivery",
        ]
        extra_kwargs = {
            "client_read_at": {
                "help_text": "For a mail we send: when a client first opened the conversation "
                "with it (their page or the portal); null until then."
            }
        }

    @extend_schema_field(DeliverySerializer(allow_null=True))
    def get_delivery(self, message: Message) -> dict | None:
        deliveries = list(message.deliveries.all())
        return DeliverySerializer(deliveries[-1]).data if deliveries else None


class ThreadStartSerializer(serializers.Serializer):
    inbox = serializers.IntegerField(
        required=False, help_text="The inbox to send from; blank: the organization's default inbox."
    )
    to = serializers.ListField(child=serializers.EmailField(), min_length=1, max_length=50)
    cc = serializers.ListField(
        child=serializers.EmailField(), required=False, default=list, max_length=50
    )
    subject = serializers.CharField(max_length=998)
    body = serializers.CharField()


class ThreadPagination(CursorPagination):
    ordering = ("-updated_at", "-id")


class ThreadListApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = ThreadSerializer
    pagination_class = ThreadPagination

    def get_queryset(self) -> QuerySet[Thread]:
        params = self.request.query_params
        inbox = params.get("inbox", "")
        if inbox and id_param(inbox) is None:
            raise serializers.ValidationError({"inbox": "Use an inbox id."})
        threads = selectors.threads_list(
            organization=self.organization,
            inbox=id_param(inbox) if inbox else None,
            status=params.get("status", ""),
            scope=visibility.thread_scope(self.membership),
        ).select_related("ticket_link__ticket")
        if q := params.get("q", "").strip()[:200]:
            threads = search.threads_search(threads, organization=self.organization, text=q)
        return threads

    @extend_schema(
        parameters=[
            OpenApiParameter("inbox", int, description="Inbox id"),
            OpenApiParameter("status", str, description="Comma-separated statuses"),
            OpenApiParameter("q", str, description=search.HELP),
        ],
        responses=ThreadSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ThreadSerializer(page, many=True).data)

    @extend_schema(request=ThreadStartSerializer, responses={201: ThreadSerializer})
    def post(self, request: Request) -> Response:
        """Write to a client first: a new conversation from one of the inboxes."""
        serializer = ThreadStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        inboxes = Inbox.objects.filter(organization=self.organization)
        inbox = (
            inboxes.filter(pk=data.pop("inbox")).first()
            if "inbox" in data
            else inbox_default(organization=self.organization)
        )
        if inbox is None:
            raise serializers.ValidationError({"inbox": "No such inbox."})
        thread, _, _, _ = conversation_start(
            inbox=inbox, author=self.membership, via=Ticket.Via.API, **data
        )
        thread = selectors.thread_get(
            organization=self.organization,
            reference=thread.reference,
            scope=visibility.thread_scope(self.membership),
        )
        return Response(ThreadSerializer(thread).data, status=status.HTTP_201_CREATED)


class ThreadDetailApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = ThreadSerializer

    def get(self, request: Request, reference: str) -> Response:
        thread = selectors.thread_get(
            organization=self.organization,
            reference=reference,
            scope=visibility.thread_scope(self.membership),
        )
        return Response(ThreadSerializer(thread).data)

    @extend_schema(
        request=ThreadUpdateSerializer,
        responses=ThreadSerializer,
        description="Set the status of a conversation without a ticket. A ticket's "
        "conversations follow the ticket's status: for them this answers 409.",
    )
    def patch(self, request: Request, reference: str) -> Response:
        thread = selectors.thread_get(
            organization=self.organization,
            reference=reference,
            scope=visibility.thread_scope(self.membership),
        )
        serializer = ThreadUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The conversation's one entry: it tells the client as the inbox says.
        conversation_set_status(
            thread=thread,
            ticket=None,
            status=serializer.validated_data["status"],
            actor=self.membership,
        )
        thread = selectors.thread_get(
            organization=self.organization,
            reference=reference,
            scope=visibility.thread_scope(self.membership),
        )
        return Response(ThreadSerializer(thread).data)


class MessagePagination(CursorPagination):
    ordering = ("created_at", "id")


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(help_text="Markdown; sent to the thread's clients.")
    cc = serializers.ListField(child=serializers.EmailField(), required=False, default=list)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list,
        help_text="Files (multipart/form-data); typed by content, capped per inbox.",
    )  # fmt: skip
    macro = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text="A macro's id (see POST /tickets/{reference}/macros/{id}/apply/): its "
        "actions apply to the thread's ticket with this reply, in the same transaction.",
    )  # fmt: skip


class ThreadMessagesApi(OrganizationApiMixin, GenericAPIView):
    """The thread's messages; POST sends an agent's reply to its clients."""

    serializer_class = MessageSerializer
    pagination_class = MessagePagination
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]

    @extend_schema(
        request=ReplySerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER,
                description="Any 1 to 100 visible ASCII characters, new for each reply (a "
                "UUID). A request sent again with the key of a stored reply answers 200 with "
                "that reply, and nothing more is stored or sent.",
            )
        ],
        responses={201: MessageSerializer, 200: MessageSerializer},
    )  # fmt: skip
    def post(self, request: Request, reference: str) -> Response:
        thread = selectors.thread_get(
            organization=self.organization,
            reference=reference,
            scope=visibility.thread_scope(self.membership),
        )
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        files = [(f.name, f.read()) for f in data.pop("attachments")]
        macro = self._pending_macro(thread, data.pop("macro"))
        answer = status.HTTP_201_CREATED
        try:
            with transaction.atomic():
                message, _ = thread_reply_send(
                    thread=thread,
                    author=self.membership,
                    attachments=files,
                    idempotency_key=request.headers.get("Idempotency-Key", ""),
                    **data,
                )
                if macro is not None:
                    macros.macro_apply(macro=macro, ticket=macro.ticket, actor=self.membership)
        except ObjectDoesNotExist:
            raise serializers.ValidationError(
                {"macro": "The macro names a queue or a member that no longer exists."}
            ) from None
        except outbound.ReplyAlreadySent as repeated:
            message, answer = repeated.message, status.HTTP_200_OK
        message = selectors.messages_list(thread=thread).get(pk=message.pk)
        data = MessageSerializer(message, context={"request": request}).data
        return Response(data, status=answer)

    def _pending_macro(self, thread: Thread, pk: int | None) -> Macro | None:
        if pk is None:
            return None
        macro = Macro.objects.filter(organization=self.organization, pk=pk).first()
        if macro is None:
            raise serializers.ValidationError({"macro": "No such macro."})
        macro.ticket = ticket_selectors.ticket_for_thread(
            organization=self.organization, thread_id=thread.pk
        )
        if macro.ticket is None:
            raise serializers.ValidationError({"macro": "This conversation has no ticket."})
        macro.ticket.organization = self.organization
        return macro

    @extend_schema(responses=MessageSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        thread = selectors.thread_get(
            organization=self.organization,
            reference=reference,
            scope=visibility.thread_scope(self.membership),
        )
        page = self.paginate_queryset(selectors.messages_list(thread=thread))
        data = MessageSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)


class MessageSendAgainApi(OrganizationApiMixin, GenericAPIView):
    """Queue again an agent's mail to the client that failed to leave or bounced.

    The same Message-ID is used, so a client who did get the first attempt sees
    the mail once. 409 when the mail is not failed or bounced.
    """

    serializer_class = MessageSerializer

    @extend_schema(request=None, responses={202: MessageSerializer})
    def post(self, request: Request, reference: str, pk: int) -> Response:
        thread = selectors.thread_get(
            organization=self.organization,
            reference=reference,
            scope=visibility.thread_scope(self.membership),
        )
        message = get_object_or_404(selectors.messages_list(thread=thread), pk=pk)
        outbound.message_send_again(message=message, actor=self.membership)
        message = selectors.messages_list(thread=thread).get(pk=message.pk)
        data = MessageSerializer(message, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class AttachmentDownloadApi(OrganizationApiMixin, APIView):
    """The attachment's content, as a download; 404 for another organization's."""

    # The content type is the attachment's own (sniffed when it was received).
    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY, 410: ErrorSerializer})
    def get(self, request: Request, pk: int):
        attachment = selectors.attachment_get(
            organization=self.organization, pk=pk, scope=visibility.thread_scope(self.membership)
        )
        response = attachment_response(attachment)
        if response is None:
            return Response({"detail": attachment.omitted_reason or "No content."}, status=410)
        return response


class SuppressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suppression
        fields = ["id", "address", "reason", "until", "created_at"]


class SuppressionListApi(OrganizationApiMixin, GenericAPIView):
    """The addresses the organization's automatic mail is held back from: its mail to them
    bounced hard, or they complained of it (admins)."""

    serializer_class = SuppressionSerializer
    read_role = Role.ADMIN

    @extend_schema(responses=SuppressionSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.suppressions_list(organization=self.organization))
        return self.get_paginated_response(SuppressionSerializer(page, many=True).data)


class SuppressionDetailApi(OrganizationApiMixin, GenericAPIView):
    """One suppression; DELETE lifts it, and automatic mail goes to the address again."""

    serializer_class = SuppressionSerializer
    read_role = write_role = Role.ADMIN

    def get(self, request: Request, pk: int) -> Response:
        suppression = selectors.suppression_get(organization=self.organization, pk=pk)
        return Response(SuppressionSerializer(suppression).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        suppression = selectors.suppression_get(organization=self.organization, pk=pk)
        outbound.suppression_lift(suppression=suppression, actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
