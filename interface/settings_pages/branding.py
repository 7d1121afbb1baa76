"""How the organization's mail looks: the branding editor, its live preview, and a test mail
to the admin.

The preview is the mail's own document in a sandboxed frame (its CSS is inline, which
our pages' policy forbids): the form's values travel to it signed, never stored.
"""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from interface.settings_pages.branding_forms import BrandingForm
from interface.settings_pages.common import admin_view, done, page
from threads.outbound import preframed_mail_queue
from threads.outbound.brand import brand_build, help_centre_look
from tisket.branding.frame import mail_framed
from tisket.branding.models import MailBranding
from tisket.branding.samples import sample_mail
from tisket.branding.services import mail_branding_set
from tisket.branding.types import MAIL_TYPES, wording_help

SECTION = "settings:branding"
DRAFT_SALT = "tisket.branding.preview"
DRAFT_MAX_AGE = 3600


def _saved_values(branding: MailBranding | None) -> dict:
    if branding is None:
        return {"colour": "", "sender_name": "", "postal_address": "", "wording": {}}
    return {
        "colour": branding.colour,
        "sender_name": branding.sender_name,
        "postal_address": branding.postal_address,
        "wording": branding.wording,
    }


def _framed(request: HttpRequest, values: dict, kind: str, look: tuple[str, str]) -> dict:
    """A sample mail of this type in the frame these values make: subject, text, html."""
    brand = brand_build(organization=request.organization, look=look, **values)
    sample = sample_mail(
        kind=kind, organization_id=request.organization.pk, recipient=request.user.email
    )
    text, html = mail_framed(
        brand=brand,
        kind=kind,
        subject=sample["subject"],
        text=sample["text"],
        html=sample["html"],
        recipient=request.user.email,
        unsubscribe_url=sample["unsubscribe_url"],
    )
    return {"subject": sample["subject"], "text": text, "html": html}


def _preview_context(request: HttpRequest, values: dict | None, kind: str) -> dict:
    query = {"type": kind}
    if values is not None:
        query["draft"] = signing.dumps(
            {"o": request.organization.pk, **values}, salt=DRAFT_SALT, compress=True
        )
    src = reverse("settings:branding-mail", args=[request.organization.slug])
    return {"preview_src": f"{src}?{urlencode(query)}", "preview_label": MAIL_TYPES[kind].label}


@admin_view
def branding(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    saved = MailBranding.objects.filter(organization=organization).first()
    look = help_centre_look(organization=organization)
    form = BrandingForm(request.POST or None, branding=saved, initial={"colour": look[0]})
    context = {"form": form, "logo_url": look[1], "wording_help": wording_help()}
    if request.method == "POST" and form.is_valid():
        values, kind = form.values(), form.kind()
        if request.POST.get("action") != "test":
            mail_branding_set(organization=organization, actor=request.membership, **values)
            return done(request, "Mail branding saved.", SECTION)
        # A test of what is on the screen, saved or not: the admin sees it in their own mail.
        mail = _framed(request, values, kind, look)
        preframed_mail_queue(
            organization_id=organization.pk,
            to=request.user.email,
            subject=f"[Test] {mail['subject']}",
            text=mail["text"],
            html=mail["html"],
        )
        messages.success(
            request,
            f"A test of the {MAIL_TYPES[kind].label.lower()} mail is on its way to "
            f"{request.user.email}. Nothing was saved.",
        )
        context |= _preview_context(request, values, kind)
        context["text_part"] = mail["text"]
    else:
        kind = form.kind() if form.is_bound and form.is_valid() else "acknowledgement"
        context |= _preview_context(request, None, kind)
        context["text_part"] = _framed(request, _saved_values(saved), kind, look)["text"]
    return page(request, "settings/branding.html", context, section=SECTION)


@admin_view
@require_POST
def branding_preview(request: HttpRequest) -> HttpResponse:
    """The preview fragment for the form's values as typed (htmx, as the admin types)."""
    form = BrandingForm(request.POST)
    if not form.is_valid():
        return render(request, "settings/_branding_preview.html", {"form": form, "invalid": True})
    values, kind = form.values(), form.kind()
    look = help_centre_look(organization=request.organization)
    context = {"form": form, "text_part": _framed(request, values, kind, look)["text"]}
    context |= _preview_context(request, values, kind)
    return render(request, "settings/_branding_preview.html", context)


def _frame_policy() -> str:
    site = urlsplit(settings.SITE_URL)
    return "; ".join(
        [
            "sandbox",
            "default-src 'none'",
            "style-src 'unsafe-inline'",
            f"img-src data: 'self' {site.scheme}://{site.netloc}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
        ]
    )


@admin_view
@require_GET
@xframe_options_sameorigin
def branding_mail(request: HttpRequest) -> HttpResponse:
    """The HTML part of a sample mail, as the preview's frame shows it."""
    kind = request.GET.get("type", "acknowledgement")
    if kind not in MAIL_TYPES:
        return HttpResponseBadRequest("Unknown mail type.")
    draft = request.GET.get("draft")
    if draft:
        try:
            values = signing.loads(draft, salt=DRAFT_SALT, max_age=DRAFT_MAX_AGE)
        except signing.BadSignature:
            return HttpResponseBadRequest("This preview has expired: edit the form again.")
        if values.pop("o", None) != request.organization.pk:
            raise Http404
        values = {key: values.get(key) for key in ("colour", "sender_name", "postal_address")} | {
            "wording": values.get("wording") or {}
        }
        if not all(isinstance(v, str) for k, v in values.items() if k != "wording"):
            return HttpResponseBadRequest("This preview is not valid.")
    else:
        saved = MailBranding.objects.filter(organization=request.organization).first()
        values = _saved_values(saved)
    look = help_centre_look(organization=request.organization)
    response = HttpResponse(_framed(request, values, kind, look)["html"])
    response["Content-Security-Policy"] = _frame_policy()
    response["Referrer-Policy"] = "no-referrer"
    return response
