"""Mail arriving through Anymail's inbound webhooks (/anymail/<esp>/inbound/)."""

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, EventType, inbound
from anymail.webhooks.base import AnymailBasicAuthMixin
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.http import HttpRequest, HttpResponse, JsonResponse

from tickets.intake import mail_receive


def stable_bytes(message: AnymailInboundMessage, *, seed: str) -> bytes:
    """The message's bytes, the same each time one webhook payload is posted.

    An ESP that posts parsed fields instead of raw MIME has its message rebuilt
    by Anymail, and Python gives each rebuilt multipart a random boundary: a
    retried webhook would look like a new mail. Boundaries derived from the
    payload keep it the same.
    """
    for index, part in enumerate(message.walk()):
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary(f"=_tisket_{seed[:24]}_{index}")
    return message.as_bytes()


def _payload_seed(esp_event) -> str:
    # The whole payload, mail included: a boundary the mail could contain would
    # have to be derived from a hash of that very mail.
    if isinstance(esp_event, dict):
        body = json.dumps(esp_event, sort_keys=True, default=str).encode()
    else:  # ESPs that post forms give Anymail the request itself
        body = getattr(esp_event, "body", b"") or repr(esp_event).encode()
    return hashlib.sha256(body).hexdigest()


def _raw_mime(event: AnymailInboundEvent) -> bytes:
    """The mail as the ESP received it when the payload carries it, else as Anymail rebuilt it."""
    payload = event.esp_event
    if isinstance(payload, dict) and isinstance(payload.get("RawEmail"), str):  # Postmark
        return payload["RawEmail"].encode("utf-8", "surrogateescape")
    return stable_bytes(event.message, seed=_payload_seed(payload))


def anymail_inbound_received(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    message = event.message
    recipient, stripped = message.envelope_recipient or "", message.stripped_text or ""
    if not isinstance(recipient, str) or not isinstance(stripped, str):
        raise PayloadError("The envelope recipient and the stripped text are text.")
    mail_receive(
        raw=_raw_mime(event),
        source=f"anymail:{esp_name.lower()}",
        recipient=recipient,
        stripped_text=stripped,
    )


class PayloadError(ValueError):
    """An ESP posted something that is not the payload it documents."""


POSTMARK_TEXT_FIELDS = (
    "RecordType", "RawEmail", "OriginalRecipient", "StrippedTextReply", "MessageID", "From",
    "To", "Cc", "Bcc", "Subject", "TextBody", "HtmlBody", "Date", "ReplyTo", "MailboxHash",
)  # fmt: skip


def _check_fields(item: object, *, where: str, text: tuple[str, ...], required=()) -> None:
    if not isinstance(item, dict):
        raise PayloadError(f"{where} must be a JSON object.")
    for name in required:
        if name not in item:
            raise PayloadError(f"{where} lacks {name}.")
    for name in text:
        if item.get(name) is not None and not isinstance(item[name], str):
            raise PayloadError(f"{where}.{name} must be a string.")


def postmark_inbound_payload(body: bytes) -> dict:
    """The JSON object of a Postmark inbound post, with every field Anymail reads of its type."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("The body is not JSON in UTF-8.") from None
    _check_fields(payload, where="The payload", text=POSTMARK_TEXT_FIELDS)
    if payload.get("RecordType", "Inbound") != "Inbound":
        raise PayloadError(f"A {payload['RecordType']} event belongs to the tracking webhook.")
    if not any(payload.get(name) for name in ("RawEmail", "Headers", "FromFull")):
        raise PayloadError("The payload carries no mail: no RawEmail, Headers or FromFull.")
    if "\x00" in (payload.get("OriginalRecipient") or ""):
        raise PayloadError("OriginalRecipient contains a NUL character.")
    lists = {"Headers": ("Name", "Value"), "Attachments": ("ContentType", "Name")}
    lists |= {field: ("Email", "Name") for field in ("ToFull", "CcFull", "BccFull")}
    for field, names in lists.items():
        items = payload.get(field) or []
        if not isinstance(items, list):
            raise PayloadError(f"{field} must be a list.")
        required = ("Name", "Value") if field == "Headers" else ()
        for item in items:
            _check_fields(item, where=f"An item of {field}", text=names, required=required)
        if field == "Attachments":
            for item in items:
                _check_fields(item, where="An attachment", text=("Content", "Data", "ContentID"))
                if not (item.get("Content") or item.get("Data")) or "ContentType" not in item:
                    raise PayloadError("An attachment lacks its ContentType or Content.")
    if payload.get("FromFull") is not None:
        _check_fields(payload["FromFull"], where="FromFull", text=("Email", "Name"))
    return payload


class CheckedWebhookMixin:
    """Anymail's webhook view of an ESP, answering a post it cannot use with a JSON 4xx or 503.

    Anymail's parsers raise whatever a malformed body makes them raise (a
    KeyError, a JSONDecodeError...), which Django turns into a 500 that the ESP
    retries for days. The basic-auth secret is checked before anything else, so
    that only the ESP learns why its post was refused. What goes wrong after
    parsing (storing the mail) stays a 500: the ESP's retry is then what we want.
    """

    def __init__(self, **kwargs) -> None:
        self.unconfigured = ""
        try:
            super().__init__(**kwargs)
        except AnymailConfigurationError as error:  # the ESP's own key is not set
            self.unconfigured = str(error)
            self.basic_auth = AnymailBasicAuthMixin(**kwargs).basic_auth

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        AnymailBasicAuthMixin.validate_request(self, request)
        kind = "inbound" if self.signal is inbound else "tracking"
        try:
            if self.unconfigured:
                raise AnymailConfigurationError(self.unconfigured)
            return super().post(request, *args, **kwargs)
        except AnymailConfigurationError as error:
            detail = f"The {self.esp_name} {kind} webhook is not configured. {error}"
            return JsonResponse({"detail": detail}, status=503)
        except AnymailWebhookValidationFailure as error:  # a signature, past the secret
            detail = f"The {self.esp_name} {kind} webhook refused the post. {error}"
            return JsonResponse({"detail": detail}, status=400)
        except PayloadError as error:
            article = "an" if self.esp_name[0] in "AEIOU" else "a"
            detail = f"Not {article} {self.esp_name} {kind} payload. {error}"
            return JsonResponse({"detail": detail}, status=400)

    def run_validators(self, request: HttpRequest) -> None:
        with _unreadable_as_payload_error(keep=(AnymailConfigurationError,)):
            super().run_validators(request)

    def parse_events(self, request: HttpRequest) -> list:
        # Anymail calls a payload meant for the other webhook of the ESP a
        # configuration error; it is still the post that is wrong.
        with _unreadable_as_payload_error():
            return super().parse_events(request)


@contextmanager
def _unreadable_as_payload_error(keep: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Any error reading a post is the post's fault, but a refused signature and those in keep."""
    try:
        yield
    except (PayloadError, AnymailWebhookValidationFailure, *keep):
        raise
    except Exception as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise PayloadError(f"It does not parse: {reason}") from error


def checked_webhook(view_class: type) -> type:
    """Anymail's view class with CheckedWebhookMixin in front of it."""
    return type(view_class.__name__, (CheckedWebhookMixin, view_class), {})


class PostmarkInboundView(CheckedWebhookMixin, PostmarkInboundWebhookView):
    """Anymail's Postmark inbound webhook, minus parsing a RawEmail that is stored as it came.

    The worker parses every mail anyway; parsing it here as well cost more than
    the rest of the request. Basic auth, validation and the signal are Anymail's.
    Payloads without RawEmail go through Anymail unchanged. A payload of the
    wrong shape is a 400 with the reason, so that it never reaches Anymail's parser.
    """

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        with _unreadable_as_payload_error():
            return [self.esp_to_anymail_event(postmark_inbound_payload(request.body))]

    def esp_to_anymail_event(self, esp_event: dict) -> AnymailInboundEvent:
        if "RawEmail" not in esp_event or esp_event.get("RecordType", "Inbound") != "Inbound":
            return super().esp_to_anymail_event(esp_event)
        message = AnymailInboundMessage()
        headers = esp_event.get("Headers") or []
        if headers and headers[0].get("Name", "").lower() == "return-path":
            message.envelope_sender = unquote(headers[0].get("Value", ""))
        message.envelope_recipient = esp_event.get("OriginalRecipient")
        message.stripped_text = esp_event.get("StrippedTextReply")
        return AnymailInboundEvent(
            event_type=EventType.INBOUND,
            timestamp=None,
            event_id=esp_event.get("MessageID"),
            esp_event=esp_event,
            message=message,
        )


def anymail_tracking_received(sender, event, esp_name: str, **kwargs) -> None:
    """Delivery, bounce and complaint events of the mail we sent (/anymail/<esp>/tracking/)."""
    from threads.outbound import delivery_recorded

    if not event.message_id:
        return
    payload = event.esp_event if isinstance(event.esp_event, dict) else {}
    # Postmark calls a soft bounce a bounce too; only a hard one stops automatic mail.
    soft = payload.get("Type") == "SoftBounce"
    delivery_recorded(
        esp_message_id=str(event.message_id),
        event=event.event_type,
        recipient=event.recipient or "",
        detail=event.description or event.mta_response or event.reject_reason or "",
        hard=event.event_type == "complained" or (event.event_type == "bounced" and not soft),
    )
