"""A small stand-in for Postmark's Domains API on 127.0.0.1, for the tests.

It answers the calls Tisket makes with the shapes Postmark documents: create a
domain, list and get domains, verify DKIM and the Return-Path, and Postmark's
error answers (HTTP 401 with ErrorCode 10, HTTP 422 with 503, 510, 512).
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

TOKEN = "account-token-for-tests"
PUBLIC_DOMAINS = {"gmail.com", "yahoo.com", "outlook.com"}


@dataclass
class FakePostmark:
    url: str = ""
    domains: dict[int, dict] = field(default_factory=dict)
    published: set[str] = field(default_factory=set)  # names whose records DNS now shows
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    fail_with: tuple[int, dict] | None = None  # every call answers this

    def add(self, name: str) -> dict:
        """A domain as Postmark makes it: a pending DKIM key, nothing verified yet."""
        domain_id = 36735 + len(self.domains)
        self.domains[domain_id] = {
            "ID": domain_id,
            "Name": name,
            "SPFVerified": False,
            "SPFHost": name,
            "SPFTextValue": "v=spf1 a mx include:spf.mtasv.net ~all",
            "DKIMVerified": False,
            "WeakDKIM": False,
            "DKIMHost": "",
            "DKIMTextValue": "",
            "DKIMPendingHost": f"20261204120000pm._domainkey.{name}",
            "DKIMPendingTextValue": "k=rsa;p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCFn",
            "DKIMRevokedHost": "",
            "DKIMRevokedTextValue": "",
            "SafeToRemoveRevokedKeyFromDNS": False,
            "DKIMUpdateStatus": "Pending",
            "ReturnPathDomain": f"pm-bounces.{name}",
            "ReturnPathDomainVerified": False,
            "ReturnPathDomainCNAMEValue": "pm.mtasv.net",
        }
        return self.domains[domain_id]

    def answer(self, method: str, target: str, token: str, body: dict) -> tuple[int, dict]:
        self.requests.append((method, target, body))
        if self.fail_with is not None:
            return self.fail_with
        if token != TOKEN:
            return 401, {
                "ErrorCode": 10,
                "Message": "No Account or Server API tokens were supplied.",
            }
        parts = urlsplit(target)
        path = parts.path.rstrip("/").split("/")[1:]
        if path == ["domains"] and method == "POST":
            name = str(body.get("Name", "")).lower()
            if name in PUBLIC_DOMAINS:
                return 422, {"ErrorCode": 503, "Message": "You cannot use a public domain."}
            if any(d["Name"] == name for d in self.domains.values()):
                return 422, {"ErrorCode": 512, "Message": "This domain already exists."}
            return 200, self.add(name)
        if path == ["domains"] and method == "GET":
            listed = [
                {k: d[k] for k in ("ID", "Name", "SPFVerified", "DKIMVerified", "WeakDKIM")}
                for d in self.domains.values()
            ]
            return 200, {"TotalCount": len(listed), "Domains": listed}
        if len(path) >= 2 and path[0] == "domains" and path[1].isdigit():
            domain = self.domains.get(int(path[1]))
            if domain is None:
                return 422, {"ErrorCode": 510, "Message": "This domain was not found."}
            shown = domain["Name"] in self.published
            if path[2:] == ["verifyDkim"] and method == "PUT" and shown:
                domain.update(
                    DKIMHost=domain["DKIMPendingHost"] or domain["DKIMHost"],
                    DKIMTextValue=domain["DKIMPendingTextValue"] or domain["DKIMTextValue"],
                    DKIMPendingHost="",
                    DKIMPendingTextValue="",
                    DKIMVerified=True,
                    DKIMUpdateStatus="Verified",
                )
            if path[2:] == ["verifyReturnPath"] and method == "PUT":
                domain["ReturnPathDomainVerified"] = shown
            if path[2:] in ([], ["verifyDkim"], ["verifyReturnPath"]):
                return 200, domain
        return 404, {"ErrorCode": 404, "Message": "Not found."}


def serve() -> tuple[FakePostmark, ThreadingHTTPServer]:
    fake = FakePostmark()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            token = self.headers.get("X-Postmark-Account-Token", "")
            status, document = fake.answer(self.command, self.path, token, body)
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
