"""A cache (Redis) that is down or hung degrades the desk; it never breaks a page or a reply."""

import pytest
from django.urls import reverse

from tests.conftest import api_client
from tests.mail import deliver, make_mail
from tests.peers import Peer
from tests.smtp import free_port
from tests.tickets.conversation_seed import seed_conversation
from threads.client_access import client_link_token
from threads.models import Message, OutboundMail


def _redis_at(settings, port: int) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "tisket.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            # A hung Redis costs each cache call its whole timeout: short ones keep this quick.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 0.2},
        }
    }


@pytest.fixture(params=["down", "hung"])
def broken_cache(request, settings):
    """No Redis at the address, or one that takes the connection and never answers."""
    if request.param == "down":
        _redis_at(settings, free_port())
        yield
        return
    with Peer(b"") as peer:
        _redis_at(settings, peer.port)
        yield


def test_the_agents_pages_and_reply_work_without_the_cache(acme, inbox, web, broken_cache):
    conv = seed_conversation(acme, inbox)
    client = web(acme.agent)
    base = f"/acme/threads/{conv.thread.reference}/"
    assert client.get(base).status_code == 200
    assert client.get(f"/acme/tickets/{conv.ticket.reference}/", follow=True).status_code == 200
    assert client.post(f"{base}presence/", {"typing": "1"}).status_code == 200
    replied = client.post(f"{base}reply/", {"body": "Try again now.", "seen": conv.last.pk})
    assert replied.status_code == 302
    [reply] = Message.objects.filter(thread=conv.thread, text__contains="Try again now")
    assert OutboundMail.objects.filter(message=reply).count() == 1


def test_the_clients_page_and_reply_work_without_the_cache(acme, inbox, client, broken_cache):
    thread = deliver(make_mail(body="I cannot log in.")).thread
    token = client_link_token(thread=thread, email="jane@client.test")
    assert client.get(reverse("client:thread", kwargs={"token": token})).status_code == 200
    posted = client.post(
        reverse("client:thread-reply", kwargs={"token": token}),
        {"body": "Still broken.", "nonce": "n0nce-outage-1234"},
    )
    assert posted.status_code == 302
    assert Message.objects.filter(thread=thread, text__contains="Still broken").count() == 1


def test_the_api_works_without_the_cache(acme, inbox, broken_cache):
    deliver(make_mail())
    response = api_client(acme.agent).get("/api/v1/threads/")
    assert response.status_code == 200
    assert [t["reference"] for t in response.json()["results"]] == ["THD-ACME-001"]
