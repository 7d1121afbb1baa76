"""The rating in a real browser: the agent resolves with a summary, the client clicks a score in
the mail, comments, and the agent sees it on the conversation."""

import re

import pytest
from django.core import mail as django_mail
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from tickets import queues
from tickets import services as tickets
from tickets.models import Rating, Ticket
from tisket.models import Notification

RATE_PATH = re.compile(r"https?://[^/\s]+(/c/rate/[^/\s)]+/([1-5])/)")


@pytest.fixture
def thread(acme, inbox):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    found = deliver(make_mail(subject="Invoice charged twice")).thread
    tickets.ticket_assign(
        ticket=Ticket.objects.get(thread_links__thread=found), assignee=acme.agent, actor=None
    )
    return found


def test_a_rating_from_the_mail_link_reaches_the_agents_view(acme, thread, login):
    agent = login(acme.agent)
    agent.goto(f"/acme/threads/{thread.reference}/")
    agent.fill("#reply-body", "We refunded the second charge; it shows in 3 days.")
    django_mail.outbox.clear()
    agent.click("button[data-resolve]")
    expect(agent.locator(".messages")).to_contain_text("Resolved")
    [sent] = [m for m in django_mail.outbox if m.to == ["jane@client.test"]]
    assert "We refunded the second charge" in sent.body
    links = {int(score): path for path, score in RATE_PATH.findall(sent.body)}
    assert sorted(links) == [1, 2, 3, 4, 5]

    client = login(None)
    client.goto(links[2])  # one click in the mail: the page records it at once
    expect(client.locator("#rating h1")).to_have_text("Thank you for your rating")
    assert Rating.objects.get().score == 2
    client.fill("textarea[name=comment]", "Took three mails to get an answer.")
    shot(client, "client-rating-link")
    client.click("button:has-text('Send comment')")
    expect(client.locator("#rating blockquote")).to_contain_text("Took three mails")
    assert client.errors == [] and client.dialogs == []

    agent.reload()
    expect(agent.locator("#ratings")).to_contain_text("2/5")
    expect(agent.locator("#ratings")).to_contain_text("Took three mails to get an answer.")
    shot(agent, "conversation-rating")
    assert Notification.objects.filter(recipient=acme.agent, kind="low_rating").exists()
    assert agent.errors == []
