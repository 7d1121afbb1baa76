import pytest

from kb import search, services
from kb.models import Visibility
from tisket.models import Role


@pytest.fixture(autouse=True)
def _fresh_vectors():
    search.vectors_forget()
    yield
    search.vectors_forget()


def publish(org, title, body="", **fields):
    """A published article of the organization, written by the installation (no actor)."""
    return services.article_create(
        organization=org, actor=None, title=title, body=body, publish=True, **fields
    )


@pytest.fixture
def kb_acme(acme):
    """Acme's knowledge base: one article of each visibility, a hidden category, a draft."""
    org = acme.org
    guides = services.category_create(organization=org, actor=None, name="Guides")
    internal = services.category_create(
        organization=org, actor=None, name="Internal", visibility=Visibility.MEMBERS
    )
    articles = {
        "public": publish(
            org,
            "Reset your password",
            "Open **Settings** and choose *Reset*.",
            category=guides,
            tags=["password", "login"],
        ),
        "clients": publish(
            org,
            "Download your invoices",
            "Invoices are under Billing.",
            category=guides,
            visibility=Visibility.CLIENTS,
        ),
        "members": publish(
            org,
            "Refund policy for agents",
            "Refunds up to 50 EUR.",
            category=guides,
            visibility=Visibility.MEMBERS,
        ),
        "supervisors": publish(
            org,
            "Escalation contacts",
            "Call the on-call lead.",
            category=guides,
            visibility=Visibility.ROLE,
            min_role=Role.SUPERVISOR,
        ),
        "in_hidden_category": publish(
            org, "Server room door code", "The code is 1234.", category=internal
        ),
        "draft": services.article_create(
            organization=org, actor=None, title="Upcoming feature", body="Not yet."
        ),
    }
    return acme, articles
