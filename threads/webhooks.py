"""Mail arriving through Anymail's inbound webhooks (/anymail/<esp>/inbound/)."""

import hashlib
import json

from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent

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
    try:
        body = json.dumps(esp_event, sort_keys=True, default=str).encode()
    except (TypeError, ValueError):
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
