"""REST API of the intake: quarantine, the inbound log, raw inbound mail, fetching a mailbox now."""

import hashlib
import hmac
import time

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import parsers, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inboxes import imap
from inboxes import selectors as inbox_selectors
from inboxes.api import MailboxResultSerializer
from threads import inbound, selectors
from threads.models import InboundMail
from tickets import intake
from tickets.intake.mailboxes import mailbox_poll
from tisket.api_auth import OrganizationApiMixin
from tisket.lib.params import id_param
from tisket.models import Role


class InboundMailSerializer(serializers.ModelSerializer):
    inbox = serializers.CharField(source="inbox.name", default=None, allow_null=True)
    thread = serializers.CharField(source="thread.reference", default=None, allow_null=True)

    class Meta:
        model = InboundMail
        fields = [
            "id",
            "source",
            "status",
            "reason",
            "held_by",
            "envelope_recipient",
            "from_email",
            "subject",
            "message_id_header",
            "inbox",
            "thread",
            "raw_size",
            "attempts",
            "received_at",
            "processed_at",
        ]


class QuarantineListApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = InboundMailSerializer

    @extend_schema(responses=InboundMailSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.quarantine_list(organization=self.organization))
        return self.get_paginated_response(InboundMailSerializer(page, many=True).data)


class QuarantineReleaseApi(OrganizationApiMixin, GenericAPIView):
    """Let a held mail into its thread; its sender becomes a participant."""

    serializer_class = InboundMailSerializer

    @extend_schema(request=None, responses=InboundMailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        mail = selectors.inbound_get(organization=self.organization, pk=pk)
        result = intake.mail_release(inbound_mail=mail, actor=self.membership)
        return Response(InboundMailSerializer(result.inbound).data)


class QuarantineDiscardApi(OrganizationApiMixin, GenericAPIView):
    serializer_class = InboundMailSerializer

    @extend_schema(request=None, responses=InboundMailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        mail = selectors.inbound_get(organization=self.organization, pk=pk)
        mail = inbound.quarantine_discard(inbound=mail, actor=self.membership)
        return Response(InboundMailSerializer(mail).data)


class InboundLogApi(OrganizationApiMixin, GenericAPIView):
    """Every mail received for the organization and what became of it (admins)."""

    serializer_class = InboundMailSerializer
    read_role = Role.ADMIN

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="Comma-separated"),
            OpenApiParameter("inbox", int, description="Inbox id"),
            OpenApiParameter("sender", str, description="Part of the From address"),
        ],
        responses=InboundMailSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        inbox = id_param(params.get("inbox")) if "inbox" in params else None
        if "inbox" in params and inbox is None:
            raise serializers.ValidationError({"inbox": "Give an inbox id."})
        mails = selectors.inbound_log(
            organization=self.organization,
            status=params.get("status", ""),
            inbox=inbox,
            sender=params.get("sender", "")[:320],
        )
        page = self.paginate_queryset(mails)
        return self.get_paginated_response(InboundMailSerializer(page, many=True).data)


class RawMimeParser(parsers.BaseParser):
    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read()


def inbound_signature(*, secret: str, timestamp: str, recipient: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the timestamp, the recipient and the body, each of the first two
    ended by a newline (which neither may contain), keyed with the inbound secret.

    The newline keeps the parts apart: with a dot, which addresses contain, a captured
    request could be re-split into another recipient and another body.
    """
    signed = f"{timestamp}\n{recipient}\n".encode("utf-8", "surrogateescape") + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _inbound_signature_error(request: Request, *, secret: str) -> str:
    """Why the request's signature does not hold, or "" when it does."""
    timestamp = request.headers.get("X-Tisket-Timestamp", "").strip()
    given = request.headers.get("X-Tisket-Signature", "").strip().lower()
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "Missing or malformed X-Tisket-Timestamp (Unix time in seconds)."
    # A captured request replays only within the window, and only to its own recipient.
    window = settings.TISKET_INBOUND_SIGNATURE_WINDOW
    if abs(time.time() - int(timestamp)) > window:
        return f"X-Tisket-Timestamp is more than {window} seconds away from the server's clock."
    recipient = request.query_params.get("recipient", "")
    if any(c in recipient for c in "\r\n\x00"):
        return "The recipient contains a line break or a NUL character."
    expected = inbound_signature(
        secret=secret, timestamp=timestamp, recipient=recipient, body=request.body
    )
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters (a 500).
    if not given or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return (
            "Missing or wrong X-Tisket-Signature (hex HMAC-SHA256 of the timestamp, a"
            " newline, the recipient, a newline and the body)."
        )
    return ""


class InboundRawApi(APIView):
    """Raw RFC 822 mail from an MTA or a script, signed with TISKET_INBOUND_SECRET.

    Header `X-Tisket-Timestamp`: Unix time in seconds; header `X-Tisket-Signature`:
    hex HMAC-SHA256 of `<timestamp>.<recipient>.` followed by the body, where
    `<recipient>` is the `?recipient=` value (the envelope recipient, may be
    empty). Answers 202 once the mail is recorded.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes = [RawMimeParser]

    @extend_schema(
        request={"message/rfc822": OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter("recipient", str, description="Envelope recipient"),
            OpenApiParameter(
                "X-Tisket-Timestamp", str, OpenApiParameter.HEADER, required=True,
                description="Unix time in seconds; refused when it is outside "
                "TISKET_INBOUND_SIGNATURE_WINDOW of the server's clock",
            ),
            OpenApiParameter(
                "X-Tisket-Signature", str, OpenApiParameter.HEADER, required=True,
                description="Hex HMAC-SHA256 of `<timestamp>.<recipient>.<body>` "
                "with TISKET_INBOUND_SECRET",
            ),
        ],
        responses={
            202: inline_serializer(
                "InboundAccepted",
                {"id": serializers.IntegerField(), "status": serializers.CharField(),
                 "duplicate": serializers.BooleanField()},
            )
        },
        auth=[],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        secret = settings.TISKET_INBOUND_SECRET
        if not secret:
            return Response(
                {"detail": "Raw inbound mail is off: set TISKET_INBOUND_SECRET to enable it."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        if error := _inbound_signature_error(request, secret=secret):
            return Response({"detail": error}, status=status.HTTP_401_UNAUTHORIZED)
        body = request.body
        if not body.strip():
            return Response({"detail": "The body is empty."}, status=status.HTTP_400_BAD_REQUEST)
        mail, created = intake.mail_receive(
            raw=body, source="raw", recipient=request.query_params.get("recipient", "")
        )
        return Response(
            {"id": mail.pk, "status": mail.status, "duplicate": not created},
            status=status.HTTP_202_ACCEPTED,
        )


class InboxFetchNowApi(OrganizationApiMixin, GenericAPIView):
    """Poll the inbox's IMAP mailbox now instead of at the next minute."""

    serializer_class = MailboxResultSerializer
    write_role = Role.ADMIN

    @extend_schema(request=None, responses=MailboxResultSerializer)
    def post(self, request: Request, pk: int) -> Response:
        inbox = inbox_selectors.inbox_get(organization=self.organization, pk=pk)
        if not inbox.imap_host:
            return Response({"ok": False, "message": "This inbox has no IMAP mailbox."})
        try:
            fetched = mailbox_poll(inbox=inbox)
        except imap.MailboxError as exc:
            return Response({"ok": False, "message": str(exc), "fetched": 0})
        return Response(
            {"ok": True, "message": f"Fetched {fetched} new mail(s).", "fetched": fetched}
        )
