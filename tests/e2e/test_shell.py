"""The shell of the agent UI in a real browser: login, and the organization's pages."""

from tests.e2e.conftest import shot
from tests.factories import PASSWORD


def test_an_agent_logs_in_with_the_form_and_lands_in_the_organization(acme, login, live_server):
    page = login(None)
    page.goto("/accounts/login/")
    page.fill("input[type=email]", acme.agent.user.email)
    page.fill("input[type=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/acme/")
    assert "Acme" in page.title()
    shot(page, "login-landing")
    assert page.errors == [] and page.dialogs == []
