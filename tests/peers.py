"""Hostile network peers for tests: a listener that records who called, and a dripping server.

Each stands in for a server a tenant points Tisket at: the attacker's own
(which must never be reached, and whose words must never come back), or a
slow one that answers a byte at a time to hold a worker.
"""

import contextlib
import socket
import threading
import time


class Peer:
    """A TCP server on 127.0.0.1 that greets each caller with `greeting`, `drip` s per byte."""

    def __init__(self, greeting: bytes = b"", *, drip: float = 0.0, repeat: bool = False) -> None:
        self.greeting = greeting
        self.drip = drip
        self.repeat = repeat
        self.connections = 0
        self.bytes_sent = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "Peer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone would not
        with contextlib.suppress(OSError):
            self._sock.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while not self._stopped.is_set():
                if not self.drip:
                    conn.sendall(self.greeting)
                    self.bytes_sent += len(self.greeting)
                else:
                    for byte in self.greeting:
                        if self._stopped.wait(self.drip):
                            return
                        conn.sendall(bytes([byte]))
                        self.bytes_sent += 1
                if not self.repeat:
                    # Stay on the line, saying nothing more, until the caller hangs up.
                    conn.settimeout(0.2)
                    while not self._stopped.is_set():
                        try:
                            if not conn.recv(4096):
                                return
                        except TimeoutError:
                            continue
                    return


def wait_until(condition, *, seconds: float = 10.0) -> bool:
    """Poll condition() until it holds or the time is up (for a peer's own thread to catch up)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def self_signed_certificate(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files in directory."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class TlsPeer(Peer):
    """A Peer that speaks TLS (at once, or after a plain STARTTLS exchange), then drips.

    `plain` is what it says before TLS: a greeting, then one answer per line read.
    """

    def __init__(
        self, greeting: bytes, *, cert: tuple[str, str], drip: float, plain: list[bytes] = ()
    ) -> None:
        super().__init__(greeting, drip=drip)
        self.plain = list(plain)
        import ssl

        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*cert)

    def _talk(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if self.plain:
                reader = conn.makefile("rb")
                conn.sendall(self.plain[0])
                for answer in self.plain[1:]:
                    reader.readline()
                    conn.sendall(answer)
            conn = self.context.wrap_socket(conn, server_side=True)
            for byte in self.greeting:  # one TLS record a byte: each read succeeds
                if self._stopped.wait(self.drip):
                    return
                conn.sendall(bytes([byte]))
                self.bytes_sent += 1


class ImapPeer(Peer):
    """A minimal IMAP server with one mail, as odd as told: no UIDVALIDITY, a lying size.

    `stated_size` is what FETCH (RFC822.SIZE) answers; `literal_size` is the length
    the BODY[] literal announces (its bytes are never sent: the client must refuse it).
    """

    def __init__(
        self, *, uidvalidity: bool = True, stated_size: int = 20, literal_size: int = 0
    ) -> None:
        super().__init__()
        self.uidvalidity, self.stated_size, self.literal_size = (
            uidvalidity,
            stated_size,
            literal_size,
        )
        self.body_fetches = 0

    def _talk(self, conn: socket.socket) -> None:
        mail = b"Subject: hi\r\n\r\nhello\r\n"
        with conn, contextlib.suppress(OSError, ValueError):
            reader = conn.makefile("rb")
            conn.sendall(b"* OK ready\r\n")
            while line := reader.readline():
                tag, command = line.split(b" ", 1)
                command = command.upper()
                if command.startswith(b"LOGOUT"):
                    conn.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                    return
                if command.startswith(b"CAPABILITY"):
                    conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
                elif command.startswith((b"SELECT", b"EXAMINE")):
                    state = b"* OK [UIDVALIDITY 7]\r\n" if self.uidvalidity else b""
                    conn.sendall(b"* 1 EXISTS\r\n" + state + tag + b" OK [READ-ONLY] done\r\n")
                elif b"SEARCH" in command:
                    conn.sendall(b"* SEARCH 1\r\n" + tag + b" OK done\r\n")
                elif b"RFC822.SIZE" in command:
                    answer = b"* 1 FETCH (UID 1 RFC822.SIZE %d)\r\n" % self.stated_size
                    conn.sendall(answer + tag + b" OK done\r\n")
                elif b"FETCH" in command:
                    self.body_fetches += 1
                    if self.literal_size:
                        conn.sendall(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % self.literal_size)
                        continue  # and never a byte of it
                    literal = b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % len(mail) + mail + b")\r\n"
                    conn.sendall(literal + tag + b" OK done\r\n")
                else:
                    conn.sendall(tag + b" OK done\r\n")
