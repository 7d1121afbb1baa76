"""TXT and MX records through the installation's resolvers (TISKET_DNS_SERVERS), under a deadline.

A name with no such record is an empty list; a resolver that fails or runs out
of time raises DnsUnavailable, so a check can tell "not published" from
"cannot tell now".
"""

import time

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver


class DnsUnavailable(Exception):
    """The resolvers did not answer in time, or answered with an error."""


def host_port(server: str) -> tuple[str, int]:
    """`host`, `host:port` or `[v6]:port`, port 53 by default."""
    if server.startswith("["):
        host, _, port = server[1:].partition("]")
        return host, int(port.lstrip(":") or 53)
    if server.count(":") == 1:
        host, port = server.split(":")
        return host, int(port)
    return server, 53


class Lookup:
    """Lookups sharing one resolver and one deadline (seconds from now)."""

    def __init__(self, servers: tuple[str, ...] | list[str], deadline: float) -> None:
        self.resolver = dns.resolver.Resolver(configure=not servers)
        if servers:
            self.resolver.nameservers = [
                dns.nameserver.Do53Nameserver(*host_port(s)) for s in servers
            ]
        self.until = time.monotonic() + deadline

    def _answer(self, name: str, rdtype: str):
        left = self.until - time.monotonic()
        if left <= 0:
            raise DnsUnavailable("out of time for DNS")
        try:
            return self.resolver.resolve(name, rdtype, lifetime=left, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.exception.DNSException as error:
            raise DnsUnavailable(f"{type(error).__name__}: {error}") from error

    def txt(self, name: str) -> list[str]:
        """Every TXT record at the name, each one's strings joined."""
        answer = self._answer(name, "TXT")
        if answer is None:
            return []
        return [
            b"".join(record.strings).decode("utf-8", "replace")
            for record in answer
            if record.rdtype == dns.rdatatype.TXT
        ]

    def mx(self, name: str) -> list[str]:
        """The MX hosts of the name, lowercase without the final dot."""
        answer = self._answer(name, "MX")
        if answer is None:
            return []
        return [str(record.exchange).rstrip(".").lower() for record in answer]
