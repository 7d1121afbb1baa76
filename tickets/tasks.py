"""Celery tasks of tickets: the SLA sweep and recomputing deadlines after a policy change."""

from celery import shared_task
from django.db import transaction

from tickets import sla


@shared_task
def sla_sweep_task() -> dict:
    """Warn, breach, notify and escalate; beat runs it every minute."""
    result = sla.sla_sweep()
    return {"warnings": result.warnings, "breaches": result.breaches}


@shared_task(acks_late=True)
def sla_recompute_task(organization_id: int, policy_ids: list[int] | None = None) -> int:
    """Recompute open tickets' deadlines after a calendar or policy changed."""
    return sla.sla_recompute(organization_id=organization_id, policy_ids=policy_ids)


def sla_recompute_later(*, organization_id: int, policy_ids: list[int] | None = None) -> None:
    """Queue the recompute once the change that calls for it has committed."""
    transaction.on_commit(
        lambda: sla_recompute_task.delay(organization_id, policy_ids), robust=True
    )
