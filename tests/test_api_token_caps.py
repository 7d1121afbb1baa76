"""A token capped below its member's role is refused, with a reason, wherever the cap falls short.

Every write of the API (and every read kept from some roles) is listed here,
and a test fails when a new endpoint is not: an owner's token capped at each
weaker role must get a 403 with a JSON message.
"""

import pytest
from django.urls import URLPattern

from config import api_urls
from tests.conftest import api_client
from tisket.models import ROLE_RANK, Role

V, A, S, AD = Role.VIEWER, Role.AGENT, Role.SUPERVISOR, Role.ADMIN

# (method, url name, url, the weakest role allowed)
GUARDED = [
    ("patch", "organization", "/api/v1/organization/", AD),
    ("post", "member-list", "/api/v1/members/", AD),
    ("patch", "member-detail", "/api/v1/members/1/", AD),
    ("delete", "member-detail", "/api/v1/members/1/", AD),
    ("get", "invitation-list", "/api/v1/invitations/", AD),
    ("get", "invitation-detail", "/api/v1/invitations/1/", AD),
    ("delete", "invitation-detail", "/api/v1/invitations/1/", AD),
    ("post", "invitation-resend", "/api/v1/invitations/1/resend/", AD),
    ("post", "inbox-list", "/api/v1/inboxes/", AD),
    ("patch", "inbox-detail", "/api/v1/inboxes/1/", AD),
    ("delete", "inbox-detail", "/api/v1/inboxes/1/", AD),
    ("post", "inbox-test-imap", "/api/v1/inboxes/1/test-imap/", AD),
    ("post", "inbox-fetch-now", "/api/v1/inboxes/1/fetch-now/", AD),
    ("post", "inbox-test-smtp", "/api/v1/inboxes/1/test-smtp/", AD),
    ("post", "domain-check", "/api/v1/domains/1/check/", AD),
    ("post", "domain-rotate-dkim", "/api/v1/domains/1/rotate-dkim/", AD),
    ("post", "domain-esp", "/api/v1/domains/1/esp/", AD),
    ("post", "domain-list", "/api/v1/domains/", AD),
    ("delete", "domain-detail", "/api/v1/domains/1/", AD),
    ("post", "thread-list", "/api/v1/threads/", A),
    ("patch", "thread-detail", "/api/v1/threads/THD-ACME-001/", A),
    ("post", "thread-messages", "/api/v1/threads/THD-ACME-001/messages/", A),
    (
        "post",
        "thread-message-send-again",
        "/api/v1/threads/THD-ACME-001/messages/1/send-again/",
        A,
    ),
    ("post", "quarantine-release", "/api/v1/quarantine/1/release/", A),
    ("post", "quarantine-discard", "/api/v1/quarantine/1/discard/", A),
    ("get", "inbound-log", "/api/v1/inbound-log/", AD),
    ("get", "suppression-list", "/api/v1/suppressions/", AD),
    ("get", "suppression-detail", "/api/v1/suppressions/1/", AD),
    ("delete", "suppression-detail", "/api/v1/suppressions/1/", AD),
    ("post", "queue-list", "/api/v1/queues/", S),
    ("patch", "queue-detail", "/api/v1/queues/1/", S),
    ("delete", "queue-detail", "/api/v1/queues/1/", S),
    ("post", "ticket-list", "/api/v1/tickets/", A),
    ("patch", "ticket-detail", "/api/v1/tickets/TKT-ACME-001/", A),
    ("post", "ticket-assign", "/api/v1/tickets/TKT-ACME-001/assign/", A),
    ("post", "ticket-notes", "/api/v1/tickets/TKT-ACME-001/notes/", A),
    ("post", "ticket-threads", "/api/v1/tickets/TKT-ACME-001/threads/", A),
    ("delete", "ticket-thread-detail", "/api/v1/tickets/TKT-ACME-001/threads/THD-ACME-001/", A),
    ("post", "ticket-escalate", "/api/v1/tickets/TKT-ACME-001/escalate/", A),
    ("post", "ticket-children", "/api/v1/tickets/TKT-ACME-001/children/", A),
    ("delete", "ticket-child-detail", "/api/v1/tickets/TKT-ACME-001/children/TKT-ACME-002/", A),
    ("post", "ticket-merge", "/api/v1/tickets/TKT-ACME-001/merge/", A),
    ("post", "ticket-sla-override", "/api/v1/tickets/TKT-ACME-001/sla-override/", S),
    ("post", "ticket-macro-apply", "/api/v1/tickets/TKT-ACME-001/macros/1/apply/", A),
    ("post", "macro-list", "/api/v1/macros/", S),
    ("patch", "macro-detail", "/api/v1/macros/1/", S),
    ("delete", "macro-detail", "/api/v1/macros/1/", S),
    ("post", "sla-calendar-list", "/api/v1/sla/calendars/", AD),
    ("patch", "sla-calendar-detail", "/api/v1/sla/calendars/1/", AD),
    ("delete", "sla-calendar-detail", "/api/v1/sla/calendars/1/", AD),
    ("post", "sla-calendar-import-holidays", "/api/v1/sla/calendars/1/import-holidays/", AD),
    ("post", "sla-policy-list", "/api/v1/sla/policies/", AD),
    ("patch", "sla-policy-detail", "/api/v1/sla/policies/1/", AD),
    ("delete", "sla-policy-detail", "/api/v1/sla/policies/1/", AD),
    ("post", "customer-list", "/api/v1/customers/", AD),
    ("patch", "customer-detail", "/api/v1/customers/1/", AD),
    ("delete", "customer-detail", "/api/v1/customers/1/", AD),
    ("get", "domain-list", "/api/v1/domains/", AD),
    ("get", "domain-detail", "/api/v1/domains/1/", AD),
    ("get", "audit-list", "/api/v1/audit/", AD),
    # Knowledge-base writes: editors (admins, or members granted it); a capped token is no admin.
    ("post", "kb-category-list", "/api/v1/kb/categories/", AD),
    ("post", "kb-article-list", "/api/v1/kb/articles/", AD),
]

# Open to every member (a token of their own), or to no token at all (signed or public).
OPEN_TO_ALL = {
    ("post", "token-list"),
    ("delete", "token-detail"),
    ("post", "csat"),
    ("post", "inbound-raw"),
    # A knowledge-base object is found first (members may read it), then the editor
    # permission (a capped token counts as its cap) decides the write.
    ("patch", "kb-category-detail"),
    ("delete", "kb-category-detail"),
    ("patch", "kb-article-detail"),
    ("delete", "kb-article-detail"),
    ("post", "kb-article-revision-restore"),
}


def _writes_and_guarded_reads() -> set[tuple[str, str]]:
    found = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback.view_class
        for method in ("get", "post", "put", "patch", "delete"):
            if not hasattr(view, method):
                continue
            read_role = getattr(view, "read_role", V)
            if method != "get" or read_role != V:
                found.add((method, pattern.name))
    return found


def test_every_write_of_the_api_is_checked_against_a_capped_token():
    listed = {(method, name) for method, name, _, _ in GUARDED}
    assert _writes_and_guarded_reads() - OPEN_TO_ALL == listed


@pytest.mark.parametrize(
    ("method", "url", "weakest"),
    [(method, url, weakest) for method, _, url, weakest in GUARDED],
    ids=[f"{method} {name}" for method, name, _, _ in GUARDED],
)
def test_an_owners_token_capped_below_the_needed_role_gets_403(acme, method, url, weakest):
    for cap in (r for r in Role if ROLE_RANK[r] < ROLE_RANK[weakest]):
        response = getattr(api_client(acme.owner, role=cap), method)(url, {}, format="json")
        assert response.status_code == 403, (cap, response.content[:200])
        assert response.json()["detail"]
