"""Connections a tenant asks for (their SMTP relay, their IMAP mailbox) that cannot reach inside.

A tenant admin types a host and a port; without a guard the installation's
own network (loopback, private ranges, the cloud metadata address) is one
form away. So a host is resolved once, every address it resolves to is
checked, and the socket is connected to the very address that was checked:
a DNS answer that changes between the check and the connection (rebinding)
changes nothing. The installation may allow named hosts or networks, for a
self-hoster whose relay lives on the internal network.

Every connection also runs under a total deadline: a server that drips one
byte every few seconds never trips a per-read timeout, so a timer shuts the
socket down when the deadline passes, and whoever reads from it wakes up.
"""

import concurrent.futures
import contextlib
import functools
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class HostRefused(Exception):
    """The host is not one a tenant may connect to; the message says why, for an admin."""


def _networks(allowed: Iterable[str]) -> tuple[set[str], list[Network]]:
    names, networks = set(), []
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the last 32 bits are IPv4
_REFUSED_V6 = (
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64: any IPv4 behind it
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT)
    ipaddress.ip_network("fec0::/10"),  # site-local (deprecated, still routed in places)
)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to (mapped, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def address_is_public(address: Address) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses,
    and for IPv6 ones that lead to such an IPv4 address (a NAT64 gateway translates them)."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _REFUSED_V6):
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_is_public(embedded)
    return address.is_global and not address.is_multicast


def host_resolve(
    host: str,
    port: int,
    *,
    allowed: Iterable[str] = (),
    seconds: float | None = None,
    setting: str = "TISKET_ALLOWED_MAIL_HOSTS",
) -> list[Address]:
    """The addresses a tenant's host may be reached at; raises HostRefused or socket.gaierror.

    An address outside the public internet is refused unless the host's name,
    or a network holding the address, is in `allowed`. With `seconds`, a
    resolver slower than that (a tenant's own slow name server) is a TimeoutError.
    """
    host = host.strip().rstrip(".").lower()
    if not host:
        raise HostRefused("No host given.")
    names, networks = _networks(allowed)
    infos = _getaddrinfo(host, port, seconds)
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if host in names:
        return addresses
    refused = [
        a for a in addresses if not address_is_public(a) and not any(a in n for n in networks)
    ]
    if refused:
        raise HostRefused(
            f"{host} resolves to {refused[0]}, an address inside a private, loopback, "
            "link-local or reserved range; the installation allows no such host "
            f"({setting})."
        )
    return addresses


def _getaddrinfo(host: str, port: int, seconds: float | None) -> list:
    lookup = functools.partial(
        socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    if seconds is None:
        return lookup()
    # getaddrinfo cannot be interrupted: it runs aside, and a slow answer is left to it.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(lookup).result(timeout=max(0.1, seconds))
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"{host} did not resolve within {seconds:g} seconds") from None
    finally:
        pool.shutdown(wait=False)


class Deadline:
    """A total time limit for one conversation with a server; shuts its sockets down when due."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self.expires - time.monotonic())

    def watch(self, sock: socket.socket) -> socket.socket:
        """Shut this socket's connection down at the deadline (already due: at once).

        A copy of the descriptor is kept: wrapping the socket in TLS detaches the
        original object (its fileno becomes -1), and a shutdown through the copy
        ends the one connection they share, handshake included.
        """
        copy = sock.dup()
        with self._lock:
            self._sockets.append(copy)
            due = self.expired
        if due:
            self._shut(copy)
            raise TimeoutError(f"no answer within {self.seconds:g} seconds")
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # shutdown() wakes a thread blocked in recv() on this socket (close() would not);
        # an SSL socket wraps the same connection, so shutting the raw one is enough.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            copies, self._sockets = self._sockets, []
        for copy in copies:
            copy.close()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run the block's network calls under one total deadline."""
    limit = Deadline(seconds)
    try:
        yield limit
    finally:
        limit.cancel()


def connect(
    host: str,
    port: int,
    *,
    allowed: Iterable[str],
    limit: Deadline,
    timeout: float,
    setting: str = "TISKET_ALLOWED_MAIL_HOSTS",
) -> socket.socket:
    """A TCP connection to a checked address of host, watched by the deadline.

    `setting` names where the installation lists the hosts it allows, for the refusal.
    """
    addresses = host_resolve(
        host, port, allowed=allowed, seconds=limit.remaining(), setting=setting
    )
    error: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        limit.watch(sock)
        sock.settimeout(max(0.1, min(timeout, limit.remaining())))
        try:
            sock.connect((str(address), port))
        except OSError as exc:
            sock.close()
            error = exc
            if limit.expired:
                break
            continue
        return sock
    raise error or OSError(f"no address of {host} answered")


def failure_class(error: BaseException, *, expired: bool = False) -> str:
    """A short, peer-free description of why a connection failed: what an admin can act on.

    Never the server's own words: a tenant's server must not be able to make
    the installation repeat what it says (or what another server said).
    """
    if expired or isinstance(error, TimeoutError):
        return "Timeout: the server did not answer in time."
    if isinstance(error, HostRefused):
        return f"Not allowed: {error}"
    if isinstance(error, socket.gaierror):
        return "DNS: the host name does not resolve."
    if isinstance(error, ConnectionRefusedError):
        return "Refused: nothing accepts connections on that host and port."
    if isinstance(error, ssl.SSLCertVerificationError):
        return "TLS: the server's certificate is not valid for its name."
    if isinstance(error, ssl.SSLError):
        return "TLS: the secure connection failed."
    if isinstance(error, ConnectionError):
        return "Connection: the server closed the connection."
    return f"Connection: {type(error).__name__}."
