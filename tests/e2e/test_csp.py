"""The Content-Security-Policy in a real browser: every page loads with no violation."""

from tests.tickets.conversation_seed import seed_conversation

# Collected in the page before any of its own scripts run, whatever the policy says.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


def test_the_agent_pages_load_with_no_policy_violation(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    page = login(acme.owner)
    page.context.add_init_script(RECORD_VIOLATIONS)
    pages = [
        "/acme/",
        f"/acme/threads/{conv.thread.reference}/",
        f"/acme/tickets/{conv.ticket.reference}/",
        "/acme/threads/new/",
        "/acme/sla/",
        "/acme/quarantine/",
        "/acme/members/",
        "/acme/notifications/",
        "/acme/settings/",
        "/acme/settings/inboxes/",
        f"/acme/settings/inboxes/{inbox.pk}/",
        "/acme/settings/queues/",
        "/acme/settings/macros/",
        "/api/docs/",
    ]
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], path
    assert page.errors == [] and page.dialogs == []


def test_inbox_colours_and_frame_heights_are_applied_without_style_attributes(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    page = login(acme.agent)
    page.goto(f"/acme/threads/{conv.thread.reference}/")
    dot = page.locator(".inbox-chip .dot")
    assert dot.get_attribute("style") is not None  # set by the script, through the DOM
    assert dot.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    frame = page.locator(".frame-wrap").first
    assert frame.evaluate("el => el.style.getPropertyValue('--h')").endswith("px")
    page.goto("/acme/")
    assert page.locator("td.conv .dot").first.evaluate("el => el.style.background") != ""
    assert page.errors == []


def test_a_message_body_opened_on_its_own_runs_no_script(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    page = login(acme.agent)
    response = page.goto(f"/acme/messages/{conv.first.pk}/body/")
    assert response.headers["content-security-policy"].startswith("sandbox ")
    # A sandboxed document has an opaque origin: no cookie, no storage, no script of its own.
    assert page.evaluate("window.origin") == "null"
