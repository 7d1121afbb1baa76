"""Ticket tools in a real browser: an admin keeps the categories, an agent opens a ticket with
no mail, files a conversation's ticket under a category and filters the queue on it."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.tickets.conversation_seed import seed_conversation
from tickets.models import Ticket


def test_categories_a_ticket_from_scratch_and_the_queue_filter(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    for width, height, name in ((1440, 900, "desktop"), (390, 844, "phone")):
        viewport = {"width": width, "height": height}
        admin = login(acme.admin, viewport=viewport)
        admin.goto("/acme/settings/categories/")
        for category in ("Access", "Billing", "Hardware"):
            if not admin.get_by_role("cell", name=category).count():
                admin.fill("#category-name", category)
                admin.click(".category-new button")
                expect(admin.locator(".categories")).to_contain_text(category)
        shot(admin, f"ticket-categories-{name}")

        agent = login(acme.agent, viewport=viewport)
        agent.goto(f"/acme/threads/{conv.thread.reference}/")
        with agent.expect_response(re.compile(r"/update/$")):
            agent.select_option("#f-category", "Access")
        expect(agent.locator("#f-category")).to_have_value("Access")
        assert Ticket.objects.get(pk=conv.ticket.pk).category == "Access"
        shot(agent, f"conversation-category-{name}")

        agent.goto("/acme/")
        agent.select_option("select[name=category]", "Access")
        agent.click("#filters button.primary")
        expect(agent).to_have_url(re.compile(r"category=Access"))
        expect(agent.locator("body")).to_contain_text(conv.thread.subject)
        shot(agent, f"queue-category-filter-{name}")

        agent.goto("/acme/threads/new/")
        agent.get_by_role("link", name="Open a ticket alone").click()
        subject = f"Printer jammed, phoned in ({name})"
        agent.fill("#new-subject", subject)
        agent.fill("#new-description", "Third floor, tray 2.")
        agent.select_option("#new-priority", "high")
        agent.select_option("#new-category", "Hardware")
        agent.fill("#new-client", "jane@client.test")
        shot(agent, f"ticket-new-{name}")
        agent.click("button:has-text('Open the ticket')")
        ticket = Ticket.objects.get(subject=subject)
        expect(agent).to_have_url(re.compile(rf"/tickets/{ticket.reference}/$"))
        expect(agent.locator("h1")).to_have_text(subject)
        expect(agent.locator("#f-category")).to_have_value("Hardware")
        expect(agent.locator(".ticket-description p")).to_have_text("Third floor, tray 2.")
        assert (ticket.priority, ticket.category) == ("high", "Hardware")
        assert ticket.assignee == acme.agent
        shot(agent, f"ticket-from-scratch-{name}")
        wide = agent.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert wide
        assert agent.errors == [] and agent.dialogs == [] and admin.errors == []
        admin.context.close()
        agent.context.close()
