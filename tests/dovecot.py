"""A private Dovecot IMAP server for tests, on its own port, with a mailbox user per test."""

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.smtp import free_port

USERS = 200
PASSWORD = "imap-secret"

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once, and costs the next logins from 127.0.0.1 no
# penalty (no socket for it): the tests of one want the answer, not brute-force delays.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={base}/mail/%u
}}
first_valid_uid = 100
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def available() -> bool:
    return shutil.which("dovecot", path="/usr/sbin:/usr/bin") is not None and os.geteuid() == 0


@dataclass
class Dovecot:
    port: int
    base: Path
    generation: int = 0

    def user(self) -> tuple[str, str]:
        """A mailbox user of its own for a test (written before the server started)."""
        self.generation += 1
        return f"user{self.generation}", PASSWORD

    def deliver(self, user: tuple[str, str], raw: bytes, flags: str | None = None) -> None:
        """Put a mail into the user's INBOX, as a mail server would."""
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(*user)
        client.append("INBOX", flags, None, raw)
        client.logout()


def start() -> tuple[Dovecot, Path]:
    base = Path(tempfile.mkdtemp(prefix="tisket-dovecot-"))
    base.chmod(0o755)  # the mail user (nobody) must reach its mailbox
    (base / "mail").mkdir()
    os.chown(base / "mail", 65534, 65534)
    # Users made up front: Dovecot's reload of a changed passwd file is not prompt.
    (base / "passwd").write_text(
        "".join(f"user{n}:{{PLAIN}}{PASSWORD}\n" for n in range(1, USERS + 1))
    )
    port = free_port()
    config = base / "dovecot.conf"
    config.write_text(CONFIG.format(base=base, port=port))
    binary = shutil.which("dovecot", path="/usr/sbin:/usr/bin")
    subprocess.run([binary, "-c", str(config)], check=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return Dovecot(port=port, base=base), config


def stop(config: Path) -> None:
    doveadm = shutil.which("doveadm", path="/usr/bin:/usr/sbin")
    subprocess.run([doveadm, "-c", str(config), "stop"], check=False, capture_output=True)
    shutil.rmtree(config.parent, ignore_errors=True)
