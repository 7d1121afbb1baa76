"""The password reset mail, in the installation's frame: an account may belong to many
organizations, so it is no one organization's mail."""

from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.template import loader

from tisket.branding.frame import installation_brand, mail_framed


class BrandedPasswordResetForm(PasswordResetForm):
    """Django's reset form, its mail sent with an HTML part from the common frame."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        subject = " ".join(loader.render_to_string(subject_template_name, context).split())
        body = loader.render_to_string(email_template_name, context)
        text, html = mail_framed(
            brand=installation_brand(),
            kind="password_reset",
            subject=subject,
            text=body,
            recipient=to_email,
        )
        mail = EmailMultiAlternatives(subject, text, from_email, [to_email])
        mail.attach_alternative(html, "text/html")
        mail.send()
