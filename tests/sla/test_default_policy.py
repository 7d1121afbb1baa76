"""The default SLA policy is what every ticket without a tier runs on: deleting it is refused
while it is the default, by the service, so by the API, the settings page and the admin alike."""

import pytest
from django.urls import reverse

from sla import services as sla_services
from sla.models import SlaPolicy
from tests.conftest import api_client
from tests.factories import UserFactory, always_open_policy
from tickets import services
from tisket.errors import ConflictError

TARGETS = {"normal": {"first_response_minutes": 60}}


@pytest.fixture
def policy(acme):
    return always_open_policy(acme.org, TARGETS)


def test_the_service_refuses_and_the_tickets_keep_their_sla(acme, policy):
    ticket = services.ticket_create(organization=acme.org, subject="Printer", actor=None)
    assert ticket.sla_policy == policy
    with pytest.raises(ConflictError, match="default SLA policy"):
        sla_services.policy_delete(policy=policy)
    ticket.refresh_from_db()
    assert ticket.sla_policy == policy and ticket.first_response_due_at is not None


def test_another_policy_made_default_lets_the_old_one_go(acme, policy):
    other = sla_services.policy_create(
        organization=acme.org, name="Gold", calendar=policy.calendar, is_default=True, targets={}
    )
    policy.refresh_from_db()
    assert not policy.is_default and other.is_default
    sla_services.policy_delete(policy=policy)
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_the_api_answers_409_with_the_reason(acme, policy):
    response = api_client(acme.admin).delete(f"/api/v1/sla/policies/{policy.pk}/")
    assert response.status_code == 409
    assert "default SLA policy" in response.json()["detail"]
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_the_settings_page_says_why(acme, policy, web):
    response = web(acme.admin).post(
        reverse("settings:policy-delete", kwargs={"org_slug": "acme", "policy": policy.pk}),
        follow=True,
    )
    assert "is the default SLA policy" in response.content.decode()
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_the_admin_offers_no_delete_and_its_bulk_action_spares_it(acme, policy, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    delete = reverse("admin:sla_slapolicy_delete", args=[policy.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        reverse("admin:sla_slapolicy_changelist"),
        {"action": "delete_selected", "_selected_action": [policy.pk], "post": "yes"},
    )
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()
