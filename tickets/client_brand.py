"""How an organization's client pages look: the help centre's title, logo and colour.

The portal, the conversation behind a mail's link, the rating and unsubscribe pages
all wear the branding the help centre and the mail wear.
"""

from dataclasses import dataclass

from django.urls import reverse

from kb.models import HelpCentre
from kb.selectors import help_centre_for, help_centre_logo_path
from tisket.models import Organization


@dataclass(frozen=True)
class ClientBrand:
    slug: str
    title: str
    logo_url: str = ""  # the help centre's logo, public like the help centre's pages

    @property
    def colour_css_url(self) -> str:
        return reverse("kb:brand-css", kwargs={"org_slug": self.slug})


def client_brand(*, organization: Organization, centre: HelpCentre | None = None) -> ClientBrand:
    """The organization's branding (its help centre's, looked up unless given)."""
    centre = centre or help_centre_for(organization=organization)
    logo_url = help_centre_logo_path(organization=organization, centre=centre)
    return ClientBrand(slug=organization.slug, title=str(centre), logo_url=logo_url)
