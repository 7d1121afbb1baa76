"""Django admin of SLA settings: a policy saved there moves open tickets' deadlines."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.factories import UserFactory, always_open_policy
from tickets import services
from tickets.models import Ticket
from tickets.tasks import sla_sweep_task

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_policy_changed_in_the_admin_recomputes_open_tickets(
    superuser_client, acme, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        policy = always_open_policy(acme.org, {"normal": {"first_response_minutes": 60}})
        ticket = services.ticket_create(organization=acme.org, subject="x", actor=None)
        target = policy.targets.get()
        form = {
            "organization": acme.org.pk,
            "name": "Standard",
            "calendar": policy.calendar_id,
            "is_default": "on",
            "targets-TOTAL_FORMS": "1",
            "targets-INITIAL_FORMS": "1",
            "targets-MIN_NUM_FORMS": "0",
            "targets-MAX_NUM_FORMS": "1000",
            "targets-0-id": target.pk,
            "targets-0-policy": policy.pk,
            "targets-0-priority": "normal",
            "targets-0-first_response_minutes": "20",
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = superuser_client.post(
                reverse("admin:sla_slapolicy_change", args=[policy.pk]), form
            )
        assert response.status_code == 302
        sla_sweep_task()  # the next sweep catches the policy's tickets up
        ticket = Ticket.objects.get(pk=ticket.pk)
        assert ticket.first_response_due_at == NOW + timedelta(minutes=20)
