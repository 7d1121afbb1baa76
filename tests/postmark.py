"""A small stand-in for Postmark's Domains and Servers APIs on 127.0.0.1, for the tests.

It answers the calls Tisket makes with the shapes Postmark documents: create a
domain, list and get domains, verify DKIM and the Return-Path; create, list (by
a part of the name), get, edit and delete servers; and Postmark's error answers
(HTTP 401 with ErrorCode 10, HTTP 422 with 503, 510, 512, and 601 no such server,
602 an inbound domain another server has, 603 a name taken, 604 no delete access).
"""

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "account-token-for-tests"
PUBLIC_DOMAINS = {"gmail.com", "yahoo.com", "outlook.com"}


@dataclass
class FakePostmark:
    url: str = ""
    domains: dict[int, dict] = field(default_factory=dict)
    published: set[str] = field(default_factory=set)  # names whose records DNS now shows
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    fail_with: tuple[int, dict] | None = None  # every call answers this
    servers: dict[int, dict] = field(default_factory=dict)
    may_delete: bool = True  # Postmark enables DELETE /servers/{id} per account, on request
    next_server_id: int = 7001  # never one id twice, as at Postmark

    def add_server(self, name: str, **fields) -> dict:
        """A server as Postmark makes it, with an inbound address of its own."""
        server_id, self.next_server_id = self.next_server_id, self.next_server_id + 1
        inbound_hash = hashlib.sha256(f"{server_id}".encode()).hexdigest()[:32]
        self.servers[server_id] = {
            "ID": server_id,
            "Name": name,
            "ApiTokens": [f"server-token-{server_id}"],
            "Color": "Purple",
            "SmtpApiActivated": True,
            "RawEmailEnabled": False,
            "DeliveryType": "Live",
            "ServerLink": f"https://postmarkapp.com/servers/{server_id}/streams",
            "InboundAddress": f"{inbound_hash}@inbound.postmarkapp.com",
            "InboundHookUrl": "",
            "InboundDomain": "",
            "InboundHash": inbound_hash,
            "InboundSpamThreshold": 0,
        }
        self.servers[server_id].update(fields)
        return self.servers[server_id]

    def _servers(self, method: str, path: list[str], query: dict, body: dict) -> tuple[int, dict]:
        editable = ("Name", "InboundHookUrl", "InboundDomain", "RawEmailEnabled", "Color")
        fields = {k: v for k, v in body.items() if k in editable}
        inbound = str(fields.get("InboundDomain") or "").lower()

        def domain_taken(by_other_than: int | None) -> bool:
            return bool(inbound) and any(
                s["InboundDomain"].lower() == inbound and s["ID"] != by_other_than
                for s in self.servers.values()
            )

        if path == ["servers"] and method == "POST":
            name = str(fields.get("Name", ""))
            if not name:
                return 422, {"ErrorCode": 300, "Message": "Name is required."}
            if any(s["Name"] == name for s in self.servers.values()):
                return 422, {"ErrorCode": 603, "Message": "This server name already exists."}
            if domain_taken(None):
                return 422, {"ErrorCode": 602, "Message": "Duplicate inbound domain."}
            return 200, self.add_server(name, **fields)
        if path == ["servers"] and method == "GET":
            part = (query.get("name") or [""])[0].lower()
            count = int((query.get("count") or ["100"])[0])
            offset = int((query.get("offset") or ["0"])[0])
            listed = [s for s in self.servers.values() if part in s["Name"].lower()]
            return 200, {"TotalCount": len(listed), "Servers": listed[offset : offset + count]}
        if len(path) == 2 and path[0] == "servers" and path[1].isdigit():
            server = self.servers.get(int(path[1]))
            if server is None:
                return 422, {"ErrorCode": 601, "Message": "Server does not exist."}
            if method == "GET":
                return 200, server
            if method == "PUT":
                if domain_taken(server["ID"]):
                    return 422, {"ErrorCode": 602, "Message": "Duplicate inbound domain."}
                server.update(fields)
                return 200, server
            if method == "DELETE":
                if not self.may_delete:
                    return 422, {"ErrorCode": 604, "Message": "You don't have delete access."}
                del self.servers[server["ID"]]
                return 200, {"ErrorCode": 0, "Message": f"Server {server['Name']} removed."}
        return 404, {"ErrorCode": 404, "Message": "Not found."}

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
        if path[:1] == ["servers"]:
            return self._servers(method, path, parse_qs(parts.query), body)
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

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
