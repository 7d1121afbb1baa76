"""Raw RFC 822 bytes to a ParsedMail. Never raises on bad input: every defect degrades.

Inbound mail is hostile and often broken: undeclared or unknown charsets,
malformed encoded-words, missing boundaries, crafted address headers. Each
small function here takes what it can and falls back to something safe.
"""

import codecs
import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime

from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.lib.files import safe_filename, sniff_content_type
from tisket.lib.html import clean_header_value, html_to_text

MSGID_RE = re.compile(r"<([^<>\s]{1,900})>")
LINE_BREAKS = re.compile(r"\r\n|\r|\n")
# The common simple forms of an address, which need no full RFC 5322 parse:
# `a@b.c`, `Jane Doe <a@b.c>`, `"Doe, Jane" <a@b.c>`. Anything else (comments,
# encoded words, '@' or '<' in a name, groups) goes to the strict parser.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*"
_WORD = r"[A-Za-z0-9.'_-]+"
# Words separated by single spaces, and nothing else ambiguous, so that the
# match is linear: a name with runs of spaces goes to the strict parser.
# A quoted name: printable ASCII but for the quote, backslash, '@', '<' and '>'.
_NAME = rf"""(?:(?P<name>{_WORD}(?: {_WORD})*) ?|"(?P<quoted>[ !#-;=?A-\[\]-~]*)" ?)"""
SIMPLE_ADDRESS_RE = re.compile(rf"(?P<bare>{_ADDR_SPEC})|{_NAME}?<(?P<spec>{_ADDR_SPEC})>")
SIMPLE_MAX_LENGTH = 320
MAX_REFERENCES = 50
# Charsets that mailers declare but Python does not know, or that lie.
CHARSET_ALIASES = {
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "8bit": "utf-8",
    "ansi_x3.4-1968": "ascii",
    "ks_c_5601-1987": "cp949",
    "x-user-defined": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}


@dataclass
class MailAttachment:
    filename: str
    content_type: str
    declared_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_email: str = ""
    from_problem: str = ""
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[MailAttachment] = field(default_factory=list)
    content_key: str = ""
    message: Message | None = None

    @property
    def thread_message_ids(self) -> list[str]:
        """Message-IDs this mail answers, the most direct first."""
        ids = list(self.in_reply_to)
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return ids[:MAX_REFERENCES]


def fix_surrogates(value: str) -> str:
    """Text safe to store: raw 8-bit bytes decoded as UTF-8 (errors replaced), NULs dropped.

    surrogateescape leaves undecoded header bytes as lone surrogates; and a NUL,
    which a mail may well carry, is the one character PostgreSQL cannot store.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value.replace("\x00", "")


def _unfold(value: str) -> str:
    # What email.policy.default does before parsing a header: drop the line
    # breaks of folding, keep the whitespace.
    return "".join(LINE_BREAKS.split(value))


def header_text(msg: Message, name: str) -> str:
    """A header's decoded value ('' when absent or undecodable).

    Messages are parsed with the fast compat32 policy; a header is decoded
    the way email.policy.default would, but only when it is asked for.
    """
    value = msg.get(name)
    if value is None:
        return ""
    value = str(value)
    if value.isascii() and "=?" not in value:
        # Nothing to decode: the parser would return it as is.
        return _unfold(value).strip().replace("\x00", "")
    try:
        return fix_surrogates(str(policy.default.header_factory(name, _unfold(str(value)))))
    except Exception:  # a malformed header must not sink the whole mail
        return fix_surrogates(_unfold(str(value)))


def header_addresses(msg: Message, name: str) -> tuple[list[tuple[str, str]], str]:
    """(name, address) pairs of an address header, and the problem when it is malformed.

    The strict parser of email.policy.default flags a header such as
    `alice@example.org <bob@evil.test>`: such a header yields no address at all
    rather than a guess, so a crafted From never becomes a wrong sender.
    """
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for raw in msg.get_all(name, failobj=[]):
        simple = _simple_addresses(_unfold(str(raw)))
        if simple is not None:
            pairs.extend(p for p in simple if p[1] not in {q[1] for q in pairs})
            continue
        try:
            value = policy.default.header_factory(name, _unfold(str(raw)))
            addresses = value.addresses
            defects = [d for d in value.defects if _is_serious(d)]
        except Exception as exc:
            problems.append(f"unreadable {name} header ({type(exc).__name__})")
            continue
        if defects:
            problems.append(f"malformed {name} header: {defects[0]}")
            continue
        for address in addresses:
            spec = address_normalize(fix_surrogates(address.addr_spec))
            if not address_is_valid(spec) or not spec.isprintable():
                problems.append(f"invalid address in {name}: {spec!r}")
                continue
            display = clean_header_value(fix_surrogates(address.display_name or ""), max_length=200)
            if spec not in {p[1] for p in pairs}:
                pairs.append((display, spec))
    return pairs, "; ".join(problems)


def _simple_addresses(value: str) -> list[tuple[str, str]] | None:
    """The addresses of a header made only of simple forms, or None to use the full parser."""
    if not value.isascii() or "=?" in value or "(" in value or ";" in value:
        return None
    parts = value.split(",") if '"' not in value else [value]
    pairs = []
    for part in parts:
        part = part.strip(" \t")
        if not part:
            continue
        if len(part) > SIMPLE_MAX_LENGTH:
            return None
        match = SIMPLE_ADDRESS_RE.fullmatch(part)
        if match is None:
            return None
        spec = (match["bare"] or match["spec"]).lower()
        if not address_is_valid(spec):
            return None
        display = clean_header_value(match["name"] or match["quoted"] or "", max_length=200)
        if spec not in {p[1] for p in pairs}:
            pairs.append((display, spec))
    return pairs


def _is_serious(defect: Exception) -> bool:
    from email import errors

    return isinstance(defect, errors.InvalidHeaderDefect | errors.NonPrintableDefect)


def message_ids(value: str) -> list[str]:
    value = value.replace("\x00", "")
    ids = MSGID_RE.findall(value)
    if not ids and value.strip() and " " not in value.strip():
        ids = [value.strip().strip("<>")]
    return [i for i in ids if i]


def decode_payload(part: Message) -> str:
    """The text of a part in its declared charset, falling back without ever raising."""
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        data = str(part.get_payload()).encode("utf-8", "surrogateescape")
    if not isinstance(data, bytes):
        data = str(data).encode("utf-8", "surrogateescape")
    declared = (part.get_content_charset() or "").strip().lower()
    charset = CHARSET_ALIASES.get(declared, declared)
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            codecs.lookup(candidate)
            return data.decode(candidate).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", "replace").replace("\x00", "") if data else ""


def part_filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        try:
            name = part.get_param("name")
            if isinstance(name, tuple):  # RFC 2231 (charset, language, value)
                name = codecs.decode(name[2].encode("latin-1"), name[0] or "utf-8", "replace")
        except Exception:
            name = None
    if not name:
        return ""
    name = fix_surrogates(str(name))
    if "=?" in name:  # RFC 2047 inside a parameter: wrong, and what Outlook and Gmail send
        with contextlib.suppress(Exception):  # an undecodable word stays as it came
            name = str(make_header(decode_header(name)))
    return name


def _payload_bytes(part: Message) -> bytes:
    try:
        if part.get_content_maintype() == "message":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                return inner[0].as_bytes(policy=policy.SMTP)
            return str(inner).encode("utf-8", "surrogateescape")
        data = part.get_payload(decode=True)
        if data is None:
            return str(part.get_payload()).encode("utf-8", "surrogateescape")
        return data
    except Exception:
        return b""


def _walk_leaves(msg: Message):
    """Leaf parts in order; attached messages and signatures stay whole, as attachments."""
    if msg.is_multipart():
        payload = msg.get_payload()
        if not isinstance(payload, list):
            yield msg
            return
        for part in payload:
            if part.get_content_maintype() == "message":
                yield part
            else:
                yield from _walk_leaves(part)
    else:
        yield msg


def split_parts(msg: Message) -> tuple[str, str, list[MailAttachment]]:
    """The text body, the HTML body and the attachments of a message."""
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[MailAttachment] = []
    for part in _walk_leaves(msg):
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = part_filename(part)
        is_body = disposition != "attachment" and not filename
        if is_body and content_type == "text/plain":
            texts.append(decode_payload(part))
        elif is_body and content_type == "text/html":
            htmls.append(decode_payload(part))
        else:
            data = _payload_bytes(part)
            if not data and not filename:
                continue
            if content_type.startswith("message/") and not filename:
                filename = "attached-message.eml"
            content_id = (
                fix_surrogates(_unfold(str(part.get("Content-ID", "")))).strip().strip("<>")
            )
            sniffed = sniff_content_type(data, declared=content_type, filename=filename)
            attachments.append(
                MailAttachment(
                    filename=safe_filename(filename or None),
                    content_type=sniffed,
                    declared_type=content_type,
                    data=data,
                    content_id=content_id[:250],
                    inline=disposition == "inline" or bool(content_id and not filename),
                )
            )
    return "\n".join(t for t in texts if t.strip()), "\n".join(htmls), attachments


def content_key(parsed: "ParsedMail") -> str:
    """A stable key for a mail without Message-ID: its author headers and decoded content.

    Not the raw bytes: relays add trace headers, and a mail rebuilt from an
    ESP's JSON gets a new random MIME boundary each time it is posted.
    """
    digest = hashlib.sha256()
    msg = parsed.message
    for name in ("From", "To", "Cc", "Subject", "Date"):
        digest.update(_unfold(str(msg.get(name, ""))).encode("utf-8", "surrogateescape") + b"\0")
    for body in (parsed.text, parsed.html):
        digest.update(body.replace("\r\n", "\n").strip().encode("utf-8", "replace") + b"\0")
    for attachment in parsed.attachments:
        digest.update(hashlib.sha256(attachment.data).digest())
    return digest.hexdigest()


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw RFC 822 bytes; never raises."""
    msg = message_from_bytes(raw, policy=policy.compat32)
    parsed = ParsedMail(message=msg)
    parsed.message_id = next(iter(message_ids(header_text(msg, "Message-ID"))), "")
    parsed.in_reply_to = message_ids(header_text(msg, "In-Reply-To"))[:MAX_REFERENCES]
    parsed.references = message_ids(header_text(msg, "References"))[-MAX_REFERENCES:]
    parsed.subject = clean_header_value(header_text(msg, "Subject"))
    senders, parsed.from_problem = header_addresses(msg, "From")
    if senders:
        parsed.from_name, parsed.from_email = senders[0]
    elif not parsed.from_problem:
        parsed.from_problem = "no sender address in From"
    parsed.reply_to, _ = header_addresses(msg, "Reply-To")
    parsed.to, _ = header_addresses(msg, "To")
    parsed.cc, _ = header_addresses(msg, "Cc")
    for name in ("Delivered-To", "X-Original-To", "X-Envelope-To"):
        for value in msg.get_all(name, failobj=[]):
            address = address_normalize(fix_surrogates(_unfold(str(value))))
            if address_is_valid(address):
                parsed.delivered_to.append(address)
    try:
        parsed.date = parsedate_to_datetime(_unfold(str(msg.get("Date", ""))))
        if parsed.date.tzinfo is None:
            parsed.date = None  # a naive date says nothing reliable about when
    except Exception:
        parsed.date = None
    try:
        parsed.text, parsed.html, parsed.attachments = split_parts(msg)
    except Exception:
        parsed.text = raw.decode("utf-8", "replace")
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)
    parsed.content_key = content_key(parsed)
    return parsed
