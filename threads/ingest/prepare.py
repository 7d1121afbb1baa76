"""Preparing an accepted mail for storage: sanitized HTML, visible text, automation flag,
attachment files. Runs only for mail the decision accepted.

A step that breaks on what the mail holds degrades that part, not the mail: HTML
our code cannot read is kept as an attachment of its own and the mail shows its
text. Only writing the attachments' files (our storage) fails the mail.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings

from threads.ingest.decide import Candidate, Decision
from threads.models import Attachment, InboundMail, Message
from threads.services import attachments_prepare
from tisket.lib.html import sanitize_html
from tisket.lib.mail.auto import automated_reason
from tisket.lib.mail.parse import mail_visible_text
from tisket.lib.mail.parts import MailAttachment

logger = logging.getLogger(__name__)


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
    degraded: list[str] = field(default_factory=list)  # parts kept as they came, and why


def mail_prepare(
    *, row: InboundMail, candidate: Candidate, decision: Decision, own_addresses: set[str]
) -> Accepted:
    """Sanitize and flag the mail and write its attachments' files (the caller discards
    them if the batch fails)."""
    parsed = candidate.parsed
    accepted = Accepted(row=row, candidate=candidate, decision=decision)
    extra: list[MailAttachment] = []
    try:
        accepted.automated = automated_reason(
            parsed.message,
            from_email=parsed.from_email,
            own_addresses=own_addresses,
            own_domain=settings.TISKET_INBOUND_DOMAIN,
        )
    except Exception as exc:  # not knowing it is automatic costs less than the mail
        _degraded(accepted, "automation check skipped", exc)
    try:
        accepted.html = sanitize_html(parsed.html) if parsed.html else ""
    except Exception as exc:
        _degraded(accepted, "HTML kept as original.html", exc)
        data = parsed.html.encode("utf-8", "replace")
        extra.append(MailAttachment("original.html", "text/html", "text/html", data))
    try:
        accepted.visible = row.esp_stripped_text.strip() or mail_visible_text(parsed)
    except Exception as exc:
        _degraded(accepted, "quoted history not cut", exc)
        accepted.visible = parsed.text.strip()
    accepted.attachments = attachments_prepare(
        organization_id=candidate.organization_id,
        parts=[*parsed.attachments, *extra],
        max_bytes=candidate.inbox.max_message_bytes,
    )
    return accepted


def _degraded(accepted: Accepted, what: str, exc: Exception) -> None:
    logger.warning("inbound #%s: %s (%s)", accepted.row.pk, what, type(exc).__name__, exc_info=exc)
    accepted.degraded.append(f"{what} ({type(exc).__name__})")
