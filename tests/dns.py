"""A real DNS server for tests (dnslib) on 127.0.0.1, answering the TXT records it is given."""

from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zone(BaseResolver):
    """TXT records by name; every other question is answered NXDOMAIN."""

    def __init__(self) -> None:
        self.txt: dict[str, str] = {}
        self.asked: list[str] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        self.asked.append(name)
        if request.q.qtype == QTYPE.TXT and name in self.txt:
            value = self.txt[name].encode()
            # A TXT string holds 255 bytes at most: a long record is several strings.
            chunks = [value[i : i + 255] for i in range(0, len(value), 255)]
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(chunks), ttl=60))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@contextmanager
def dns_server() -> Iterator[tuple[Zone, str]]:
    """A running server and its `127.0.0.1:port`, stopped on the way out."""
    zone = Zone()
    quiet = DNSLogger(log="-request,-reply,-truncated,-error")
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=quiet)
    server.start_thread()
    try:
        yield zone, f"127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.stop()
        server.server.server_close()
