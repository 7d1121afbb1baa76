"""`manage.py demo`: Acme with conversations in every state, loaded once for the module's
tests; loading it again changes nothing."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from kb.models import Article
from tests.conftest import rows_for_the_module
from threads.models import InboundMail, OutboundMail, Thread
from tickets.models import Macro, Note, Rating, SlaBreach, Ticket, TicketCategory
from tisket.models import Membership, Organization, Role, Sequence, User


def _demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker) -> str:
    """The demo loaded once; what it printed."""
    with rows_for_the_module(django_db_blocker):
        yield _demo()


def _counts() -> tuple[int, ...]:
    quarantined = InboundMail.objects.filter(status=InboundMail.Status.QUARANTINED)
    return tuple(
        rows.count()
        for rows in (Organization.objects, User.objects, Membership.objects, Thread.objects,
                     Ticket.objects, Rating.objects, Article.objects, quarantined)
    )  # fmt: skip


def test_demo_loads_acme(loaded, db):
    assert "agent@acme.test" in loaded
    organization = Organization.objects.get(slug="acme")
    assert organization.code == "ACME"
    assert authenticate(username="agent@acme.test", password="tisket-demo")
    assert Membership.objects.get(user__email="agent@acme.test").role == Role.AGENT
    assert not Sequence.objects.filter(last_value__lt=0).exists()
    # A dozen articles in the help centre, written once; the playbooks for members only.
    assert Article.objects.filter(organization=organization, state="published").count() == 13
    assert "/hc/acme/" in loaded


def test_the_demo_has_conversations_in_every_state(loaded, db):
    assert Thread.objects.count() >= 30
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in Ticket.Status}
    assert Macro.objects.count() >= 3
    assert Membership.objects.filter(role=Role.AGENT).count() >= 3
    assert Membership.objects.filter(role=Role.SUPERVISOR).exists()
    assert SlaBreach.objects.exists()
    assert Ticket.objects.filter(sla_paused_at__isnull=False).exists()
    assert OutboundMail.objects.filter(status=OutboundMail.Status.FAILED).exists()
    assert Ticket.objects.filter(merged_into__isnull=False).exists()
    assert Ticket.objects.filter(parent__isnull=False).count() >= 3
    assert Note.objects.filter(body__contains="@sam").exists()
    assert {r.score for r in Rating.objects.all()} >= {1, 2, 4, 5}
    assert InboundMail.objects.filter(status=InboundMail.Status.QUARANTINED).count() >= 3
    assert Ticket.objects.exclude(sla_policy__name="Standard").exists()  # the Enterprise tier
    categories = set(TicketCategory.objects.values_list("name", flat=True))
    assert {"Billing", "Bug report", "Sign-in & security"} <= categories
    filed = dict(Ticket.objects.values_list("subject", "category"))
    assert filed["Invoice 2041 charges us twice"] == "Billing"
    assert filed["Cannot sign in"] == "Sign-in & security"
    assert set(filed.values()) - {""} == categories  # every category has its tickets
    assert "" in filed.values()  # and a few tickets have none


def test_the_demo_loaded_again_changes_nothing(loaded, db):
    counts = _counts()
    filed = dict(Ticket.objects.values_list("subject", "category"))
    _demo()
    assert _counts() == counts
    assert dict(Ticket.objects.values_list("subject", "category")) == filed
