"""Header decoding: encoded words, raw 8-bit bytes, addresses and Message-IDs, never raising."""

import base64
import binascii
import re
from email import errors, policy
from email.message import Message

from tisket.lib.addresses import address_as_written, address_is_valid
from tisket.lib.html import clean_header_value
from tisket.lib.mail.charsets import (
    charset_codec,
    decode_bytes,
    decode_header_bytes,
    detect_charset,
)

ENCODED_WORD = re.compile(r"=\?(?P<charset>[^?\s]{1,75})\?(?P<encoding>[bBqQ])\?(?P<text>[^?]*)\?=")
# A run of encoded words (and the whitespace between them) outside quotes.
ENCODED_RUN = re.compile(
    r"=\?[^?\s]{1,75}\?[bBqQ]\?[^?]*\?=(?:[ \t]*=\?[^?\s]{1,75}\?[bBqQ]\?[^?]*\?=)*"
)
QUOTED_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
LOOSE_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]@\\]{1,64}@[^\s<>\"'(),;:\[\]@\\]{1,255}")
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


def fix_surrogates(value: str, fallback: str = "") -> str:
    """Text safe to store: raw 8-bit bytes decoded (UTF-8 first), NULs dropped.

    surrogateescape leaves undecoded header bytes as lone surrogates; and a NUL,
    which a mail may well carry, is the one character PostgreSQL cannot store.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_header_bytes(value.encode("utf-8", "surrogateescape"), fallback)
    return value.replace("\x00", "")


def unfold(value: str) -> str:
    # What email.policy.default does before parsing a header: drop the line
    # breaks of folding, keep the whitespace.
    return "".join(LINE_BREAKS.split(value))


def raw_header_values(msg: Message, name: str) -> list[str]:
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
    value = unfold(value)
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
    values = raw_header_values(msg, name)
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
        text = text.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + _words_escaped(text) + '"'

    def in_quotes(match: re.Match) -> str:
        inner = match.group(1)
        if "=?" not in inner:
            return match.group(0)
        if match.string[match.end() : match.end() + 1] == "@":
            # A quoted local part: an encoded word never stands in an addr-spec (RFC 2047 §5).
            return '"' + _words_escaped(inner) + '"'
        return quoted(decode_words(inner.replace('\\"', '"')))

    value = QUOTED_STRING.sub(in_quotes, value)

    def run(match: re.Match) -> str:
        return quoted(decode_words(match.group(0)))

    return ENCODED_RUN.sub(run, value)


def _words_escaped(quoted_text: str) -> str:
    """Text inside a quoted string with '=?' as a quoted pair: decoded once, never twice.

    The strict parser decodes what looks like an encoded word even inside quotes; text
    already decoded (or a local part) must reach it as the literal characters it is.
    """
    return quoted_text.replace("=?", "=\\?")


def header_addresses(msg: Message, name: str) -> tuple[list[tuple[str, str]], str]:
    """(name, address) pairs of an address header, and the problem when it is malformed.

    The strict parser of email.policy.default flags a header such as
    `alice@example.org <bob@evil.test>`: such a header yields no address at all
    rather than a guess, so a crafted From never becomes a wrong sender.
    """
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for raw in raw_header_values(msg, name):
        text = _decoded_raw(msg, raw)
        simple = _simple_addresses(text)
        if simple is not None:
            pairs.extend(p for p in simple if p[1].lower() not in _keys(pairs))
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
            spec = address_as_written(fix_surrogates(address.addr_spec)).rstrip(".")
            if not address_is_valid(spec) or not spec.isprintable() or not _domain_ok(spec):
                problems.append(f"invalid address in {name}: {spec!r}")
                continue
            display = clean_header_value(fix_surrogates(address.display_name or ""), max_length=200)
            if spec.lower() not in _keys(pairs):
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
        spec = match["bare"] or match["spec"]
        if not address_is_valid(spec):
            return None
        display = clean_header_value(match["name"] or match["quoted"] or "", max_length=200)
        if spec.lower() not in _keys(pairs):
            pairs.append((display, spec))
    return pairs


def _keys(pairs: list[tuple[str, str]]) -> set[str]:
    """Addresses keep their case as written and compare case-insensitively."""
    return {address.lower() for _, address in pairs}


def _is_serious(defect: Exception) -> bool:
    return isinstance(defect, errors.InvalidHeaderDefect | errors.NonPrintableDefect)


def message_ids(value: str) -> list[str]:
    value = value.replace("\x00", "")
    ids = MSGID_RE.findall(value)
    if not ids and value.strip() and " " not in value.strip():
        ids = [value.strip().strip("<>")]
    return [i for i in ids if i]


def address_repaired(msg: Message, name: str) -> tuple[str, str] | None:
    """(name, address) of a header holding one address in a form the strict parser refuses.

    A trailing dot, doubled brackets, odd quoting, no brackets around the address:
    a person reads one address there. Two different addresses stay unreadable, so
    that `alice@example.org <bob@evil.test>` never becomes either of them.
    """
    for raw in raw_header_values(msg, name)[:1]:
        text = _decoded_raw(msg, raw)[: SIMPLE_MAX_LENGTH * 4]
        if "\x00" in text:
            return None
        # An address spelled inside an encoded word is no address (it is how one is smuggled).
        bare = ENCODED_RUN.sub(" ", text)
        tokens = LOOSE_ADDRESS.findall(bare)
        if not tokens or len(tokens) != bare.count("@"):
            return None  # an '@' outside any address: `bob@a.test@evil.test`
        found = {_spec_mended(token).lower(): token for token in tokens}
        if len(found) != 1 or "" in found:
            return None
        token = next(iter(found.values()))
        spec = _spec_mended(token)
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
    spec = token.strip(".")
    local, _, domain = spec.rpartition("@")
    spec = f"{local}@{domain.strip('.')}"
    if not spec.isascii() or not spec.isprintable() or not address_is_valid(spec):
        return ""
    if not _domain_ok(spec):
        return ""
    return spec if "." in domain or domain.lower() == "localhost" else ""
