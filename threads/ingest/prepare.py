"""Preparing an accepted mail for storage: sanitized HTML, visible text, automation flag,
attachment files. Runs only for mail the decision accepted; a failure here fails that mail."""

from dataclasses import dataclass, field

from django.conf import settings

from threads.ingest.decide import Candidate, Decision
from threads.models import Attachment, InboundMail, Message
from threads.services import attachments_prepare
from tisket.lib.html import sanitize_html
from tisket.lib.mail.auto import automated_reason
from tisket.lib.mail.quotes import visible_html_text, visible_text


@dataclass
class Accepted:
    """An accepted mail, ready to write."""

    row: InboundMail
    candidate: Candidate
    decision: Decision
    html: str = ""
    visible: str = ""
    automated: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    message: Message | None = None  # once stored
    outbound: bool = False  # stored as the desk's answer


def mail_prepare(
    *, row: InboundMail, candidate: Candidate, decision: Decision, own_addresses: set[str]
) -> Accepted:
    """Sanitize and flag the mail and write its attachments' files (the caller discards
    them if the batch fails)."""
    parsed = candidate.parsed
    accepted = Accepted(row=row, candidate=candidate, decision=decision)
    accepted.automated = automated_reason(
        parsed.message,
        from_email=parsed.from_email,
        own_addresses=own_addresses,
        own_domain=settings.TISKET_INBOUND_DOMAIN,
    )
    accepted.html = sanitize_html(parsed.html) if parsed.html else ""
    if row.esp_stripped_text.strip():
        accepted.visible = row.esp_stripped_text.strip()
    elif parsed.text:
        accepted.visible = visible_text(parsed.text)
    else:
        accepted.visible = visible_html_text(parsed.html) if parsed.html else ""
    accepted.attachments = attachments_prepare(
        organization_id=candidate.organization_id,
        parts=parsed.attachments,
        max_bytes=candidate.inbox.max_message_bytes,
    )
    return accepted
