"""Who may do what: every role against every ticket endpoint and method."""

import pytest

from tests.conftest import api_client
from tests.mail import deliver, make_mail
from tickets import macros, queues, services
from tisket.models import ROLE_RANK, Role

V, A, S, AD = Role.VIEWER, Role.AGENT, Role.SUPERVISOR, Role.ADMIN

# (method, url, payload, the weakest role allowed)
MATRIX = [
    ("get", "/api/v1/tickets/", None, V),
    ("post", "/api/v1/tickets/", {"subject": "new"}, A),
    ("get", "/api/v1/tickets/TKT-ACME-001/", None, V),
    ("patch", "/api/v1/tickets/TKT-ACME-001/", {"priority": "high"}, A),
    ("post", "/api/v1/tickets/TKT-ACME-001/assign/", {"assignee": None}, A),
    ("get", "/api/v1/tickets/TKT-ACME-001/notes/", None, V),
    ("post", "/api/v1/tickets/TKT-ACME-001/notes/", {"body": "n"}, A),
    ("get", "/api/v1/tickets/TKT-ACME-001/events/", None, V),
    ("post", "/api/v1/tickets/TKT-ACME-001/escalate/", {}, A),
    ("get", "/api/v1/tickets/TKT-ACME-001/children/", None, V),
    ("post", "/api/v1/tickets/TKT-ACME-001/children/", {"ticket": "TKT-ACME-002"}, A),
    ("post", "/api/v1/tickets/TKT-ACME-002/merge/", {"into": "TKT-ACME-001"}, A),
    ("post", "/api/v1/tickets/TKT-ACME-001/threads/", {"thread": "THD-ACME-001"}, A),
    ("post", "/api/v1/tickets/TKT-ACME-001/macros/{macro}/apply/", None, A),
    ("get", "/api/v1/queues/", None, V),
    ("post", "/api/v1/queues/", {"name": "New queue"}, S),
    ("get", "/api/v1/queues/{queue}/", None, V),
    ("patch", "/api/v1/queues/{queue}/", {"auto_assign": True}, S),
    ("delete", "/api/v1/queues/{queue}/", None, S),
    ("get", "/api/v1/macros/", None, V),
    ("post", "/api/v1/macros/", {"name": "New macro"}, S),
    ("get", "/api/v1/macros/{macro}/", None, V),
    ("patch", "/api/v1/macros/{macro}/", {"body": "hi"}, S),
    ("delete", "/api/v1/macros/{macro}/", None, S),
    ("get", "/api/v1/inboxes/", None, V),
    ("post", "/api/v1/inboxes/", {"name": "new"}, AD),
    ("get", "/api/v1/inbound-log/", None, AD),
    ("post", "/api/v1/members/", {"email": "n@acme.test"}, AD),
]


@pytest.fixture
def objects(acme, inbox):
    deliver(make_mail())
    for subject in ("one", "two"):
        services.ticket_create(organization=acme.org, subject=subject, actor=acme.agent)
    queue = queues.queue_create(organization=acme.org, name="Support", actor=None)
    macro = macros.macro_save(organization=acme.org, actor=None, name="Hi", body="Hi")
    return {"queue": queue.pk, "macro": macro.pk}


@pytest.mark.parametrize("role", [V, A, S, AD])
@pytest.mark.parametrize(
    ("method", "url", "payload", "weakest"), MATRIX, ids=[f"{m} {u}" for m, u, _, _ in MATRIX]
)
def test_the_role_matrix(acme, objects, role, method, url, payload, weakest):
    client = api_client(acme.member(role))
    response = getattr(client, method)(url.format(**objects), payload, format="json")
    if ROLE_RANK[role] >= ROLE_RANK[weakest]:
        assert response.status_code < 400, (response.status_code, response.content[:200])
    else:
        assert response.status_code == 403, (response.status_code, response.content[:200])
