"""Raw RFC 822 bytes to a ParsedMail. Never raises on bad input: every defect degrades.

Inbound mail is hostile and often broken: undeclared or unknown charsets,
malformed encoded-words, missing boundaries, crafted address headers. Each
small function here takes what it can and falls back to something safe.
"""

import base64
import binascii
import contextlib
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import errors, message_from_bytes, policy
from email.message import Message
from email.utils import parsedate_to_datetime

from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.lib.files import safe_filename, sniff_content_type
from tisket.lib.html import clean_header_value, html_to_text
from tisket.lib.mail.charsets import (
    charset_codec,
    decode_bytes,
    decode_header_bytes,
    detect_charset,
)
from tisket.lib.mail.quotes import visible_html_text, visible_text

ENCODED_WORD = re.compile(r"=\?(?P<charset>[^?\s]{1,75})\?(?P<encoding>[bBqQ])\?(?P<text>[^?]*)\?=")
# A run of encoded words (and the whitespace between them) outside quotes.
ENCODED_RUN = re.compile(
    r"=\?[^?\s]{1,75}\?[bBqQ]\?[^?]*\?=(?:[ \t]*=\?[^?\s]{1,75}\?[bBqQ]\?[^?]*\?=)*"
)
QUOTED_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
HEADER_LINE = re.compile(rb"[A-Za-z][A-Za-z0-9_-]{0,75}[ \t]*:")
MAX_HEADER_BLOCK = 256 * 1024
LOOSE_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]@\\]{1,64}@[^\s<>\"'(),;:\[\]@\\]{1,255}")
SENDER_FALLBACKS = ("Reply-To", "Sender", "Return-Path")
UUENCODINGS = ("x-uuencode", "uuencode", "x-uue", "uue")
UU_BEGIN = re.compile(r"^begin [0-7]{3,4} (.{1,255})$", re.MULTILINE)
BLANK_LINE = re.compile(rb"\r?\n\r?\n")
FILE_LIKE = re.compile(r"[\w.-]{1,100}\.[A-Za-z0-9]{1,8}")
MAX_DEPTH = 50
# What mail programs name a type; mimetypes' first choice is not always theirs (".jpe").
COMMON_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/pjpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/svg+xml": ".svg",
    "image/heic": ".heic",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "application/pdf": ".pdf",
    "application/octet-stream": ".bin",
}
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


def fix_surrogates(value: str, fallback: str = "") -> str:
    """Text safe to store: raw 8-bit bytes decoded (UTF-8 first), NULs dropped.

    surrogateescape leaves undecoded header bytes as lone surrogates; and a NUL,
    which a mail may well carry, is the one character PostgreSQL cannot store.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_header_bytes(value.encode("utf-8", "surrogateescape"), fallback)
    return value.replace("\x00", "")


def _unfold(value: str) -> str:
    # What email.policy.default does before parsing a header: drop the line
    # breaks of folding, keep the whitespace.
    return "".join(LINE_BREAKS.split(value))


def _raw_values(msg: Message, name: str) -> list[str]:
    """A header's values as they came (compat32 would wrap 8-bit ones in a Header)."""
    name = name.lower()
    values = []
    for key, value in msg.raw_items():
        if key.lower() == name:
            values.append(value if isinstance(value, str) else str(value))
    return values


def body_charset(msg: Message) -> str:
    """The first charset the message declares for its text: how its raw headers were written."""
    cached = getattr(msg, "_tisket_body_charset", None)
    if cached is not None:
        return cached
    charset = ""
    try:
        for count, part in enumerate(msg.walk()):
            if count > 100:
                break
            declared = part.get_param("charset")
            if isinstance(declared, str) and charset_codec(declared):
                charset = declared
                break
        if not charset:
            charset = _detected_body_charset(msg)
    except Exception:  # a broken part says nothing about the charset
        charset = ""
    msg._tisket_body_charset = charset
    return charset


def _detected_body_charset(msg: Message) -> str:
    """The charset of an undeclared 8-bit text body: a longer sample than any header."""
    part = next((p for p in msg.walk() if p.get_content_maintype() == "text"), None)
    if part is None:
        return ""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or data.isascii():
        return ""
    return detect_charset(data)


def _decoded_raw(msg: Message, value: str) -> str:
    """A raw header value unfolded, its 8-bit bytes decoded (a NUL stays: it is a defect)."""
    value = _unfold(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_header_bytes(value.encode("utf-8", "surrogateescape"), body_charset(msg))
    return value


def decode_words(value: str) -> str:
    """Decode the RFC 2047 encoded words of an unstructured header, whatever their charset says.

    Adjacent words of one charset are joined before decoding (mailers split a
    character across two words); whitespace between encoded words is dropped.
    """
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # (charset, bytes) of adjacent encoded words
    position = 0

    def flush() -> None:
        while pending:
            charset = pending[0][0]
            data = b""
            while pending and pending[0][0] == charset:
                data += pending.pop(0)[1]
            out.append(decode_bytes(data, charset))

    for match in ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and (not pending or between.strip()):
            flush()
            out.append(between)
        position = match.end()
        charset = match["charset"].partition("*")[0].lower()
        pending.append((charset, _word_bytes(match["encoding"], match["text"])))
    flush()
    out.append(value[position:])
    return "".join(out)


def _word_bytes(encoding: str, text: str) -> bytes:
    try:
        if encoding in "bB":
            text = re.sub(r"[^A-Za-z0-9+/]", "", text)
            if len(text) % 4 == 1:
                text = text[:-1]  # a stray character: the rest still decodes
            return base64.b64decode(text + "=" * (-len(text) % 4))
        return binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return text.encode("ascii", "replace")


def header_text(msg: Message, name: str) -> str:
    """A header's decoded value ('' when absent).

    Messages are parsed with the fast compat32 policy; a header is decoded only
    when it is asked for: raw 8-bit bytes as UTF-8 or the body's charset, encoded
    words by their charset as mail programs read it.
    """
    values = _raw_values(msg, name)
    if not values:
        return ""
    value = _decoded_raw(msg, values[0])
    if "=?" in value:
        value = decode_words(value)
    return value.strip().replace("\x00", "")


def _phrase_words_quoted(value: str) -> str:
    """An address header with its encoded words decoded into quoted strings.

    Encoded words inside a quoted display name are decoded as mail programs do
    (RFC 2047 forbids them there, but they are common); a decoded word becomes
    a quoted string, so that no decoded ',', '<' or '@' can make an address.
    """

    def quoted(text: str) -> str:
        text = clean_header_value(text, max_length=200)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def in_quotes(match: re.Match) -> str:
        inner = match.group(1)
        if "=?" not in inner:
            return match.group(0)
        return quoted(decode_words(inner.replace('\\"', '"')))

    value = QUOTED_STRING.sub(in_quotes, value)

    def run(match: re.Match) -> str:
        return quoted(decode_words(match.group(0)))

    return ENCODED_RUN.sub(run, value)


def header_addresses(msg: Message, name: str) -> tuple[list[tuple[str, str]], str]:
    """(name, address) pairs of an address header, and the problem when it is malformed.

    The strict parser of email.policy.default flags a header such as
    `alice@example.org <bob@evil.test>`: such a header yields no address at all
    rather than a guess, so a crafted From never becomes a wrong sender.
    """
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for raw in _raw_values(msg, name):
        text = _decoded_raw(msg, raw)
        simple = _simple_addresses(text)
        if simple is not None:
            pairs.extend(p for p in simple if p[1] not in {q[1] for q in pairs})
            continue
        if "=?" in text:
            text = _phrase_words_quoted(text)
        try:
            value = policy.default.header_factory(name, text)
            addresses = value.addresses
            defects = [d for d in value.defects if _is_serious(d)]
        except Exception as exc:
            problems.append(f"unreadable {name} header ({type(exc).__name__})")
            continue
        if defects:
            problems.append(f"malformed {name} header: {defects[0]}")
            continue
        for address in addresses:
            spec = address_normalize(fix_surrogates(address.addr_spec)).rstrip(".")
            if not address_is_valid(spec) or not spec.isprintable() or not _domain_ok(spec):
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
    try:
        declared = part.get_param("charset")
    except Exception:
        declared = None
    if isinstance(declared, tuple):  # RFC 2231 form
        declared = declared[2]
    return decode_bytes(data, str(declared or "")).replace("\x00", "")


def part_filename(part: Message) -> str:
    """A part's file name: Content-Disposition's, else Content-Type's name, decoded."""
    name = ""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, header=header)
        except Exception:  # a parameter no parser reads names nothing
            value = None
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded value)
            data = value[2].encode("raw-unicode-escape", "replace")
            value = decode_bytes(data, value[0] or "utf-8")
        if value:
            name = fix_surrogates(email.utils.unquote(str(value)), body_charset(part))
            break
    if "=?" in name:  # RFC 2047 inside a parameter: wrong, and what Outlook and Gmail send
        name = decode_words(name)
    return name.strip()


def _payload_bytes(part: Message, originals: dict[int, bytes]) -> bytes:
    try:
        if part.get_content_maintype() == "message":
            if id(part) in originals:
                return originals[id(part)]
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                return b"".join(m.as_bytes(policy=policy.compat32) for m in inner)
            return str(inner).encode("utf-8", "surrogateescape")
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding in UUENCODINGS:
            return _uudecoded(part)
        data = part.get_payload(decode=True)
        if data is None:
            return str(part.get_payload()).encode("utf-8", "surrogateescape")
        return data
    except Exception:  # a part no decoder reads: its text as it came, never the whole mail
        return str(part.get_payload()).encode("utf-8", "surrogateescape")


def _uudecoded(part: Message) -> bytes:
    """A uuencoded part, with or without its "begin" and "end" lines."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return b""
    out = bytearray()
    for line in payload.encode("utf-8", "surrogateescape").splitlines():
        if line.startswith(b"begin ") or not line.strip():
            continue
        if line.strip() in (b"end", b"`"):
            if line.strip() == b"end":
                break
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # Some encoders write lines longer than their length byte says.
            with contextlib.suppress(binascii.Error, IndexError):
                out += binascii.a2b_uu(line[: ((line[0] - 32) & 63) * 4 // 3 + 5])
    return bytes(out)


def _uu_filename(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, str):
        match = UU_BEGIN.search(payload[:4096])
        if match:
            return match.group(1).strip()
    return ""


def _split_multipart(body: bytes, boundary: str) -> list[bytes] | None:
    """The raw bodies between the boundary lines of a multipart body, or None."""
    try:
        marker = re.compile(
            rb"(?:^|\r?\n)--" + re.escape(boundary.encode("ascii")) + rb"(--)?[ \t]*(?:\r?\n|$)"
        )
    except UnicodeEncodeError:
        return None
    pieces: list[bytes] = []
    start = None
    for match in marker.finditer(body):
        if start is not None:
            pieces.append(body[start : match.start()])
        if match.group(1):
            return pieces
        start = match.end()
    if start is not None:
        pieces.append(body[start:])
    return pieces


def _head_and_body(data: bytes) -> tuple[bytes, bytes]:
    for blank in (b"\r\n", b"\n"):
        if data.startswith(blank):  # a part without headers
            return b"", data[len(blank) :]
    match = BLANK_LINE.search(data)
    if match is None:
        return data, b""
    return data[: match.start()], data[match.end() :]


def original_bodies(raw: bytes, msg: Message) -> dict[int, bytes]:
    """The bytes of each attached message (by id of its part) as they came in the mail.

    The parser's tree is walked next to the raw bytes, split at the same
    boundaries; where the two disagree (a broken multipart), that branch is left
    out and its attached messages are written out again by the generator instead.
    """
    found: dict[int, bytes] = {}

    def walk(part: Message, body: bytes, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if part.get_content_maintype() == "message":
            encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
            if encoding == "base64":
                with contextlib.suppress(binascii.Error, ValueError):
                    body = base64.b64decode(body)
            elif encoding == "quoted-printable":
                body = binascii.a2b_qp(body)
            found[id(part)] = body
            return
        if not part.is_multipart():
            return
        children = part.get_payload()
        boundary = part.get_boundary()
        if not boundary or not isinstance(children, list):
            return
        pieces = _split_multipart(body, boundary)
        if pieces is None or len(pieces) != len(children):
            return
        for child, piece in zip(children, pieces, strict=True):
            walk(child, _head_and_body(piece)[1], depth + 1)

    try:
        top = raw
        if raw.startswith(b"From "):  # an mbox From line is no part of the message
            top = raw.partition(b"\n")[2]
        body = _head_and_body(top)[1]
        if msg.get_content_maintype() == "message":
            return found  # the mail itself is the attached message: shown as its content
        walk(msg, body, 0)
    except Exception:  # a tree and bytes that disagree: the generator's copies then
        return {}
    return found


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


def _attachment_name(part: Message, content_type: str, counts: dict[str, int]) -> str:
    """A name for an unnamed part, from what it carries, as mail programs show it."""
    maintype = content_type.partition("/")[0]
    if content_type == "message/rfc822" or content_type == "message/global":
        inner = part.get_payload()
        subject = ""
        if isinstance(inner, list) and inner:
            subject = clean_header_value(header_text(inner[0], "Subject"), max_length=120)
        return f"{subject or 'message'}.eml"
    if content_type in ("message/delivery-status", "message/global-delivery-status"):
        return "delivery-status.txt"
    if content_type in ("text/rfc822-headers", "message/rfc822-headers"):
        return "original-headers.txt"
    location = fix_surrogates(_unfold(str(part.get("Content-Location", "")))).strip()
    if location:
        name = location.split("?")[0].split("#")[0].rstrip("/").rpartition("/")[2]
        if FILE_LIKE.fullmatch(name):
            return name
    content_id = fix_surrogates(_unfold(str(part.get("Content-ID", "")))).strip().strip("<>")
    local = content_id.partition("@")[0]
    if FILE_LIKE.fullmatch(local) and mimetypes.guess_type(local)[0]:
        return local  # Outlook's "image001.jpg@01DB1234.56789AB0"
    extension = COMMON_EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type)
    if not extension and maintype == "text":
        extension = ".txt"
    stem = maintype if maintype in ("image", "audio", "video") else "attachment"
    counts[stem] = counts.get(stem, 0) + 1
    return f"{stem}{counts[stem]:03d}{extension or ''}"


def split_parts(msg: Message, raw: bytes = b"") -> tuple[str, str, list[MailAttachment]]:
    """The text body, the HTML body and the attachments of a message.

    A part no decoder reads becomes an attachment of its bytes as they came;
    it never costs the rest of the mail.
    """
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[MailAttachment] = []
    named_texts: list[tuple[int, str, str]] = []  # (attachment index, type, text)
    originals = original_bodies(raw, msg) if raw else {}
    counts: dict[str, int] = {}
    for part in _walk_leaves(msg):
        try:
            content_type = part.get_content_type()
            disposition = (part.get_content_disposition() or "").lower()
            filename = part_filename(part)
        except Exception:  # headers too broken to say what the part is: keep its bytes
            content_type, disposition, filename = "application/octet-stream", "attachment", ""
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding in UUENCODINGS and not filename:
            filename = _uu_filename(part)
        is_body = disposition != "attachment" and not filename
        try:
            if is_body and content_type == "text/plain" and encoding not in UUENCODINGS:
                texts.append(decode_payload(part))
                continue
            if is_body and content_type == "text/html":
                htmls.append(decode_payload(part))
                continue
        except Exception:  # fall through: the part is kept as an attachment
            filename = filename or f"part{len(attachments) + 1:03d}.txt"
        data = _payload_bytes(part, originals)
        if not data and not filename:
            continue
        if not filename:
            filename = _attachment_name(part, content_type, counts)
        elif content_type in ("text/plain", "text/html") and disposition != "attachment":
            with contextlib.suppress(Exception):
                named_texts.append((len(attachments), content_type, decode_payload(part)))
        content_id = fix_surrogates(_unfold(str(part.get("Content-ID", "")))).strip().strip("<>")
        sniffed = sniff_content_type(data, declared=content_type, filename=filename)
        attachments.append(
            MailAttachment(
                filename=safe_filename(filename),
                content_type=sniffed,
                declared_type=content_type,
                data=data,
                content_id=content_id[:250],
                inline=disposition == "inline" or bool(content_id and not part_filename(part)),
            )
        )
    if not any(t.strip() for t in texts) and not htmls and named_texts:
        # A text part with a file name but nothing else to read (a gateway named the
        # body "message.txt"): it is the body.
        index, content_type, text = named_texts[0]
        (texts if content_type == "text/plain" else htmls).append(text)
        del attachments[index]
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
    if not senders and not parsed.from_problem and not _raw_values(msg, "From"):
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


def address_repaired(msg: Message, name: str) -> tuple[str, str] | None:
    """(name, address) of a header holding one address in a form the strict parser refuses.

    A trailing dot, doubled brackets, odd quoting, no brackets around the address:
    a person reads one address there. Two different addresses stay unreadable, so
    that `alice@example.org <bob@evil.test>` never becomes either of them.
    """
    for raw in _raw_values(msg, name)[:1]:
        text = _decoded_raw(msg, raw)[: SIMPLE_MAX_LENGTH * 4]
        if "\x00" in text:
            return None
        # An address spelled inside an encoded word is no address (it is how one is smuggled).
        bare = ENCODED_RUN.sub(" ", text)
        tokens = LOOSE_ADDRESS.findall(bare)
        if not tokens or len(tokens) != bare.count("@"):
            return None  # an '@' outside any address: `bob@a.test@evil.test`
        found = {_spec_mended(token): token for token in tokens}
        if len(found) != 1 or "" in found:
            return None
        spec, token = next(iter(found.items()))
        display = decode_words(text.replace(token, " "))
        display = clean_header_value(re.sub(r"[<>\"'\\]", " ", display), max_length=200)
        return display.strip(" ,;:"), spec
    return None


def _domain_ok(spec: str) -> bool:
    """A host name (IDN included) or an address literal: no quote, no stray punctuation."""
    domain = spec.rpartition("@")[2]
    if domain.startswith("[") and domain.endswith("]"):
        return True
    return all(ch.isalnum() or ch in ".-_" for ch in domain)


def _spec_mended(token: str) -> str:
    spec = token.strip(".").lower()
    local, _, domain = spec.rpartition("@")
    spec = f"{local}@{domain.strip('.')}"
    if not spec.isascii() or not spec.isprintable() or not address_is_valid(spec):
        return ""
    if not _domain_ok(spec):
        return ""
    return spec if "." in domain or domain == "localhost" else ""


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
