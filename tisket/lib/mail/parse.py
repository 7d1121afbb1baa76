"""Raw RFC 822 bytes to a ParsedMail. Never raises on bad input: every defect degrades.

Inbound mail is hostile and often broken: undeclared or unknown charsets,
malformed encoded-words, missing boundaries, crafted address headers. Each
small function here, in headers and in parts, takes what it can and falls back to
something safe.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import errors, message_from_bytes, policy
from email.message import Message
from email.utils import parsedate_to_datetime

from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.lib.html import clean_header_value, html_to_text
from tisket.lib.mail.headers import (
    address_repaired,
    fix_surrogates,
    header_addresses,
    header_text,
    message_ids,
    raw_header_values,
    unfold,
)
from tisket.lib.mail.parts import MailAttachment, split_parts
from tisket.lib.mail.quotes import visible_html_text, visible_text

HEADER_LINE = re.compile(rb"[A-Za-z][A-Za-z0-9_-]{0,75}[ \t]*:")
MAX_HEADER_BLOCK = 256 * 1024
SENDER_FALLBACKS = ("Reply-To", "Sender", "Return-Path")
MAX_REFERENCES = 50


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_email: str = ""
    from_problem: str = ""
    sender_note: str = ""  # where the sender came from when From could not say
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    text_from_html: bool = False  # no text part: text is the HTML rendered
    attachments: list[MailAttachment] = field(default_factory=list)
    content_key: str = ""
    message: Message | None = None

    @property
    def thread_message_ids(self) -> list[str]:
        """Message-IDs this mail answers, the most direct first."""
        ids = list(self.in_reply_to)
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return ids[:MAX_REFERENCES]


def content_key(parsed: "ParsedMail") -> str:
    """A stable key for a mail without Message-ID: its author headers and decoded content.

    Not the raw bytes: relays add trace headers, and a mail rebuilt from an
    ESP's JSON gets a new random MIME boundary each time it is posted.
    """
    digest = hashlib.sha256()
    msg = parsed.message
    for name in ("From", "To", "Cc", "Subject", "Date"):
        digest.update(unfold(str(msg.get(name, ""))).encode("utf-8", "surrogateescape") + b"\0")
    for body in (parsed.text, parsed.html):
        digest.update(body.replace("\r\n", "\n").strip().encode("utf-8", "replace") + b"\0")
    for attachment in parsed.attachments:
        digest.update(hashlib.sha256(attachment.data).digest())
    return digest.hexdigest()


def _message(raw: bytes) -> Message:
    """The message, its header block mended first when it is broken.

    What a person reads as headers: past a first line that is not one, and with a
    line that lost its folding indentation joined to the header above it.
    """
    msg = message_from_bytes(raw, policy=policy.compat32)
    if not any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        return msg
    mended = _header_block_mended(raw)
    if mended == raw:
        return msg
    repaired = message_from_bytes(mended, policy=policy.compat32)
    return repaired if len(repaired.keys()) > len(msg.keys()) else msg


def _header_block_mended(raw: bytes) -> bytes:
    lines = raw[:MAX_HEADER_BLOCK].split(b"\n")
    rest = raw[MAX_HEADER_BLOCK:]
    out: list[bytes] = []
    for i, line in enumerate(lines):
        bare = line.rstrip(b"\r")
        if not bare:
            out.extend(lines[i:])
            break
        header_next = i + 1 < len(lines) and bool(HEADER_LINE.match(lines[i + 1]))
        if HEADER_LINE.match(bare) or bare[:1] in (b" ", b"\t") or bare.startswith(b"From "):
            out.append(line)
        elif not out and header_next:
            continue  # a first line that is not a header: what follows is
        elif out and header_next:
            out.append(b" " + line)  # a folded line that lost its indentation
        else:
            out.extend(lines[i:])
            break
    return b"\n".join(out) + rest


def _sender(parsed: ParsedMail, msg: Message) -> None:
    """From's address; else a repaired From; else Reply-To, Sender, Return-Path, noted."""
    senders, parsed.from_problem = header_addresses(msg, "From")
    if not senders and not parsed.from_problem and not raw_header_values(msg, "From"):
        parsed.from_problem = "no From header"
    elif not senders and not parsed.from_problem:
        parsed.from_problem = "no sender address in From"
    if senders:
        parsed.from_name, parsed.from_email = senders[0]
        return
    repaired = address_repaired(msg, "From")
    if repaired:
        parsed.from_name, parsed.from_email = repaired
        parsed.sender_note = f"From header repaired ({parsed.from_problem})."
        return
    for name in SENDER_FALLBACKS:
        found, _ = header_addresses(msg, name)
        if not found:
            found = [a for a in [address_repaired(msg, name)] if a]
        if found:
            parsed.from_name, parsed.from_email = found[0]
            parsed.sender_note = f"Sender taken from {name}: {parsed.from_problem}."
            return


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw RFC 822 bytes; never raises."""
    msg = _message(raw)
    parsed = ParsedMail(message=msg)
    parsed.message_id = next(iter(message_ids(header_text(msg, "Message-ID"))), "")
    parsed.in_reply_to = message_ids(header_text(msg, "In-Reply-To"))[:MAX_REFERENCES]
    parsed.references = message_ids(header_text(msg, "References"))[-MAX_REFERENCES:]
    parsed.subject = clean_header_value(header_text(msg, "Subject"))
    _sender(parsed, msg)
    parsed.reply_to, _ = header_addresses(msg, "Reply-To")
    parsed.to, _ = header_addresses(msg, "To")
    parsed.cc, _ = header_addresses(msg, "Cc")
    for name in ("Delivered-To", "X-Original-To", "X-Envelope-To"):
        for value in msg.get_all(name, failobj=[]):
            address = address_normalize(fix_surrogates(unfold(str(value))))
            if address_is_valid(address):
                parsed.delivered_to.append(address)
    try:
        parsed.date = parsedate_to_datetime(unfold(str(msg.get("Date", ""))))
        if parsed.date.tzinfo is None:
            parsed.date = None  # a naive date says nothing reliable about when
    except Exception:
        parsed.date = None
    try:
        parsed.text, parsed.html, parsed.attachments = split_parts(msg, raw)
    except Exception:
        parsed.text = raw.decode("utf-8", "replace")
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)
        parsed.text_from_html = True
    parsed.content_key = content_key(parsed)
    return parsed


def mail_visible_text(parsed: ParsedMail) -> str:
    """The new text of a mail: its text part's, or its HTML's when it has no text of its own."""
    if parsed.text and not parsed.text_from_html:
        return visible_text(parsed.text)
    if parsed.html:
        return visible_html_text(parsed.html)
    return visible_text(parsed.text)
