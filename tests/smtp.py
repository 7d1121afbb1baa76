"""A real SMTP server for tests (aiosmtpd), keeping what it is sent."""

import email
import socket
from email import policy


class Mailbox:
    """An SMTP server's handler that keeps what it is sent, or answers as told."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.raw: list[bytes] = []  # each mail's bytes as sent (a DKIM signature covers them)
        self.answer = "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answer.startswith("250"):
            mail = email.message_from_bytes(envelope.original_content, policy=policy.default)
            self.received.append((list(envelope.rcpt_tos), mail))
            self.raw.append(envelope.original_content)
        return self.answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
