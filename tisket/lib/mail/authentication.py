"""Is a mail's From authenticated? Verdicts of the receiving server, or our own DKIM check.

A From header proves nothing: anyone can write any address in it. Three
verdicts may vouch for it, each one only if the installation turns it on:
- the topmost Authentication-Results header (RFC 8601) of a trusted receiver:
  dmarc=pass for the From domain, or an aligned dkim=pass or spf=pass;
- the topmost Received-SPF header (RFC 7208 section 9.1): pass, for an
  envelope sender aligned with the From domain;
- a DKIM signature verified here (dkimpy) whose d= aligns with the From domain.

"Aligned" is DMARC's relaxed alignment without a public suffix list: the
domain is the From domain or one of its parents, never a bare top-level name.
Only the topmost header counts: the installation's receiver prepends its
own, and any copy below it came with the mail, from whoever wrote it.
"""

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message

import dkim
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from tisket.lib.mail.headers import header_addresses

logger = logging.getLogger(__name__)

DNS_DEADLINE = 5.0  # seconds for all the DNS lookups of one mail
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_KEYWORD = r"[A-Za-z0-9_-]+"
_METHOD_RE = re.compile(
    rf"\s*(?P<method>{_KEYWORD})\s*(?:/\s*\d+\s*)?=\s*(?P<result>{_KEYWORD})(?P<rest>.*)", re.S
)
# `ptype.property=value` and `reason=value`; other `key=value` pairs are kept too
# (Microsoft writes `action=none`), under their bare key.
_PROPERTY_RE = re.compile(
    rf"(?P<key>{_KEYWORD}(?:\s*\.\s*[A-Za-z0-9_.-]+)?)\s*=\s*(?P<value>(?:{_QUOTED}|[^\s;\"])+)"
)
_AUTHSERV_RE = re.compile(rf"\s*(?P<id>{_QUOTED}|[^\s=;]+)(?:\s+\d+)?\s*")


@dataclass(frozen=True)
class AuthResult:
    """One method's result in an Authentication-Results header: `dkim=pass header.d=x`."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: list[AuthResult]


@dataclass(frozen=True)
class ReceivedSpf:
    result: str
    properties: dict[str, str]


@dataclass(frozen=True)
class AuthenticationPolicy:
    """Which verdicts this installation trusts; all off by default."""

    trusted_authserv_ids: frozenset[str] = frozenset()
    trust_received_spf: bool = False
    dkim_verify: bool = False
    dns_servers: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.trusted_authserv_ids or self.trust_received_spf or self.dkim_verify)


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n|\r", "", value)


def _without_comments(value: str) -> str:
    """The value with its (comments) removed, nested or not; quoted strings kept whole."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
            if not depth:
                out.append(ch)
        elif ch == "\\" and (quoted or depth):
            escaped = True
            if not depth:
                out.append(ch)
        elif depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if not depth:
                out.append(" ")
        elif quoted:
            quoted = ch != '"'
            out.append(ch)
        elif ch == "(":
            depth = 1
        else:
            quoted = ch == '"'
            out.append(ch)
    return "".join(out)


def _split(value: str, separator: str = ";") -> list[str]:
    """Split on the separator outside quoted strings."""
    parts, current, quoted, escaped = [], [], False, False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _properties(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _PROPERTY_RE.finditer(text):
        key = re.sub(r"\s+", "", match["key"]).lower()
        found.setdefault(key, _unquote(match["value"]))
    return found


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """An Authentication-Results header's authserv-id and results; None if unreadable.

    Microsoft 365 leaves out the authserv-id: such a header parses, with an
    empty id, which no installation can trust.
    """
    segments = _split(_without_comments(_unfold(value)))
    first = segments[0]
    authserv_id = ""
    if (match := _AUTHSERV_RE.fullmatch(first)) is not None:
        authserv_id = _unquote(match["id"]).lower()
        segments = segments[1:]
    results = []
    for segment in segments:
        if not segment.strip() or segment.strip().lower() == "none":
            continue
        match = _METHOD_RE.fullmatch(segment)
        if match is None:
            continue  # one unreadable result spoils none of the others
        results.append(
            AuthResult(
                method=match["method"].lower(),
                result=match["result"].lower(),
                properties=_properties(match["rest"]),
            )
        )
    if not authserv_id and not results:
        return None
    return AuthenticationResults(authserv_id=authserv_id, results=results)


def parse_received_spf(value: str) -> ReceivedSpf | None:
    """A Received-SPF header's result and its key=value pairs; None if unreadable."""
    text = _without_comments(_unfold(value)).strip()
    match = re.match(rf"({_KEYWORD})(.*)", text, re.S)
    if match is None:
        return None
    return ReceivedSpf(result=match[1].lower(), properties=_properties(match[2]))


def _domain(value: str) -> str:
    """The domain of `local@domain`, `@domain` or `domain`, lowercase, as ASCII."""
    domain = _unquote(value.strip()).strip("<>").rpartition("@")[2].strip().strip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def domain_aligned(domain: str, from_domain: str) -> bool:
    """True when domain is the From domain or a parent of it (relaxed alignment)."""
    domain, from_domain = _domain(domain), _domain(from_domain)
    if "." not in domain:
        return False  # "com" is a parent of every .com domain, and aligns nothing
    return from_domain == domain or from_domain.endswith(f".{domain}")


def authentication_results_verdict(
    values: list[str], *, from_domain: str, trusted_authserv_ids: frozenset[str]
) -> str:
    """What in the topmost Authentication-Results vouches for the From domain, or ''."""
    if not values or not trusted_authserv_ids:
        return ""
    header = parse_authentication_results(values[0])
    if header is None or header.authserv_id not in trusted_authserv_ids:
        return ""
    for result in header.results:
        # The receiver judged the From domain's own policy and it failed: no other
        # result of the same header outweighs that.
        if result.method == "dmarc" and result.result not in ("pass", "none"):
            return ""
    for result in header.results:
        if result.result != "pass":
            continue
        props = result.properties
        if result.method == "dmarc" and _domain(props.get("header.from", "")) == _domain(
            from_domain
        ):
            passed = f"dmarc=pass header.from={_domain(from_domain)}"
        elif result.method == "dkim" and domain_aligned(
            props.get("header.d") or props.get("header.i", ""), from_domain
        ):
            passed = f"dkim=pass for {_domain(props.get('header.d') or props['header.i'])}"
        elif result.method == "spf" and domain_aligned(props.get("smtp.mailfrom", ""), from_domain):
            passed = f"spf=pass for {_domain(props['smtp.mailfrom'])}"
        else:
            continue
        return f"Authentication-Results of {header.authserv_id}: {passed}"
    return ""


def received_spf_verdict(values: list[str], *, from_domain: str) -> str:
    """What the topmost Received-SPF says for the From domain, or ''."""
    if not values:
        return ""
    header = parse_received_spf(values[0])
    if header is None or header.result != "pass":
        return ""
    if header.properties.get("identity", "mailfrom").lower() != "mailfrom":
        return ""  # a HELO check says nothing of the sender's domain
    envelope_from = header.properties.get("envelope-from", "")
    if not domain_aligned(envelope_from, from_domain):
        return ""
    return f"Received-SPF: pass for {_domain(envelope_from)}"


def _txt_lookup(servers: tuple[str, ...], deadline: float):
    """dkimpy's DNS function: one TXT record as bytes, or None; all lookups share a deadline."""
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*_host_port(s)) for s in servers]

    def lookup(name: bytes | str, timeout: float = DNS_DEADLINE) -> bytes | None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise dkim.DnsTimeoutError("out of time for DNS")
        qname = name.decode("ascii") if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(
                qname, "TXT", lifetime=min(left, timeout), search=False, raise_on_no_answer=False
            )
        except dns.exception.Timeout as exc:
            raise dkim.DnsTimeoutError(str(exc)) from exc
        except dns.exception.DNSException:
            return None
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(next(iter(rrset)).strings)
        return None

    return lookup


def _host_port(server: str) -> tuple[str, int]:
    """`host`, `host:port` or `[v6]:port`, port 53 by default."""
    if server.startswith("["):
        host, _, port = server[1:].partition("]")
        return host, int(port.lstrip(":") or 53)
    if server.count(":") == 1:
        host, port = server.split(":")
        return host, int(port)
    return server, 53


# Headers that say where a mail goes in the desk and who hears of it.
PLACING = (
    b"from", b"to", b"cc", b"reply-to", b"subject", b"message-id", b"in-reply-to", b"references"
)  # fmt: skip


def dkim_verdict(
    raw: bytes,
    *,
    from_domain: str,
    dns_servers: tuple[str, ...] = (),
    dns_deadline: float = DNS_DEADLINE,
) -> str:
    """Which valid DKIM signature of the mail aligns with the From domain, or ''.

    A signature must cover From and the whole body: one with l= lets anyone
    append to a mail that someone once signed. And it must cover every header
    that places the mail and widens its audience, each as many times as the
    mail has it: a signed mail replayed with a References added (or an
    In-Reply-To put above the signed one, which readers take first) would land
    as the desk's own words in a conversation of the attacker's choosing.
    """
    try:
        verifier = dkim.DKIM(raw, timeout=int(dns_deadline) or 1)
        present = Counter(name.lower() for name, _ in verifier.headers)
        count = present[b"dkim-signature"]
        if not count:
            return ""
        lookup = _txt_lookup(dns_servers, time.monotonic() + dns_deadline)
    except Exception:  # an unparsable mail, or no resolver configured on this machine
        return ""
    for index in range(count):
        try:
            prepared = verifier.verify_headerprep(index)
        except Exception as exc:
            logger.info("DKIM signature %s unreadable: %s", index, exc)
            continue
        if not prepared:
            continue
        signature, signed_headers, _ = prepared
        domain = signature[b"d"].decode("ascii", "replace")
        if b"l" in signature or b"from" not in signed_headers:
            continue
        if any(present[name] > signed_headers.count(name) for name in PLACING if name in present):
            logger.info("DKIM signature %s leaves a placing header unsigned", index)
            continue
        if not domain_aligned(domain, from_domain):
            continue  # no DNS for a signature that could not vouch anyway
        try:
            valid = verifier.verify(idx=index, dnsfunc=lookup)
        except Exception as exc:  # hostile signatures and keys: a failure, whatever dkimpy raises
            logger.info("DKIM signature %s of %s not verified: %s", index, domain, exc)
            continue
        if valid:
            return f"DKIM signature of {_domain(domain)} verified"
    return ""


def sender_verdict(
    message: Message, *, raw: bytes, from_email: str, policy: AuthenticationPolicy
) -> str:
    """What authenticates the mail's From, under this installation's policy, or ''."""
    froms = message.get_all("From", failobj=[])
    senders, _ = header_addresses(message, "From")
    if len(froms) != 1 or len(senders) != 1 or "@" not in from_email:
        return ""  # which of two senders would a verdict speak for?
    from_domain = from_email.rpartition("@")[2].lower()
    verdict = authentication_results_verdict(
        [str(v) for v in message.get_all("Authentication-Results", failobj=[])],
        from_domain=from_domain,
        trusted_authserv_ids=policy.trusted_authserv_ids,
    )
    if not verdict and policy.trust_received_spf:
        verdict = received_spf_verdict(
            [str(v) for v in message.get_all("Received-SPF", failobj=[])], from_domain=from_domain
        )
    if not verdict and policy.dkim_verify:
        verdict = dkim_verdict(raw, from_domain=from_domain, dns_servers=policy.dns_servers)
    return verdict
