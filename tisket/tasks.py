from smtplib import SMTPException
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tisket.audit import Action, audit_record_for_user, audit_sweep
from tisket.branding.reset import BrandedPasswordResetForm
from tisket.models import UserSession


@shared_task
def sessions_clear() -> int:
    """Delete expired browser sessions (beat runs it every few hours)."""
    deleted, _ = UserSession.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task
def audit_sweep_task() -> int:
    """Remove audit events past the retention (beat runs it daily)."""
    return audit_sweep()


@shared_task(
    autoretry_for=(OSError, SMTPException),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def password_reset_mail_send(email: str, address: str = "") -> int:
    """Mail a one-time reset link to the active account of this address; none: nothing is sent.

    Run by the worker, so that the page answers the same, as fast, whether the
    account exists or not.
    """
    form = BrandedPasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    site = urlsplit(settings.SITE_URL)
    form.save(
        domain_override=site.netloc,
        use_https=site.scheme == "https",
        subject_template_name="accounts/emails/password_reset_subject.txt",
        email_template_name="accounts/emails/password_reset_body.txt",
        extra_email_context={"minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
    )
    for user in users:
        audit_record_for_user(
            user=user, action=Action.PASSWORD_RESET_ASKED, data={"from": address or "unknown"}
        )
    return len(users)
