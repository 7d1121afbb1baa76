"""The rating links of the resolved mail: one click, one use, a comment, and who hears of it."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import api_client
from tests.mail import deliver, make_mail
from tickets import csat, queues
from tickets import services as tickets
from tickets.models import Rating, Ticket
from tickets.sla import reports
from tisket.models import Notification

RATE_LINK = re.compile(r"https://desk\.example(/c/rate/[^/\s)\"]+/([1-5])/)")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _notification_mail_at_once(settings) -> None:
    """Members' notification mail goes at once here, not after its usual delay."""
    settings.TISKET_NOTIFY_EMAIL_DELAY = 0


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://desk.example"


@pytest.fixture
def queue(acme, inbox):
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def resolved(acme, smtp, capture, subject: str = "Cannot log in") -> tuple[Ticket, dict[int, str]]:
    """A conversation the agent resolves; its ticket and the five links of the mail."""
    thread = deliver(make_mail(subject=subject)).thread
    ticket = Ticket.objects.get(thread_links__thread=thread)
    tickets.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    smtp.received.clear()
    with capture(execute=True):
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    [(_, sent)] = [(r, m) for r, m in smtp.received if r == ["jane@client.test"]]
    text = sent.get_body(("plain",)).get_content()
    return ticket, {int(score): path for path, score in RATE_LINK.findall(text)}


def post_form(browser: Client, page, action: str, data: dict):
    token = CSRF.search(page.content.decode()).group(1)
    return browser.post(action, {**data, "csrfmiddlewaretoken": token})


def test_a_click_records_the_score_once_and_asks_for_a_comment(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    ticket, links = resolved(acme, smtp, django_capture_on_commit_callbacks)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(links[4])
    assert page.status_code == 200
    assert b"data-autosubmit" in page.content and b"tisket/rate.js" in page.content
    assert page["Referrer-Policy"] == "no-referrer"
    assert not Rating.objects.exists()  # opening the link (a scanner) records nothing
    action = re.search(r'action="(/c/rate/[^"]+/record/)"', page.content.decode()).group(1)
    done = post_form(browser, page, action, {"score": "4"})
    assert done.status_code == 302
    rating = Rating.objects.get()
    assert (rating.ticket, rating.score, rating.comment) == (ticket, 4, "")
    thanks = browser.get(done["Location"])
    assert b"Thank you for your rating" in thanks.content and b"Anything to add?" in thanks.content
    comment = re.search(r'action="(/c/rate/[^"]+/comment/)"', thanks.content.decode()).group(1)
    assert (
        post_form(browser, thanks, comment, {"comment": "Quick <b>and</b> kind"}).status_code == 302
    )
    # One use: another click, another score, another comment change nothing.
    again = browser.get(links[1])
    assert b"You rated our help" in again.content and b"4 out of 5" in again.content
    assert post_form(browser, thanks, action, {"score": "1"}).status_code == 409
    assert browser.post(comment, {"comment": "changed"}).status_code == 403  # no CSRF token
    rating.refresh_from_db()
    assert (rating.score, rating.comment) == (4, "Quick <b>and</b> kind")
    shown = browser.get(done["Location"].split("?")[0])
    assert b"Quick &lt;b&gt;and&lt;/b&gt; kind" in shown.content


def test_a_tampered_expired_or_reopened_link_rates_nothing(
    acme, inbox, queue, smtp, client, django_capture_on_commit_callbacks
):
    ticket, links = resolved(acme, smtp, django_capture_on_commit_callbacks)
    path = links[5]
    token = path.split("/")[3]
    forged = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get(forged).status_code == 404
    assert client.post(forged.rsplit("/", 2)[0] + "/record/", {"score": 5}).status_code == 404
    assert client.get(path.replace("/5/", "/9/")).status_code == 404
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=None)
    reopened = client.get(path)
    assert reopened.status_code == 404 and b"reopened" in reopened.content
    assert not Rating.objects.exists()


def test_a_low_rating_tells_the_assignee_and_the_supervisors(
    acme, globex, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    ticket, _ = resolved(acme, smtp, django_capture_on_commit_callbacks)
    smtp.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        csat.csat_record(token=csat.csat_token(ticket=ticket), score=2)
    told = Notification.objects.filter(kind=Notification.Kind.LOW_RATING)
    assert sorted(n.recipient.user.email for n in told) == [
        "admin@acme.test",
        "agent@acme.test",
        "owner@acme.test",
        "supervisor@acme.test",
    ]
    assert all("rated 2 out of 5" in n.title for n in told)
    mailed = sorted(r[0] for r, _ in smtp.received)
    assert mailed == sorted(n.recipient.user.email for n in told)
    assert all(m["List-Unsubscribe-Post"] for _, m in smtp.received)
    # A good rating bothers nobody.
    other, _ = resolved(acme, smtp, django_capture_on_commit_callbacks, subject="Printer")
    csat.csat_record(token=csat.csat_token(ticket=other), score=5)
    assert Notification.objects.filter(kind=Notification.Kind.LOW_RATING).count() == 4


def test_agents_see_the_rating_and_comment_on_the_conversation_and_no_one_else(
    acme, globex, inbox, queue, smtp, web, django_capture_on_commit_callbacks
):
    ticket, _ = resolved(acme, smtp, django_capture_on_commit_callbacks)
    csat.csat_record(token=csat.csat_token(ticket=ticket), score=1)
    csat.csat_comment(token=csat.csat_token(ticket=ticket), comment="Nobody <i>answered</i>")
    thread = ticket.thread_links.get().thread
    page = web(acme.agent).get(f"/acme/threads/{thread.reference}/")
    assert b'id="ratings"' in page.content and b"1/5" in page.content
    assert b"Nobody &lt;i&gt;answered&lt;/i&gt;" in page.content
    assert web(globex.agent).get(f"/acme/threads/{thread.reference}/").status_code == 404
    assert web(globex.owner).get(f"/globex/threads/{thread.reference}/").status_code == 404


def test_csat_per_agent_queue_and_day_in_the_sla_reports(
    acme, globex, inbox, queue, smtp, web, django_capture_on_commit_callbacks
):
    first, _ = resolved(acme, smtp, django_capture_on_commit_callbacks)
    second, _ = resolved(acme, smtp, django_capture_on_commit_callbacks, subject="Printer")
    csat.csat_record(token=csat.csat_token(ticket=first), score=5)
    csat.csat_record(token=csat.csat_token(ticket=second), score=2)
    today = timezone.localdate(timezone=ZoneInfo(acme.org.timezone))  # its day, not the server's
    span = {"since": today - timedelta(days=30), "until": today}
    by_agent = reports.csat_metrics(organization=acme.org, group_by="agent", **span)
    assert by_agent == [
        {"agent": "agent@acme.test", "ratings": 2, "average": 3.5, "csat": 0.5, "low": 1}
    ]
    [by_queue] = reports.csat_metrics(organization=acme.org, group_by="queue", **span)
    assert (by_queue["queue"], by_queue["ratings"]) == ("Support", 2)
    [by_day] = reports.csat_metrics(organization=acme.org, group_by="day", **span)
    assert by_day["ratings"] == 2
    assert reports.csat_metrics(organization=globex.org, group_by="agent", **span) == []
    api = api_client(acme.agent).get("/api/v1/sla/csat/?group_by=queue")
    assert api.status_code == 200
    assert [(r["group"], r["ratings"], r["low"]) for r in api.json()] == [("Support", 2, 1)]
    assert api_client(globex.agent).get("/api/v1/sla/csat/?group_by=queue").json() == []
    bad = api_client(acme.agent).get("/api/v1/sla/csat/?group_by=priority")
    assert bad.status_code == 400 and "group_by" in bad.json()
    page = web(acme.supervisor).get("/acme/sla/")
    assert b"Client satisfaction" in page.content and b"50 %" in page.content
    assert b"No rating by agent" in web(globex.supervisor).get("/globex/sla/").content
