"""Every URL of the UI and the API, walked with another organization's slug and ids: 404.

The URL patterns are enumerated from the URLconf, so a new view or endpoint is
covered the day it is added; one whose object this file cannot make fails
until FOREIGN_OBJECTS learns it.
"""

import re
from collections.abc import Callable, Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import Cast, api_client, make_cast, rows_for_the_module
from tests.tisket.foreign import Foreign, make_foreign
from tests.tisket.tenancy_extra import EXTRA_UI_PARAMS

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


# The walk's tests only read and refuse: both organizations are made once for the
# module (each test still runs in a savepoint of its own).
@pytest.fixture(scope="module")
def _both_organizations(django_db_setup, django_db_blocker) -> Iterator[tuple[Cast, Cast, Foreign]]:
    from inboxes.services import inbox_create

    with rows_for_the_module(django_db_blocker):
        ours, theirs = make_cast("acme", "ACME"), make_cast("globex", "GLX")
        their_inbox = inbox_create(organization=theirs.org, name="help", auto_ack_enabled=False)
        yield ours, theirs, make_foreign(theirs, their_inbox)


@pytest.fixture
def acme(_both_organizations, db) -> Cast:
    return _both_organizations[0]


@pytest.fixture
def globex(_both_organizations, db) -> Cast:
    return _both_organizations[1]


@pytest.fixture
def foreign(_both_organizations, db) -> Foreign:
    return _both_organizations[2]


# Public endpoints whose credential is a signed link, not a member's token: no
# organization scope applies; their own tests cover forged and expired links.
SIGNED_LINK_ENDPOINTS = {"api:csat"}
# Public by design, for anyone: what they may show is tested in tests/kb/ (public articles only).
PUBLIC_ENDPOINTS = {"api:kb-public-search"}

# Which object of the other organization each API URL with a parameter names.
FOREIGN_OBJECTS: dict[str, Callable[[Foreign], object]] = {
    "api:member-detail": lambda f: f.cast.agent.pk,
    "api:token-detail": lambda f: f.token_id,
    "api:invitation-detail": EXTRA_UI_PARAMS["invitation"],
    "api:invitation-resend": EXTRA_UI_PARAMS["invitation"],
    "api:suppression-detail": EXTRA_UI_PARAMS["suppression"],
    "api:domain-detail": EXTRA_UI_PARAMS["domain"],
    "api:domain-check": EXTRA_UI_PARAMS["domain"],
    "api:domain-rotate-dkim": EXTRA_UI_PARAMS["domain"],
    "api:domain-esp": EXTRA_UI_PARAMS["domain"],
    "api:inbox-detail": lambda f: f.inbox_id,
    "api:inbox-test-smtp": lambda f: f.inbox_id,
    "api:inbox-test-imap": lambda f: f.inbox_id,
    "api:inbox-fetch-now": lambda f: f.inbox_id,
    "api:thread-detail": lambda f: f.thread_reference,
    "api:thread-messages": lambda f: f.thread_reference,
    "api:thread-message-send-again": lambda f: {
        "reference": f.thread_reference,
        "pk": f.message_id,
    },
    "api:attachment-download": lambda f: f.attachment_id,
    "api:quarantine-release": lambda f: f.quarantined_id,
    "api:quarantine-discard": lambda f: f.quarantined_id,
    "api:queue-detail": lambda f: f.queue_id,
    "api:ticket-detail": lambda f: f.ticket_reference,
    "api:ticket-assign": lambda f: f.ticket_reference,
    "api:ticket-notes": lambda f: f.ticket_reference,
    "api:ticket-events": lambda f: f.ticket_reference,
    "api:ticket-threads": lambda f: f.ticket_reference,
    "api:ticket-thread-detail": lambda f: f.ticket_reference,
    "api:ticket-escalate": lambda f: f.ticket_reference,
    "api:ticket-children": lambda f: f.ticket_reference,
    "api:ticket-child-detail": lambda f: f.ticket_reference,
    "api:ticket-merge": lambda f: f.ticket_reference,
    "api:ticket-sla-override": lambda f: f.ticket_reference,
    "api:macro-detail": lambda f: f.macro_id,
    "api:sla-calendar-detail": lambda f: f.calendar_id,
    "api:sla-calendar-import-holidays": lambda f: f.calendar_id,
    "api:sla-policy-detail": lambda f: f.policy_id,
    "api:customer-detail": lambda f: f.customer_id,
    # Each of the two objects of another organization, and each of ours with theirs.
    "api:ticket-macro-apply": lambda f: {"reference": f.ticket_reference, "pk": f.macro_id},
    "api:kb-category-detail": EXTRA_UI_PARAMS["category"],
    "api:kb-article-detail": EXTRA_UI_PARAMS["article"],
    "api:kb-article-revisions": EXTRA_UI_PARAMS["article"],
    "api:kb-article-revision": lambda f: {"pk": EXTRA_UI_PARAMS["article"](f), "number": 1},
    "api:kb-article-revision-restore": lambda f: {
        "pk": EXTRA_UI_PARAMS["article"](f),
        "number": 1,
    },
}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _walk(
                entry, prefix + str(entry.pattern), f"{namespace}{ns}:" if ns else namespace
            )
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern)


def _patterns(startswith: str) -> list[tuple[str, str]]:
    return sorted({(n, p) for n, p in _walk(get_resolver()) if p.startswith(startswith)})


def _fill(pattern: str, values: dict[str, object]) -> str:
    path = PARAM.sub(lambda m: str(values[m.group("name")]), pattern)
    return "/" + path.lstrip("^").rstrip("$")


ORG_PAGES = _patterns("<slug:org_slug>/")
API_PATTERNS = _patterns("api/v1/")


def test_the_walk_finds_the_organization_pages_and_the_api():
    assert ("tickets:queue", "<slug:org_slug>/") in ORG_PAGES
    assert any(name == "api:member-detail" for name, _ in API_PATTERNS)


# What each parameter of an organization page names, as an object of the other
# organization. UI URLs name their parameters after what they point to.
UI_PARAMS: dict[str, Callable[[Foreign], object]] = {
    "thread": lambda f: f.thread_reference,
    "ticket": lambda f: f.ticket_reference,
    "message": lambda f: f.message_id,
    "attachment": lambda f: f.attachment_id,
    "quarantined": lambda f: f.quarantined_id,
    "inbox": lambda f: f.inbox_id,
    "queue": lambda f: f.queue_id,
    "macro": lambda f: f.macro_id,
    "member": lambda f: f.cast.agent.pk,
    "token": lambda f: f.token_id,
    "calendar": lambda f: f.calendar_id,
    "policy": lambda f: f.policy_id,
    "customer": lambda f: f.customer_id,
    "notification": lambda f: f.notification_id,
}
UI_PARAMS.update(EXTRA_UI_PARAMS)


@pytest.mark.parametrize(("name", "pattern"), ORG_PAGES, ids=[n for n, _ in ORG_PAGES])
def test_every_organization_page_of_another_organization_is_404(
    acme, globex, foreign, web, name, pattern
):
    client = web(acme.owner)
    names = {m.group("name") for m in PARAM.finditer(pattern)} - {"org_slug"}
    if not names:
        ours = client.get(_fill(pattern, {"org_slug": acme.org.slug})).status_code
        assert ours in (200, 405), (name, ours)  # 405: an action that only takes a POST
        theirs = _fill(pattern, {"org_slug": globex.org.slug})
        assert client.get(theirs).status_code in (404, 405)
        assert client.post(theirs).status_code == 404
        return
    unknown = names - set(UI_PARAMS)
    assert not unknown, f"{name}: teach UI_PARAMS which foreign object {unknown} names"
    theirs = {n: UI_PARAMS[n](foreign) for n in names}
    for slug in (acme.org.slug, globex.org.slug):
        url = _fill(pattern, {"org_slug": slug, **theirs})
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (404, 405), (method, url, response.status_code)


@pytest.mark.parametrize(("name", "pattern"), API_PATTERNS, ids=[n for n, _ in API_PATTERNS])
def test_every_api_object_of_another_organization_is_404(acme, foreign, name, pattern):
    names = [m.group("name") for m in PARAM.finditer(pattern)]
    client = api_client(acme.owner)
    if not names:
        # A list or singleton endpoint: nothing of the other organization appears in it.
        response = client.get("/" + pattern)
        assert response.status_code in (200, 405)
        if response.status_code == 200:
            body = response.content.decode().lower()
            assert "globex" not in body
            assert "thd-glx" not in body
            assert "tkt-glx" not in body
        return
    if name in PUBLIC_ENDPOINTS:
        return
    if name in SIGNED_LINK_ENDPOINTS:
        url = _fill(pattern, {n: "not-a-signed-link" for n in names})
        assert client.get(url).status_code == 404
        return
    assert name in FOREIGN_OBJECTS, f"{name}: teach FOREIGN_OBJECTS which foreign object it names"
    foreign_id = FOREIGN_OBJECTS[name](foreign)
    values = foreign_id if isinstance(foreign_id, dict) else {n: foreign_id for n in names}
    url = _fill(pattern, values)
    for method in ("get", "patch", "put", "delete", "post"):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code in (404, 405), (method, url, response.status_code)
