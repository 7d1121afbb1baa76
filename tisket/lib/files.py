"""Attachments: safe display names and content types judged from the bytes, not the sender.

`sniff_content_type` never answers an "active" type (HTML, SVG, XML, script) for bytes that
merely claim to be something harmless, and never answers image/* for bytes that are not an
image. SVG is reported as text/plain: it is XML that can carry script, and a browser showing
it as image/svg+xml (or as application/xml) at a top-level URL runs that script. Callers should
still serve text/html, application/xml and message/rfc822 as downloads, never inline.
"""

import codecs
import mimetypes
import re
import struct
import unicodedata

MAX_FILENAME_LENGTH = 150
SNIFF_BYTES = 64 * 1024
TEXT_SNIFF_BYTES = 8 * 1024

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_WINDOWS_ILLEGAL = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{n}" for n in "123456789¹²³"}
    | {f"lpt{n}" for n in "123456789¹²³"}
)
# Longer "extensions" are more likely part of the name ("Report v1.2 final draft of the ...").
_MAX_EXTENSION_LENGTH = 16


def safe_filename(name: str | None, *, default: str = "attachment", extension: str = "") -> str:
    """Return a harmless display name for an attachment, never empty, "." or ".."."""
    cleaned = _clean_filename(name or "")
    if cleaned:
        return cleaned
    suffix = _clean_filename(extension.lstrip("."))
    suffix = "." + suffix if suffix else ""
    return _clean_filename((default or "") + suffix) or "attachment" + suffix


def _clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    # CR LF is header folding (unfolding removes it); a tab is a space. Other controls go.
    name = name.replace("\r", "").replace("\n", "").replace("\t", " ")
    name = "".join(char for char in name if not _is_unsafe_char(char))
    name = re.split(r"[/\\]", name)[-1]
    name = _WINDOWS_ILLEGAL.sub("_", name)
    name = " ".join(name.split())
    # Leading dots hide files and make "..": trailing dots and spaces are dropped by Windows.
    name = name.lstrip(". ").rstrip(". ")
    if not name:
        return ""
    if name.partition(".")[0].lower().rstrip() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) < _MAX_EXTENSION_LENGTH:
            keep = MAX_FILENAME_LENGTH - len(extension) - 1
            name = stem[:keep].rstrip(". ") + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH].rstrip(". ")
    return name


def _is_unsafe_char(char: str) -> bool:
    return char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc"


# --- Content types -----------------------------------------------------------------------------

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_OOXML_FOLDERS = {"word/": _DOCX, "xl/": _XLSX, "ppt/": _PPTX}
_OOXML_EXTENSIONS = {
    **dict.fromkeys((".docx", ".docm", ".dotx", ".dotm"), _DOCX),
    **dict.fromkeys((".xlsx", ".xlsm", ".xltx", ".xltm"), _XLSX),
    **dict.fromkeys((".pptx", ".pptm", ".potx", ".potm", ".ppsx", ".ppsm"), _PPTX),
}
_OLE_EXTENSIONS = {
    ".msg": "application/vnd.ms-outlook",
    ".doc": "application/msword",
    ".dot": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".xlt": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pps": "application/vnd.ms-powerpoint",
}
# Stream names in an OLE2 directory (UTF-16LE), when the directory lies in the sniffed prefix.
_OLE_STREAMS = (
    ("__substg1.0_".encode("utf-16-le"), "application/vnd.ms-outlook"),
    ("WordDocument".encode("utf-16-le"), "application/msword"),
    ("Workbook".encode("utf-16-le"), "application/vnd.ms-excel"),
    ("PowerPoint Document".encode("utf-16-le"), "application/vnd.ms-powerpoint"),
)
_FTYP_BRANDS = {
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3gp6": "video/3gpp",
}
_SIMPLE_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x1f\x8b\x08", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"\x78\x9f\x3e\x22", "application/ms-tnef"),
)
_PGP_ARMOR = (
    ("-----BEGIN PGP SIGNED MESSAGE-----", "text/plain"),
    ("-----BEGIN PGP MESSAGE-----", "application/pgp-encrypted"),
    ("-----BEGIN PGP SIGNATURE-----", "application/pgp-signature"),
    ("-----BEGIN PGP PUBLIC KEY BLOCK-----", "application/pgp-keys"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "application/pgp-keys"),
)
# The HTML signatures of the WHATWG MIME sniffing standard: any of them makes a browser
# render HTML, so they are reported as text/html to be treated as such.
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p"
    r"|!--)(?:[\s>]|$)",
    re.IGNORECASE,
)
_XML_PROLOG = re.compile(
    r"(?:\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^\[>]*(?:\[.*?\])?\s*>))*\s*<([\w:.-]+)",
    re.IGNORECASE | re.DOTALL,
)
_HEADER_LINE = re.compile(r"[!-9;-~]+:")
_MAIL_HEADERS = frozenset(
    {
        "return-path", "received", "from", "to", "cc", "subject", "date", "message-id",
        "mime-version", "delivered-to", "reply-to", "sender", "dkim-signature",
        "authentication-results", "arc-seal", "x-mailer", "in-reply-to", "references",
        "content-type",
    }
)  # fmt: skip
_ACTIVE_TYPES = frozenset(
    {
        "text/html", "application/xhtml+xml", "image/svg+xml", "application/xml", "text/xml",
        "text/xsl", "application/xslt+xml", "text/x-component", "application/x-shockwave-flash",
        "application/vnd.wap.xhtml+xml", "application/hta",
    }
)  # fmt: skip
_OCTET_STREAM = "application/octet-stream"


def sniff_content_type(data: bytes, *, declared: str = "", filename: str = "") -> str:
    """Return the MIME type the first 64 KB of data show, trusting `declared` only if harmless."""
    head = bytes(data[:SNIFF_BYTES])
    declared = declared.split(";", 1)[0].strip().lower()
    extension = _extension_of(filename)
    sniffed = _sniff_binary(head, extension) or _sniff_text(head)
    if sniffed == "text/plain" and declared.startswith("text/") and _is_harmless(declared):
        return declared  # keep the flavour (text/calendar, text/csv) of a text the bytes confirm
    if sniffed:
        return sniffed
    if declared and _is_harmless(declared) and not declared.startswith("image/"):
        return declared
    return _OCTET_STREAM


def _is_harmless(content_type: str) -> bool:
    if content_type in _ACTIVE_TYPES or "/" not in content_type:
        return False
    return not any(word in content_type for word in ("script", "xml", "html"))


def _extension_of(filename: str) -> str:
    _, dot, extension = filename.strip().rpartition(".")
    return "." + extension.lower() if dot else ""


def _sniff_binary(head: bytes, extension: str) -> str | None:
    for magic, content_type in _SIMPLE_MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "video/mp4")
    if head.startswith(b"BM") and head[6:10] == b"\x00\x00\x00\x00" and len(head) >= 26:
        return "image/bmp"
    if head.startswith(b"\x00\x00\x01\x00") and _is_icon(head):
        return "image/vnd.microsoft.icon"
    if len(head) >= 2 and head[0] == 0xFF and head[1] in (0xFB, 0xF3, 0xF2):
        return "audio/mpeg"  # an MPEG audio frame without an ID3 tag
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(head, extension)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        for marker, content_type in _OLE_STREAMS:
            if marker in head:
                return content_type
        return _OLE_EXTENSIONS.get(extension, "application/x-ole-storage")
    return None


def _is_icon(head: bytes) -> bool:
    # The ICO magic is only four bytes: check that the first directory entry is plausible.
    if len(head) < 22:
        return False
    count, _, _, _, reserved, planes, bits, size, offset = struct.unpack_from("<H4BHHII", head, 4)
    return (
        count > 0
        and reserved == 0
        and planes in (0, 1)
        and bits in (0, 1, 4, 8, 16, 24, 32)
        and size > 0
        and offset >= 6 + 16 * count
    )


def _sniff_zip(head: bytes, extension: str) -> str:
    names = _zip_entry_names(head)
    for name in names:
        for folder, content_type in _OOXML_FOLDERS.items():
            if name.startswith(folder):
                return content_type
    if "[Content_Types].xml" in names and extension in _OOXML_EXTENSIONS:
        return _OOXML_EXTENSIONS[extension]
    return "application/zip"


def _zip_entry_names(head: bytes, limit: int = 32) -> list[str]:
    """Names of the first entries, read from local file headers (the central directory is at
    the end of the archive, beyond the sniffed prefix)."""
    names: list[str] = []
    offset = 0
    while len(names) < limit and head.startswith(b"PK\x03\x04", offset):
        if offset + 30 > len(head):
            break
        flags, compressed_size, name_length, extra_length = struct.unpack_from(
            "<2xH10xI4xHH", head, offset + 4
        )
        start = offset + 30
        names.append(head[start : start + name_length].decode("cp437", "replace"))
        if flags & 0x08:
            break  # sizes follow the data in a descriptor: the next header cannot be found
        offset = start + name_length + extra_length + compressed_size
    return names


def _sniff_text(head: bytes) -> str | None:
    decoded = _decode_text(head)
    if decoded is None:
        return None
    text, is_text = decoded
    stripped = text.lstrip()
    for armor, content_type in _PGP_ARMOR:
        if stripped.startswith(armor):
            return content_type
    if _HTML_START.match(stripped):
        return "text/html"
    if stripped.startswith("<?xml") or stripped[:4].lower() == "<svg":
        return _sniff_xml(stripped)
    if _looks_like_message(text):
        return "message/rfc822"
    return "text/plain" if is_text else None


def _decode_text(head: bytes) -> tuple[str, bool] | None:
    """The start of the data as text, and whether it really is text (UTF-8, or UTF-16 with a
    BOM); bytes in another 8-bit charset come back as Latin-1 to look for markup in."""
    sample = head[:TEXT_SNIFF_BYTES]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    elif b"\x00" in sample:
        return None
    else:
        codec = "utf-8-sig"
    try:
        # Not final: the sample may end in the middle of a character.
        return codecs.getincrementaldecoder(codec)().decode(sample, final=False), True
    except UnicodeDecodeError:
        if codec == "utf-16":
            return None
        return sample.decode("latin-1"), False


def _sniff_xml(text: str) -> str:
    match = _XML_PROLOG.match(text)
    root = match.group(1).rpartition(":")[2].lower() if match else ""
    if root == "svg" or re.match(r"\s*(?:<\?.*?\?>\s*)*<!doctype\s+svg", text, re.I | re.S):
        return "text/plain"
    if root == "html":
        return "text/html"
    return "application/xml"


def _looks_like_message(text: str) -> bool:
    headers: list[str] = []
    for line in text.splitlines():
        if not line:
            break
        if line[0] in " \t" and headers:
            continue  # a folded header
        if not _HEADER_LINE.match(line):
            return False
        headers.append(line.split(":", 1)[0].lower())
    if not headers:
        return False
    first_is_known = headers[0] in _MAIL_HEADERS or headers[0].startswith("x-")
    known = sum(name in _MAIL_HEADERS for name in headers)
    return first_is_known and known >= 2


# --- Extensions --------------------------------------------------------------------------------

_EXTENSIONS = {
    _DOCX: ".docx",
    _XLSX: ".xlsx",
    _PPTX: ".pptx",
    "application/xml": ".xml",
    "image/x-icon": ".ico",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/avif": ".avif",
    "image/vnd.microsoft.icon": ".ico",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/wav": ".wav",
    "audio/mp4": ".m4a",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/3gpp": ".3gp",
    "application/octet-stream": ".bin",
    "application/gzip": ".gz",
    "application/x-7z-compressed": ".7z",
    "application/vnd.rar": ".rar",
    "application/ms-tnef": ".dat",
    "application/vnd.ms-outlook": ".msg",
    "application/x-ole-storage": ".bin",
    "application/pgp-encrypted": ".asc",
    "application/pgp-signature": ".asc",
    "application/pgp-keys": ".asc",
    "message/rfc822": ".eml",
}
# The built-in table only: mimetypes.guess_extension would also read /etc/mime.types.
_MIMETYPES = mimetypes.MimeTypes()


def extension_for(content_type: str) -> str:
    """Return the usual file extension (".pdf") for a MIME type, or "" when unknown."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    return _EXTENSIONS.get(content_type) or _MIMETYPES.guess_extension(content_type) or ""
