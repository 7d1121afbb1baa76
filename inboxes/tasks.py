"""The worker's tasks of inboxes: checking custom mail domains (on the poll queue)."""

import logging

from celery import shared_task

from inboxes.domains import mail_domain_check, mail_domains_check_all
from inboxes.esp_domains import esp_inbound_server_remove, mail_domain_esp_sync_quietly
from inboxes.models import MailDomain

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=1800, time_limit=1900)
def mail_domains_check_task() -> int:
    """Hourly: every domain's DNS again; a domain that stopped verifying tells its admins."""
    return mail_domains_check_all()


@shared_task(soft_time_limit=60, time_limit=90)
def mail_domain_check_task(domain_id: int) -> None:
    domain = MailDomain.objects.filter(pk=domain_id).first()
    if domain is not None:
        mail_domain_check(domain=domain)


@shared_task(soft_time_limit=60, time_limit=90)
def mail_domain_esp_sync_task(domain_id: int) -> None:
    """A new domain, set up at the installation's ESP too (TISKET_ESP_PROVISIONING)."""
    domain = MailDomain.objects.filter(pk=domain_id).first()
    if domain is not None:
        mail_domain_esp_sync_quietly(domain=domain)


@shared_task(bind=True, soft_time_limit=60, time_limit=90, max_retries=6)
def esp_inbound_server_remove_task(self, server_id: str) -> None:
    """A removed domain's inbound server, deleted at Postmark; again later if it did not answer."""
    if esp_inbound_server_remove(server_id=server_id):
        return
    if self.request.retries >= self.max_retries:
        logger.error("Postmark server %s of a removed domain: given up, delete it there", server_id)
        return
    # Postmark unreachable or busy: 5 minutes, then twice as long each time (about 5 hours).
    raise self.retry(countdown=300 * 2**self.request.retries)
