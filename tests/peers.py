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
