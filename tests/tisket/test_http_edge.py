"""Bad input at the HTTP edge: a 4xx with a message, JSON on the API, nothing stored changed."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client, RequestFactory

from sla.models import BusinessCalendar
from sla.services import calendar_create
from tests.conftest import api_client, require_postgres
from tests.mail import deliver, make_mail
from tickets.models import Queue
from tickets.queues import queue_create
from tisket import api_errors

# --- NUL characters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "threads/?q=%00",
        "threads/?status=%00",
        "threads/?status=open%00closed",
        "tickets/?q=a%00b",
        "tickets/?status=%00",
        "tickets/?priority=%00",
        "tickets/?tag=%00",
        "inbound-log/?status=%00",
        "threads/?%00=open",
    ],
)
def test_a_nul_in_an_api_filter_is_a_400_with_a_message(acme, inbox, query):
    deliver(make_mail())
    client = api_client(acme.owner)
    client.raise_request_exception = False
    response = client.get(f"/api/v1/{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "NUL" in response.json()["detail"]


def test_a_nul_in_the_queue_filter_or_a_form_field_is_a_400_with_a_message(acme, inbox, web):
    deliver(make_mail())
    client = web(acme.agent)
    client.raise_request_exception = False
    response = client.get("/acme/?q=%00")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    thread = acme.org.threads.get()
    response = client.post(f"/acme/threads/{thread.reference}/reply/", {"body": "a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert thread.messages.count() == 1


def test_a_nul_free_filter_still_filters(acme, inbox):
    deliver(make_mail(subject="Printer on fire"))
    response = api_client(acme.owner).get("/api/v1/threads/?q=printer&status=open")
    assert response.status_code == 200
    assert [t["subject"] for t in response.json()["results"]] == ["Printer on fire"]


# --- Django's own errors on the API ----------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here/", "/api/nothing", "/api/v1/threads/a/b/c/"]
)
def test_an_unknown_api_path_is_a_json_404(db, path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_an_html_404(db):
    response = Client().get("/no-such-organization/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_server_error_on_the_api_is_json_and_on_a_page_html():
    api = api_errors.server_error(RequestFactory().get("/api/v1/threads/"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"
    page = api_errors.server_error(RequestFactory().get("/acme/"))
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


def test_an_anymail_path_that_is_no_webhook_is_a_json_404(db):
    response = Client().get("/anymail/no-such-esp/inbound/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


# --- Acting on an object that another request deletes meanwhile ----------------------------------


def _patch_while_deleted(url: str, data: dict, *, owner, row) -> int:
    """PATCH url in another connection, delete row under it once the PATCH waits on its lock.

    The test holds the row's lock, so the PATCH has loaded the object and blocks
    on its UPDATE; the row is deleted and the lock released; the UPDATE then
    finds no row, as when two agents race.
    """
    client = api_client(owner)
    client.raise_request_exception = False
    answer = {}

    def patch() -> None:
        try:
            answer["status"] = client.patch(url, data, format="json").status_code
        finally:
            connections.close_all()

    worker = threading.Thread(target=patch)
    with transaction.atomic():
        type(row).objects.select_for_update().get(pk=row.pk)
        worker.start()
        with connection.cursor() as cursor:
            while True:
                # Statistics are a snapshot per transaction: take a fresh one each time.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
        type(row).objects.filter(pk=row.pk).delete()
    worker.join()
    return answer["status"]


@pytest.mark.django_db(transaction=True)
def test_renaming_a_queue_that_is_deleted_meanwhile_is_a_404(acme):
    require_postgres()
    queue = queue_create(organization=acme.org, name="Support", actor=None)
    status = _patch_while_deleted(
        f"/api/v1/queues/{queue.pk}/", {"name": "Renamed"}, owner=acme.owner, row=queue
    )
    assert status == 404
    assert not Queue.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_changing_a_calendar_deleted_meanwhile_is_a_404_and_does_not_bring_it_back(acme):
    require_postgres()
    calendar = calendar_create(organization=acme.org, name="Office")
    status = _patch_while_deleted(
        f"/api/v1/sla/calendars/{calendar.pk}/", {"name": "Renamed"}, owner=acme.owner, row=calendar
    )
    assert status == 404
    assert not BusinessCalendar.objects.exists()
