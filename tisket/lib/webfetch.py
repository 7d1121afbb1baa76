"""JSON over HTTP(S) from a server a tenant names (their sign-on provider), guarded.

The host is resolved and checked by netguard and the socket connects to the
very address checked, so a tenant's URL never reaches the installation's own
network unless the installation allows that host. Redirects are not followed
(each hop would need the same check), answers are size-capped, and the whole
exchange runs under one deadline.
"""

import http.client
import json
import ssl
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode, urlsplit

from tisket.lib import netguard

MAX_BYTES = 512 * 1024


class FetchError(Exception):
    """The server could not be asked, or answered with something unusable; says why, briefly.

    `status` is the HTTP status of an answer other than 200 (None: no answer), and
    `document` that answer's JSON object, for a caller that knows the API's error codes.
    """

    def __init__(self, message: str, *, status: int | None = None, document: dict | None = None):
        super().__init__(message)
        self.status, self.document = status, document or {}


class _GuardedConnection(http.client.HTTPConnection):
    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: bool,
        allowed: Iterable[str],
        limit: netguard.Deadline,
        setting: str,
    ) -> None:
        super().__init__(host, port, timeout=limit.remaining())
        self._tls, self._allowed, self._limit, self._setting = tls, list(allowed), limit, setting

    def connect(self) -> None:
        sock = netguard.connect(
            self.host,
            self.port,
            allowed=self._allowed,
            limit=self._limit,
            timeout=self.timeout,
            setting=self._setting,
        )
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def url_check(url: str, *, allowed: Iterable[str]) -> str:
    """The URL if it may be fetched: https, or http for a host the installation allows."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise FetchError(f"{url[:200]} is not an https address.")
    if parts.scheme == "http" and host not in {a.strip().lower() for a in allowed}:
        raise FetchError(f"{url[:200]} must use https.")
    return url


def fetch_json(
    url: str,
    *,
    allowed: Iterable[str],
    seconds: float,
    form: Mapping[str, str] | None = None,
    json_body: Mapping | None = None,
    method: str = "",
    headers: Mapping[str, str] | None = None,
    setting: str,
) -> dict:
    """GET (or, with `form`, POST form-encoded; with `json_body`, POST or `method` JSON) a
    URL and return its JSON object.

    `allowed` lists the inside hosts the installation allows; `setting` names where.
    """
    allowed = list(allowed)
    parts = urlsplit(url_check(url, allowed=allowed))
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    body = urlencode(form).encode() if form is not None else None
    sent = {"Accept": "application/json", "User-Agent": "Tisket", **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        body = json.dumps(json_body).encode()
        sent["Content-Type"] = "application/json"
    method = method or ("POST" if body is not None else "GET")
    with netguard.deadline(seconds) as limit:
        connection = _GuardedConnection(
            parts.hostname or "", port, tls=tls, allowed=allowed, limit=limit, setting=setting
        )
        try:
            connection.request(method, target, body, sent)
            response = connection.getresponse()
            data = response.read(MAX_BYTES + 1)
        except (OSError, http.client.HTTPException, netguard.HostRefused) as error:
            raise FetchError(
                f"{parts.hostname}: {netguard.failure_class(error, expired=limit.expired)}"
            ) from None
        finally:
            connection.close()
    if len(data) > MAX_BYTES:
        raise FetchError(f"{parts.hostname} answered with more than {MAX_BYTES} bytes.")
    try:
        document = json.loads(data)
    except ValueError:
        document = None
    if response.status != 200:
        # An OAuth error answer names the error; its free text is the server's, so not repeated.
        error = document.get("error") if isinstance(document, dict) else None
        named = f" ({str(error)[:60]})" if isinstance(error, str) else ""
        raise FetchError(
            f"{parts.hostname} answered HTTP {response.status}{named}.",
            status=response.status,
            document=document if isinstance(document, dict) else None,
        )
    if not isinstance(document, dict):
        raise FetchError(f"{parts.hostname} did not answer with a JSON object.")
    return document
