import time_machine
from django.utils import timezone

from tickets import csat, services
from tickets.models import Rating, Ticket

S = Ticket.Status


def resolved(acme) -> Ticket:
    ticket = services.ticket_create(organization=acme.org, subject="x", actor=acme.agent)
    services.ticket_set_status(ticket=ticket, status=S.RESOLVED, actor=acme.agent)
    return ticket


def test_a_client_rates_a_resolution_once_through_the_link(client, acme):
    ticket = resolved(acme)
    url = f"/api/v1/csat/{csat.csat_token(ticket=ticket)}/"
    assert client.get(url).json() == {"ticket": "TKT-ACME-001", "subject": "x", "rated": False}
    response = client.post(url, {"score": 5, "comment": "Quick!"}, content_type="application/json")
    assert response.status_code == 201
    assert client.get(url).json()["rated"] is True
    again = client.post(url, {"score": 1}, content_type="application/json")
    assert again.status_code == 409
    assert Rating.objects.get().score == 5
    assert ticket.events.filter(kind="rated").count() == 1


def test_each_resolution_is_rated_on_its_own(client, acme):
    ticket = resolved(acme)
    first = csat.csat_token(ticket=ticket)
    services.ticket_set_status(ticket=ticket, status=S.OPEN, actor=acme.agent)
    assert client.get(f"/api/v1/csat/{first}/").status_code == 404  # reopened since
    services.ticket_set_status(ticket=ticket, status=S.RESOLVED, actor=acme.agent)
    second = csat.csat_token(ticket=ticket)
    url = f"/api/v1/csat/{second}/"
    assert client.post(url, {"score": 3}, content_type="application/json").status_code == 201
    assert list(Rating.objects.values_list("resolution", "score")) == [(1, 3)]


def test_a_forged_expired_or_out_of_range_rating_is_refused(client, acme):
    ticket = resolved(acme)
    token = csat.csat_token(ticket=ticket)
    forged = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    assert client.get(f"/api/v1/csat/{forged}/").status_code == 404
    bad = client.post(f"/api/v1/csat/{token}/", {"score": 9}, content_type="application/json")
    assert bad.status_code == 400
    with time_machine.travel(timezone.now() + csat.LINK_LIFETIME + timezone.timedelta(days=1)):
        expired = client.get(f"/api/v1/csat/{token}/")
    assert expired.status_code == 404
    assert "expired" in expired.json()["detail"]
    assert not Rating.objects.exists()
