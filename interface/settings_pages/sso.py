"""Single sign-on: the organization's OpenID Connect provider."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from inboxes.selectors import mail_domains_verified
from interface.settings_pages.common import admin_view, done, page
from interface.settings_pages.forms import form_error, split_list
from tisket.sso.models import SsoProvider
from tisket.sso.services import sso_provider_get, sso_provider_save


class SsoForm(forms.Form):
    enabled = forms.BooleanField(label="Members may sign in through this provider", required=False)
    issuer = forms.URLField(
        label="Issuer URL",
        max_length=300,
        assume_scheme="https",
        help_text="E.g. https://login.example.com/realms/acme; its discovery document is read.",
    )
    client_id = forms.CharField(label="Client ID", max_length=300)
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again; leave blank to keep the stored one.",
    )
    allowed_domains = forms.CharField(
        label="Email domains",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "example.com, example.org"}),
        help_text="Only members whose verified email is in one of these domains sign in here; "
        "each must be a verified domain on the Domains page (or a subdomain of one).",
    )
    required = forms.BooleanField(
        label="Require single sign-on",
        required=False,
        help_text="Members can no longer log in with a password; owners still can, to fix the "
        "provider if it breaks.",
    )

    def clean_allowed_domains(self) -> list[str]:
        return split_list(self.cleaned_data["allowed_domains"])

    @classmethod
    def for_provider(cls, provider: SsoProvider | None, data=None) -> "SsoForm":
        initial = {}
        if provider is not None:
            initial = {
                "enabled": provider.enabled,
                "issuer": provider.issuer,
                "client_id": provider.client_id,
                "allowed_domains": ", ".join(provider.allowed_domains),
                "required": provider.required,
            }
        return cls(data, initial=initial)


@admin_view
def sso(request: HttpRequest) -> HttpResponse:
    provider = sso_provider_get(organization=request.organization)
    form = SsoForm.for_provider(provider, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sso_provider_save(
                organization=request.organization,
                **form.cleaned_data,
                proven_domains=mail_domains_verified(organization=request.organization),
            )
        except ValidationError as error:
            form_error(form, error)
        else:
            return done(request, "Single sign-on saved.", "settings:sso")
    context = {
        "form": form,
        "provider": provider,
        "redirect_uri": request.build_absolute_uri(reverse("sso:callback")),
        "start_url": request.build_absolute_uri(reverse("sso:start")),
    }
    return page(request, "settings/sso.html", context, section="settings:sso")
