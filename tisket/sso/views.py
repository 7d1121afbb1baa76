"""/accounts/sso/ (namespace "sso"): signing in through an organization's OIDC provider."""

import time

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tisket import two_factor
from tisket.accounts import PENDING_KEY, sign_in
from tisket.sso.models import SsoProvider
from tisket.sso.services import SsoRefused, sso_begin, sso_finish, sso_providers_for_email

SSO_KEY = "tisket_sso_pending"


class SsoEmailForm(forms.Form):
    email = forms.EmailField(
        label="Work email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return settings.LOGIN_REDIRECT_URL


def _refused(request: HttpRequest, error: SsoRefused, status: int = 403) -> HttpResponse:
    return render(request, "accounts/sso_refused.html", {"error": str(error)}, status=status)


def _go(request: HttpRequest, provider: SsoProvider, *, login_hint: str = "") -> HttpResponse:
    """Leave for the provider, keeping this sign-in's state, nonce and PKCE verifier."""
    try:
        url, pending = sso_begin(
            provider=provider,
            redirect_uri=request.build_absolute_uri(reverse("sso:callback")),
            login_hint=login_hint,
        )
    except SsoRefused as error:
        return _refused(request, error, status=502 if error.reason == "discovery" else 403)
    pending["next"] = _safe_next(request, request.POST.get("next", ""))
    request.session[SSO_KEY] = pending
    return HttpResponseRedirect(url)


@never_cache
@require_http_methods(["GET", "POST"])
def sso_start(request: HttpRequest) -> HttpResponse:
    """Ask for the work email, find the organization whose provider speaks for it, and go."""
    form = SsoEmailForm(request.POST or None)
    choices: list[SsoProvider] = []
    if request.method == "POST":
        chosen = request.POST.get("organization", "")
        if chosen and form.is_valid():
            providers = sso_providers_for_email(email=form.cleaned_data["email"])
            provider = next((p for p in providers if p.organization.slug == chosen), None)
            if provider is not None:
                return _go(request, provider, login_hint=form.cleaned_data["email"])
        if form.is_valid():
            email = form.cleaned_data["email"]
            choices = sso_providers_for_email(email=email)
            if len(choices) == 1:
                return _go(request, choices[0], login_hint=email)
            if not choices:
                domain = email.rpartition("@")[2]
                form.add_error(
                    "email",
                    f"No organization here signs in {domain} addresses through single "
                    "sign-on. Log in with your password instead.",
                )
    context = {"form": form, "choices": choices, "next": request.GET.get("next", "")}
    status = 400 if form.errors else 200
    response = render(request, "accounts/sso_start.html", context, status=status)
    policy = _policy_towards_providers()
    if policy:
        response["Content-Security-Policy"] = policy
    return response


def _policy_towards_providers() -> str:
    """The site's policy, but this page's form may lead to a provider.

    Browsers hold a form's whole redirect chain to form-action, and which provider
    this form leads to is known only once the email is typed: any https origin,
    and the internal hosts the installation allows.
    """
    policy = settings.TISKET_CONTENT_SECURITY_POLICY
    if "form-action 'self'" not in policy:
        return ""
    internal = " ".join(
        f"http://{host}:* http://{host}"
        for host in settings.TISKET_ALLOWED_SSO_HOSTS
        if host.strip() and "/" not in host
    )
    return policy.replace("form-action 'self'", f"form-action 'self' https: {internal}".strip())


@never_cache
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the browser back. A GET that signs in: the protocol's own shape.

    Its pending state is taken out of the session first, so each state is good once.
    """
    pending = request.session.pop(SSO_KEY, None)
    try:
        membership = sso_finish(
            pending=pending,
            params=request.GET.dict(),
            redirect_uri=request.build_absolute_uri(reverse("sso:callback")),
            now=time.time(),
        )
    except SsoRefused as error:
        return _refused(request, error, status=400 if error.reason == "state" else 403)
    user, target = membership.user, _safe_next(request, pending.get("next", ""))
    if two_factor.two_factor_enabled(user=user):
        # The provider proved who they are; a member who turned on our second factor still gives it.
        request.session[PENDING_KEY] = {
            "user": user.pk,
            "at": time.time(),
            "tries": 0,
            "next": target,
            "method": "sso",
            "sso_organization": membership.organization_id,
        }
        return redirect("accounts:login-verify")
    sign_in(request, user, method="sso", sso_organization=membership.organization_id)
    return redirect(target)


app_name = "sso"

urlpatterns = [
    path("", sso_start, name="start"),
    path("callback/", sso_callback, name="callback"),
]
