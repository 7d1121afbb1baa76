"""MIME parts of a message: its text and HTML bodies, payload bytes and named attachments."""

import base64
import binascii
import contextlib
import email.utils
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message

from tisket.lib.files import safe_filename, sniff_content_type
from tisket.lib.html import clean_header_value
from tisket.lib.mail.charsets import decode_bytes
from tisket.lib.mail.headers import (
    body_charset,
    decode_words,
    fix_surrogates,
    header_text,
    unfold,
)

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


@dataclass
class MailAttachment:
    filename: str
    content_type: str
    declared_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


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
        needle = b"--" + boundary.encode("ascii")
    except UnicodeEncodeError:
        return None
    pieces: list[bytes] = []
    start = None
    for line_start, line_end, closing in _boundary_lines(body, needle):
        if start is not None:
            pieces.append(body[start:line_start])
        if closing:
            return pieces
        start = line_end
    if start is not None:
        pieces.append(body[start:])
    return pieces


def _boundary_lines(body: bytes, needle: bytes) -> Iterator[tuple[int, int, bool]]:
    """Each boundary line: where it starts (its line break before), where it ends (after its
    own), and whether it closes. The line `--<boundary>[--][ \t]*` at the start of the body
    or after a line break that no earlier line took.

    Found with bytes.find: a regular expression starting with a choice of line breaks is
    tried at every byte, seconds for an attachment of tens of megabytes.
    """
    pos = 0
    while (found := body.find(needle, pos)) != -1:
        if found == 0:
            line_start = 0
        elif found > pos and body[found - 1] == 10:  # \n
            line_start = found - 2 if found - 1 > pos and body[found - 2] == 13 else found - 1
        else:
            pos = found + 1
            continue
        after = found + len(needle)
        closing = body.startswith(b"--", after)
        end = after + 2 if closing else after
        while end < len(body) and body[end] in (32, 9):  # spaces and tabs
            end += 1
        if body.startswith(b"\r\n", end):
            end += 2
        elif body.startswith(b"\n", end):
            end += 1
        elif end != len(body):
            pos = found + 1
            continue
        yield line_start, end, closing
        pos = end


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
    location = fix_surrogates(unfold(str(part.get("Content-Location", "")))).strip()
    if location:
        name = location.split("?")[0].split("#")[0].rstrip("/").rpartition("/")[2]
        if FILE_LIKE.fullmatch(name):
            return name
    content_id = fix_surrogates(unfold(str(part.get("Content-ID", "")))).strip().strip("<>")
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
        content_id = fix_surrogates(unfold(str(part.get("Content-ID", "")))).strip().strip("<>")
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
