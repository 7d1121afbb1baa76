"""An organization's brand for its mail: its mail branding, and the help centre's logo and
colour (one picture and one colour of the organization, kept where the help centre keeps
them)."""

from django.conf import settings

from kb.models import HelpCentre
from kb.selectors import help_centre_logo_path
from tisket.branding.frame import DEFAULT_COLOUR, Brand
from tisket.branding.models import MailBranding
from tisket.models import Organization


def help_centre_look(*, organization: Organization) -> tuple[str, str]:
    """The help centre's colour and the absolute URL of its logo ("" when it has none)."""
    centre = HelpCentre.objects.select_related("logo").filter(organization=organization).first()
    if centre is None:
        return DEFAULT_COLOUR, ""
    path = help_centre_logo_path(organization=organization, centre=centre)
    logo = f"{settings.SITE_URL.rstrip('/')}{path}" if path else ""
    return centre.colour, logo


def brand_build(
    *,
    organization: Organization,
    colour: str,
    sender_name: str,
    postal_address: str,
    wording: dict[str, str],
    look: tuple[str, str],
) -> Brand:
    """A brand from branding values (saved or a draft) and the help centre's look."""
    centre_colour, logo = look
    return Brand(
        name=sender_name or organization.name,
        colour=colour or centre_colour,
        logo_url=logo,
        postal_address=postal_address,
        wording=dict(wording or {}),
        organization_name=organization.name,
    )


def organization_brand(*, organization: Organization) -> Brand:
    """The brand of an organization's mail as saved."""
    branding = MailBranding.objects.filter(organization=organization).first()
    look = help_centre_look(organization=organization)
    if branding is None:
        return brand_build(
            organization=organization,
            colour="",
            sender_name="",
            postal_address="",
            wording={},
            look=look,
        )
    return brand_build(
        organization=organization,
        colour=branding.colour,
        sender_name=branding.sender_name,
        postal_address=branding.postal_address,
        wording=branding.wording,
        look=look,
    )
