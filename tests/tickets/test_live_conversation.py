"""An open conversation stays current, keeps the agent's unsent reply, and signs replies."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mail import deliver, make_mail
from tests.tickets.conversation_seed import seed_conversation
from threads.models import Message
from tickets import drafts
from tickets import services as tickets
from tickets.models import ReplyDraft
from tisket.lib.markdown_text import signature_append
from tisket.models import User


@pytest.fixture
def conv(acme, inbox):
    return seed_conversation(acme, inbox)


def live(client, conv, version: str = "", **after):
    query = "&".join(f"{k}={v}" for k, v in after.items())
    return client.get(
        f"/acme/threads/{conv.thread.reference}/live/?{query}", HTTP_IF_NONE_MATCH=version
    )


def page_version(client, conv) -> str:
    html = client.get(f"/acme/threads/{conv.thread.reference}/").content.decode()
    return html.split('data-live-version="')[1].split('"')[0].replace("&quot;", '"')


# --- Live ---------------------------------------------------------------------------------------


def test_nothing_changed_answers_304_in_few_queries(acme, conv, web):
    client = web(acme.agent)
    version = page_version(client, conv)
    with CaptureQueriesContext(connection) as queries:
        response = live(client, conv, version)
    assert response.status_code == 304 and response["ETag"] == version
    assert not response.content
    assert len(queries) <= 6  # session, member, thread, the ticket's version; nothing per entry


def test_a_client_message_a_note_and_a_status_change_come_back_as_fragments(acme, conv, web):
    client = web(acme.agent)
    version = page_version(client, conv)
    last_message = conv.thread.messages.order_by("-pk").first().pk
    tickets.ticket_note_add(ticket=conv.ticket, body="Checking the SSO logs.", actor=acme.agent2)
    response = live(client, conv, version, after_message=last_message, after_note=conv.note.pk)
    html = response.content.decode()
    assert response.status_code == 200 and response["ETag"] != version
    assert "Checking the SSO logs." in html and "Same error reported" not in html
    assert 'id="side-panel"' in html
    version = response["ETag"]
    assert live(client, conv, version).status_code == 304
    deliver(
        make_mail(
            sender="Jane Client <jane@client.test>",
            subject=f"Re: [{conv.thread.reference}] Cannot log in",
            body="It works again, thanks!",
        )
    )
    response = live(client, conv, version, after_message=last_message, after_note=10**6)
    html = response.content.decode()
    assert response.status_code == 200 and "It works again" in html
    assert html.count('class="entry msg') == 1
    version = response["ETag"]
    tickets.ticket_set_status(ticket=conv.ticket, status="in_progress", actor=acme.agent2)
    response = live(client, conv, version, after_message=10**6, after_note=10**6)
    assert response.status_code == 200 and "entry msg" not in response.content.decode()
    assert 'value="in_progress" selected' in response.content.decode()


def test_the_fragment_costs_the_same_queries_for_one_or_five_new_messages(acme, conv, web):
    client = web(acme.agent)
    last = conv.thread.messages.order_by("-pk").first().pk

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert live(client, conv, "", after_message=last).status_code == 200
        return len(queries)

    def client_writes(n: int) -> None:
        for i in range(n):
            deliver(
                make_mail(
                    sender="jane@client.test",
                    subject=f"Re: [{conv.thread.reference}] more {i}",
                    body=f"more {i}",
                )
            )

    count()  # warm the session
    client_writes(1)
    one = count()
    client_writes(4)
    assert count() == one


def test_a_viewer_follows_the_conversation_live_too(acme, conv, web):
    assert live(web(acme.viewer), conv).status_code == 200


# --- Drafts -------------------------------------------------------------------------------------


def test_a_draft_is_kept_per_agent_restored_and_used_up_by_the_reply(acme, conv, web):
    url = f"/acme/threads/{conv.thread.reference}/"
    alex = web(acme.agent)
    saved = alex.post(url + "draft/", {"body": "Half a reply", "cc": "bob@x.test"})
    assert saved.status_code == 200
    html = alex.get(url).content.decode()
    assert ">Half a reply</textarea>" in html and 'value="bob@x.test"' in html
    assert "Draft saved" in html
    sam = web(acme.agent2)
    assert "Half a reply" not in sam.get(url).content.decode()  # another agent's words
    sam.post(url + "draft/", {"body": "Sam writes"})
    alex = web(acme.agent)
    alex.post(url + "reply/", {"body": "The whole reply", "seen": 10**9})
    assert list(ReplyDraft.objects.values_list("owner", flat=True)) == [acme.agent2.pk]
    assert ">Sam writes</textarea>" in web(acme.agent2).get(url).content.decode()
    web(acme.agent2).post(url + "draft/", {"body": "  ", "cc": ""})  # all erased: gone
    assert not ReplyDraft.objects.exists()


def test_an_agents_own_draft_wins_over_the_assistants(acme, conv, web):
    tickets.reply_draft_save(thread=conv.thread, body="Assistant text", actor=acme.agent2)
    url = f"/acme/threads/{conv.thread.reference}/"
    assert ">Assistant text</textarea>" in web(acme.agent).get(url).content.decode()
    drafts.reply_draft_autosave(thread=conv.thread, owner=acme.agent, body="Mine now")
    html = web(acme.agent).get(url).content.decode()
    assert ">Mine now</textarea>" in html and "Assistant text" not in html


def test_drafts_refuse_viewers_and_oversized_text(acme, conv, web):
    url = f"/acme/threads/{conv.thread.reference}/draft/"
    assert web(acme.viewer).post(url, {"body": "x"}).status_code == 403
    assert web(acme.agent).post(url, {"body": "x" * 20_001}).status_code == 400
    assert not ReplyDraft.objects.exists()


# --- Signatures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hello", "Hello\n\n-- \nAlex\nAcme support"),
        ("Hello\n\n-- \nAlex\nAcme support", "Hello\n\n-- \nAlex\nAcme support"),
        ("Hello\n\nAlex   Acme support\n", "Hello\n\nAlex   Acme support\n"),
    ],
    ids=["added", "typed-already", "same-words-other-spacing"],
)
def test_a_signature_is_added_once(body, expected):
    assert signature_append(body, "Alex  \nAcme support\n") == expected
    assert signature_append(body, "  ") == body


def test_replies_carry_the_agents_signature_and_notes_do_not(acme, conv, web):
    User.objects.filter(pk=acme.agent.user_id).update(signature="Alex\nAcme <b>support</b>")
    url = f"/acme/threads/{conv.thread.reference}/"
    client = web(acme.agent)
    html = client.get(url).content.decode()
    assert "Your signature goes under the reply" in html
    assert (
        'data-composer data-autosave="' in html
        and "Acme &lt;b&gt;" not in html.split('id="reply-body"')[1].split("</textarea>")[0]
    )
    client.post(url + "reply/", {"body": "Try again now.", "seen": 10**9})
    message = Message.objects.order_by("-pk").first()
    assert message.text == "Try again now.\n\n-- \nAlex\nAcme <b>support</b>"
    assert "<b>" not in message.html and "Acme &lt;b&gt;support" in message.html
    client.post(url + "reply/", {"body": message.text, "seen": 10**9})
    assert Message.objects.order_by("-pk").first().text.count("-- ") == 1
    client.post(f"/acme/tickets/{conv.ticket.reference}/notes/", {"body": "Internal"})
    assert conv.ticket.notes.order_by("-pk").first().body == "Internal"
