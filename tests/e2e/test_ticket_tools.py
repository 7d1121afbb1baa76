"""The ticket tools in a real browser: a ticket grouped under an incident from its side panel,
the incidents page listing it, and a note's Markdown table, on a desktop and a 390 px phone."""

from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.tickets.conversation_seed import seed_conversation
from tickets import services

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
SIDEWAYS = "document.documentElement.scrollWidth > document.documentElement.clientWidth"


def test_an_agent_groups_a_ticket_under_an_incident_and_sees_it_on_the_incidents_page(
    acme, inbox, login
):
    conv = seed_conversation(acme, inbox)
    incident = services.ticket_create(
        organization=acme.org, subject="Single sign-on is down", actor=acme.agent
    )
    services.ticket_note_add(
        ticket=conv.ticket,
        body="Seen at https://status.example.com/sso\n\n| Region | Down |\n|---|---|\n| EU | yes |",
        actor=acme.agent2,
    )
    page = login(acme.agent, viewport=DESKTOP)
    page.goto(f"/acme/threads/{conv.thread.reference}/")
    note = page.locator(".note-text").last
    expect(note.locator("table th").first).to_have_text("Region")
    expect(note.locator("a[href='https://status.example.com/sso']")).to_be_visible()

    page.fill("#f-incident", incident.reference)
    page.locator(".ticket-tools button", has_text="Group").click()
    expect(page.locator(".sla-follows")).to_contain_text(incident.reference)
    expect(page.locator(".ticket-tools")).to_contain_text(
        f"Take out of incident {incident.reference}"
    )
    conv.ticket.refresh_from_db()
    assert conv.ticket.parent_id == incident.pk
    shot(page, "incident-grouped-desktop")

    page.click("nav.mainnav >> text=Incidents")
    card = page.locator(f"#incident-{incident.reference}")
    expect(card).to_contain_text("1 open of 1 affected")
    expect(card.locator("tbody tr")).to_contain_text(conv.ticket.reference)
    shot(page, "incidents-desktop")
    page.set_viewport_size(PHONE)
    assert not page.evaluate(SIDEWAYS)
    shot(page, "incidents-phone")
    card.locator(f"a:text('{conv.ticket.reference}')").click()
    expect(page.locator(".sla-follows")).to_be_visible()
    assert not page.evaluate(SIDEWAYS)
    shot(page, "incident-grouped-phone")
    assert page.errors == [] and page.dialogs == []
