"""Inviting a person: the invitation and its mail, in one step for the pages and the API.

The only way into an organization for anyone, existing user or not: they
accept the link while logged in as the invited address (or set a password
when the address has no account). Nothing said to the inviter depends on
whether the address has an account.
"""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from threads.outbound import address_mail
from tisket import invitations
from tisket.models import Invitation, Membership, Organization


def _invitation_mail(*, invitation: Invitation, token: str, inviter: Membership) -> bool:
    """Queue the invitation's mail with its link; False when the address is suppressed."""
    organization = invitation.organization
    context = {
        "invitation": invitation,
        "organization": organization,
        "inviter": inviter.user,
        "link": settings.SITE_URL + reverse("invitations:accept", args=[token]),
    }
    subject = render_to_string("settings/emails/invitation_subject.txt", context)
    text = render_to_string("settings/emails/invitation_body.txt", context)
    mail = address_mail(
        organization_id=organization.pk,
        to=invitation.email,
        subject=" ".join(subject.split()),
        text=text.strip() + "\n",
        mail_type="invitation",
    )
    return mail is not None


@transaction.atomic
def invitation_send(
    *, organization: Organization, email: str, role: str, actor: Membership
) -> tuple[Invitation, bool]:
    """Invite a person and mail them the link; returns the invitation and whether it was mailed."""
    invitation, token = invitations.invitation_create(
        organization=organization, email=email, role=role, actor=actor
    )
    return invitation, _invitation_mail(invitation=invitation, token=token, inviter=actor)


@transaction.atomic
def invitation_send_again(*, invitation: Invitation, actor: Membership) -> tuple[Invitation, bool]:
    """Renew a pending invitation's link and mail it; the earlier link stops working."""
    invitation, token = invitations.invitation_resend(invitation=invitation, actor=actor)
    return invitation, _invitation_mail(invitation=invitation, token=token, inviter=actor)
