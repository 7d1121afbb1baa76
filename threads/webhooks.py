"""Mail arriving through Anymail's inbound webhooks (/anymail/<esp>/inbound/)."""

import hashlib
import json
from urllib.parse import unquote

from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, EventType
from anymail.webhooks.postmark import PostmarkInboundWebhookView

from threads.inbound import inbound_receive


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
    inbound_receive(
        raw=_raw_mime(event),
        source=f"anymail:{esp_name.lower()}",
        recipient=message.envelope_recipient or "",
        stripped_text=message.stripped_text or "",
    )


class PostmarkInboundView(PostmarkInboundWebhookView):
    """Anymail's Postmark inbound webhook, minus parsing a RawEmail that is stored as it came.

    The worker parses every mail anyway; parsing it here as well cost more than
    the rest of the request. Basic auth, validation and the signal are Anymail's.
    Payloads without RawEmail go through Anymail unchanged.
    """

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
