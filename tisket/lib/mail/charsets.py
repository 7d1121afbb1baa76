"""Bytes of a mail to text, whatever its charset label says. Never raises.

Labels lie: GB2312 mail holds GBK characters, ISO-2022-JP mail holds NEC and IBM
characters (what Microsoft calls CP50221), "iso-8859-1" text holds Windows quotes,
"us-ascii" text holds UTF-8, and some labels name no charset at all. Each decoding
here tries the label as a person's mail program would read it, then UTF-8, then the
fallback the caller knows (the body's charset for a header), then a detector, and
ends with UTF-8 whose stray bytes are read as Windows-1252: never U+FFFD where some
decoding reads the bytes.
"""

import codecs
import functools

import charset_normalizer

# Labels mailers write for what Python calls by another name, or for a superset.
ALIASES = {
    "unknown-8bit": "",
    "unknown": "",
    "x-unknown": "",
    "8bit": "",
    "default": "",
    "none": "",
    "charset": "",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "x-user-defined": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "big5": "big5hkscs",
    "iso-2022-jp": "cp50221",
    "csiso2022jp": "cp50221",
    "iso-2022-jp-ms": "cp50221",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "euc-jp": "euc_jis_2004",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "windows-874": "cp874",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
}
# Latin labels whose text is really the Windows code page that extends them: bytes
# 0x80-0x9F are C1 controls in ISO 8859 and printable (quotes, dashes, €) in Windows.
WINDOWS_FOR_ISO = {
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-15": "cp1252",
    "iso8859-2": "cp1250",
    "iso8859-7": "cp1253",
    "iso8859-8": "cp1255",
    "iso8859-9": "cp1254",
    "iso8859-13": "cp1257",
    "ascii": "cp1252",
}
SINGLE_BYTE_PREFIXES = ("latin", "iso8859", "cp125", "ascii", "mac")
STATEFUL_7BIT = ("cp50221", "iso2022", "utf-7", "hz")
DETECT_LIMIT = 64 * 1024  # the detector reads this much at most


def charset_codec(label: str) -> str:
    """Python's codec name for a charset label, '' when it names none."""
    label = (label or "").strip().strip("\"'").lower()
    if label in ALIASES:
        label = ALIASES[label]
    if not label or len(label) > 40:
        return ""
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return ""


def decode_bytes(data: bytes, declared: str = "", fallback: str = "") -> str:
    """The text of these bytes, read in the declared charset as mail programs do."""
    codec = charset_codec(declared)
    if data.isascii() and not codec.startswith(STATEFUL_7BIT):
        return data.decode("ascii")
    if codec.startswith(SINGLE_BYTE_PREFIXES) and _is_utf8(data):
        return data.decode("utf-8")  # UTF-8 sent under a Latin label: its sequences tell
    if codec in WINDOWS_FOR_ISO and any(0x80 <= b <= 0x9F for b in data):
        codec = WINDOWS_FOR_ISO[codec]
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except UnicodeDecodeError:
                continue
    if codec == "utf-8":
        return data.decode("utf-8", "tisket-cp1252")  # a Latin line in a UTF-8 mail
    fallback = charset_codec(fallback)
    if fallback and fallback != codec:
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            pass
    detected = detect_charset(data)
    if detected:
        return data.decode(detected, "replace")
    return data.decode("utf-8", "tisket-cp1252")


def decode_header_bytes(data: bytes, fallback: str = "") -> str:
    """Raw 8-bit header bytes: UTF-8 (RFC 6532), else the body's charset, else detected."""
    if data.isascii():
        return data.decode("ascii")
    if _is_utf8(data):
        return data.decode("utf-8")
    return decode_bytes(data, declared="", fallback=fallback)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_charset(data: bytes) -> str:
    """The codec a detector reads these bytes with, '' when it cannot tell."""
    try:
        best = charset_normalizer.from_bytes(data[:DETECT_LIMIT]).best()
    except Exception:  # a detector bug must not cost the mail
        return ""
    return charset_codec(best.encoding) if best is not None else ""


def _cp1252_errors(error: UnicodeDecodeError) -> tuple[str, int]:
    # The bytes UTF-8 could not read, as Windows-1252 (a Latin signature under a UTF-8
    # body); its five unassigned bytes as Latin-1 so that nothing becomes U+FFFD.
    chunk = error.object[error.start : error.end]
    text = "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in chunk)
    return text, error.end


codecs.register_error("tisket-cp1252", _cp1252_errors)


# --- ISO-2022-JP as Microsoft writes it (CP50221) -----------------------------------------------

_ESC = 0x1B


def cp50221_decode(data: bytes, errors: str = "strict") -> str:
    """ISO-2022-JP with half-width katakana and the NEC and IBM rows of CP932.

    Each JIS X 0208 pair is moved to its Shift_JIS position and the whole read as
    CP932, which holds the NEC special characters (①, ㈱) and IBM extensions that
    the plain ISO-2022-JP codecs refuse.
    """
    out = bytearray()
    mode = "ascii"
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte == _ESC:
            sequence = data[i + 1 : i + 4]
            if sequence.startswith((b"(B", b"(J")):
                mode, i = "ascii", i + 3
            elif sequence.startswith(b"(I"):
                mode, i = "kana", i + 3
            elif sequence.startswith((b"$B", b"$@")):
                mode, i = "jis", i + 3
            elif sequence.startswith(b"$(D"):
                mode, i = "jisx0212", i + 4
            elif sequence.startswith(b"&@"):
                i += 3  # JIS X 0208-1990 announcement; its ESC $ B follows
            else:
                out.append(byte)
                i += 1
            continue
        if byte == 0x0E:  # SO: katakana until SI
            mode, i = "kana", i + 1
            continue
        if byte == 0x0F:
            mode, i = "ascii", i + 1
            continue
        if mode == "kana" and 0x21 <= byte <= 0x5F:
            out.append(byte + 0x80)
            i += 1
        elif mode in ("jis", "jisx0212") and i + 1 < n and 0x21 <= byte <= 0x7E:
            second = data[i + 1]
            if mode == "jisx0212":
                out += "\u3013".encode("cp932")  # no CP932 place: the geta mark JIS uses
            else:
                out += _jis_to_sjis(byte, second)
            i += 2
        else:
            out.append(byte)
            i += 1
    return out.decode("cp932", errors if errors != "strict" else "replace")


def _jis_to_sjis(first: int, second: int) -> bytes:
    lead = (first + 1) // 2 + (0x70 if first < 0x5F else 0xB0)
    trail = second + 0x7E if not first % 2 else second + (0x1F if second < 0x60 else 0x20)
    return bytes((lead, trail))


@functools.cache
def _cp50221_info() -> codecs.CodecInfo:
    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return cp50221_decode(bytes(data), errors), len(data)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return text.encode("iso2022_jp_ext", errors), len(text)

    return codecs.CodecInfo(encode, decode, name="cp50221")


def _search(name: str) -> codecs.CodecInfo | None:
    return _cp50221_info() if name in ("cp50221", "cp_50221") else None


codecs.register(_search)
