"""Mail domains: add one, see what DNS says of it, rotate its DKIM key, send from it.

The checks and changes call exactly what the REST API calls (inboxes/domain_api.py).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from inboxes import domains, esp_domains, selectors
from inboxes.domain_api import domain_records, esp_inbound_mx_record
from interface.settings_pages.common import admin_view, done, page, refused
from interface.settings_pages.forms import form_error
from tisket.errors import TisketError

SECTION = "settings:domains"


class DomainForm(forms.Form):
    name = forms.CharField(
        label="Domain",
        max_length=253,
        widget=forms.TextInput(attrs={"placeholder": "clientcorp.com"}),
    )


@admin_view
def domain_list(request: HttpRequest) -> HttpResponse:
    form = DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain = domains.mail_domain_add(
                organization=request.organization, name=form.cleaned_data["name"]
            )
        except (ValidationError, TisketError) as error:
            form_error(form, error)
        else:
            return done(
                request,
                f"{domain.name} added: publish its records, then check.",
                "settings:domain",
                domain.pk,
            )
    context = {
        "domains": selectors.mail_domains_list(organization=request.organization),
        "form": form,
    }
    return page(request, "settings/domains.html", context, section=SECTION)


@admin_view
def domain_detail(request: HttpRequest, domain: int) -> HttpResponse:
    found = selectors.mail_domain_get(organization=request.organization, pk=domain)
    addresses = list(selectors.mail_domain_addresses(domain=found))
    context = {
        "domain": found,
        "records": domain_records(found),
        "addresses": addresses,
        "esp_name": esp_domains.esp_name(),
        "inbound_mx": esp_inbound_mx_record(found),
    }
    return page(request, "settings/domain.html", context, section=SECTION)


@admin_view
@require_POST
def domain_esp_sync(request: HttpRequest, domain: int) -> HttpResponse:
    """Set the domain up at the installation's ESP, or have the ESP check its records again."""
    found = selectors.mail_domain_get(organization=request.organization, pk=domain)
    try:
        synced = esp_domains.mail_domain_esp_sync(domain=found)
    except TisketError as error:
        return refused(request, error, "settings:domain", found.pk)
    waiting = [r for r in synced.esp_records if not r["ok"]]
    said = (
        f"{esp_domains.esp_name()} sees every record of {synced.name}."
        if not waiting
        else f"{esp_domains.esp_name()} waits for {len(waiting)} record(s) of {synced.name}."
    )
    if synced.esp_inbound_id:
        said += f" Its server for mail in to {synced.name} is ready."
    return done(request, said, "settings:domain", found.pk)


@admin_view
@require_POST
def domain_check(request: HttpRequest, domain: int) -> HttpResponse:
    found = selectors.mail_domain_get(organization=request.organization, pk=domain)
    checked = domains.mail_domain_check(domain=found)
    return done(
        request,
        f"{checked.name}: {checked.get_status_display().lower()}.",
        "settings:domain",
        found.pk,
    )


@admin_view
@require_POST
def domain_rotate(request: HttpRequest, domain: int) -> HttpResponse:
    found = selectors.mail_domain_get(organization=request.organization, pk=domain)
    try:
        rotated = domains.mail_domain_rotate(domain=found)
    except TisketError as error:
        return refused(request, error, "settings:domain", found.pk)
    return done(
        request,
        f"New key {rotated.dkim_next_selector}: publish its record; the current key signs "
        "until it shows.",
        "settings:domain",
        found.pk,
    )


@admin_view
@require_POST
def domain_delete(request: HttpRequest, domain: int) -> HttpResponse:
    found = selectors.mail_domain_get(organization=request.organization, pk=domain)
    domains.mail_domain_delete(domain=found)
    return done(request, f"{found.name} removed.", SECTION)


@admin_view
@require_POST
def domain_sender(request: HttpRequest, domain: int) -> HttpResponse:
    """Make one of the inbox addresses on this domain its inbox's From (or stop)."""
    found = selectors.mail_domain_get(organization=request.organization, pk=domain)
    inbox = selectors.inbox_get(organization=request.organization, pk=request.POST.get("inbox", ""))
    address = request.POST.get("address", "")
    try:
        domains.inbox_from_set(inbox=inbox, address=address)
    except ValidationError as error:
        return refused(request, " ".join(error.messages), "settings:domain", found.pk)
    said = (
        f"{inbox.name} sends from {address}."
        if address
        else f"{inbox.name} sends from {inbox.address}."
    )
    return done(request, said, "settings:domain", found.pk)
