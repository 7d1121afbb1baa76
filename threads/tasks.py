"""Celery tasks of the inbound pipeline: they take ids and call the services."""

from celery import shared_task

from threads import inbound


@shared_task(acks_late=True)
def inbound_mail_process(inbound_id: int) -> str | None:
    """Process one recorded mail; safe to run twice (the row is claimed once)."""
    result = inbound.inbound_process(inbound_id=inbound_id)
    return result.inbound.status if result else None


@shared_task
def inbound_mail_sweep() -> int:
    """Queue mail left pending or stuck; beat runs it every minute."""
    return len(inbound.inbound_sweep())
