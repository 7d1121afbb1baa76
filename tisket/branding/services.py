from tisket.audit import Action, audit_record
from tisket.branding.models import MailBranding
from tisket.models import Membership, Organization


def mail_branding_set(
    *,
    organization: Organization,
    actor: Membership,
    colour: str,
    sender_name: str,
    postal_address: str,
    wording: dict[str, str],
) -> MailBranding:
    """Save how the organization's mail looks; the caller checked the values (the form)."""
    branding, _ = MailBranding.objects.get_or_create(organization=organization)
    branding.colour = colour
    branding.sender_name = sender_name
    branding.postal_address = postal_address
    branding.wording = wording
    branding.save(
        update_fields=["colour", "sender_name", "postal_address", "wording", "updated_at"]
    )
    audit_record(
        organization=organization,
        actor=actor,
        action=Action.ORGANIZATION_CHANGED,
        data={"area": "mail branding"},
    )
    return branding
