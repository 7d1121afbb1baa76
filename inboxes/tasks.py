"""The worker's tasks of inboxes: checking custom mail domains (on the poll queue)."""

from celery import shared_task

from inboxes.domains import mail_domain_check, mail_domains_check_all
from inboxes.esp_domains import mail_domain_esp_sync_quietly
from inboxes.models import MailDomain


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
