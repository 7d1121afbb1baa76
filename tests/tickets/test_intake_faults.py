"""Intake when PostgreSQL goes away under webhook load: real gunicorn, a real database
reached through a proxy the test cuts (the shared server itself is never restarted)."""

import base64
import json
import tempfile
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import require_postgres
from tests.mail import make_mail
from tests.processes import (
    READY_WITHIN,
    http_answers,
    production_env,
    running,
    shared_database_url,
    wait,
)
from tests.proxy import Proxy
from tests.smtp import free_port
from threads.models import InboundMail

AUTH = "esp:webhook-secret"


def _post(port: int, raw: bytes, to: str) -> int:
    payload = json.dumps(
        {
            "FromFull": {"Email": "jane@client.test", "Name": ""},
            "ToFull": [{"Email": to, "Name": ""}],
            "OriginalRecipient": to,
            "Headers": [],
            "RawEmail": raw.decode(),
        }
    )
    web = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        web.request(
            "POST",
            "/anymail/postmark/inbound/",
            body=payload,
            headers={
                "Authorization": f"Basic {base64.b64encode(AUTH.encode()).decode()}",
                "Content-Type": "application/json",
            },
        )
        response = web.getresponse()
        body = response.read()
        if response.status == 503:
            assert response.getheader("Retry-After") == "30"
            assert b"database is unavailable" in body
        return response.status
    finally:
        web.close()


def _other_sessions() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_with_postgresql_away_the_webhook_answers_503_and_nothing_accepted_is_lost(inbox):
    """Mail posted while the database is cut off is refused with 503 (the ESP retries);
    mail accepted before and after is stored once; the server recovers by itself."""
    require_postgres()
    already = _other_sessions()  # earlier tests' server threads, if any: not this server's
    db = connection.settings_dict
    proxy = Proxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="tisket-pgcut-"))
    env = production_env(data, shared_database_url("127.0.0.1", proxy.port)) | {
        "TISKET_WEBHOOK_SECRET": AUTH,
        "TISKET_INBOUND_DOMAIN": "in.tisket.test",
        "DB_CONN_MAX_AGE": "60",  # connections kept: the cut breaks them mid-life
        "HOME": str(data),
    }
    mails = [
        make_mail(to=inbox.address, message_id=f"<cut{n}@client.test>", subject=f"Cut {n}")
        for n in range(30)
    ]
    web_command = ["-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                   "--workers", "2", "--threads", "4", "--graceful-timeout", "1"]  # fmt: skip
    try:
        with running(web_command, env) as web:
            wait(lambda: http_answers(port, "/healthz"), timeout=READY_WITHIN, what="gunicorn")
            before = [_post(port, raw, inbox.address) for raw in mails[:10]]
            proxy.cut()
            during = [_post(port, raw, inbox.address) for raw in mails[10:20]]
            proxy.restore()
            # Posted again, as the ESP retries, then the rest.
            after = [_post(port, raw, inbox.address) for raw in mails[10:]]
    finally:
        proxy.close()
        # The server's sessions behind the proxy end too, before the test database goes.
        wait(
            lambda: _other_sessions() <= already,
            what="the web server's database sessions ending",
        )
    assert before == [200] * 10
    assert during == [503] * 10, web.output[-3000:]
    assert after == [200] * 20, web.output[-3000:]
    stored = list(InboundMail.objects.values_list("message_id_header", flat=True))
    assert sorted(stored) == sorted(f"cut{n}@client.test" for n in range(30))
    assert "Traceback" not in web.output.replace("OperationalError", ""), web.output[-3000:]
