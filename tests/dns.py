"""A real DNS server for tests (dnslib) on 127.0.0.1, answering the TXT records it is given."""

from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import MX, QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zone(BaseResolver):
    """TXT records (one value, or a list of values) and MX hosts by name; else NXDOMAIN."""

    def __init__(self) -> None:
        self.txt: dict[str, str | list[str]] = {}
        self.mx: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        self.asked.append(name)
        if request.q.qtype == QTYPE.TXT and name in self.txt:
            values = self.txt[name]
            for text in [values] if isinstance(values, str) else values:
                value = text.encode()
                # A TXT string holds 255 bytes at most: a long record is several strings.
                chunks = [value[i : i + 255] for i in range(0, len(value), 255)]
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(chunks), ttl=60))
        elif request.q.qtype == QTYPE.MX and name in self.mx:
            for preference, host in enumerate(self.mx[name], start=1):
                reply.add_answer(RR(request.q.qname, QTYPE.MX, rdata=MX(host, preference * 10)))
        elif name in self.txt or name in self.mx:
            pass  # the name exists, without a record of that type: an empty answer
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
