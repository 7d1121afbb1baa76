"""/accounts/: signing in (with a second factor), passwords, one's profile, sessions and tokens.

Password reset and change are Django's own views: a reset answers the same
whether the address has an account or not, is rate-limited, and its link works
once (its token is bound to the password it replaces) for
PASSWORD_RESET_TIMEOUT seconds.
"""

import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from tisket import services, throttle, two_factor
from tisket.audit import Action, audit_record_for_user
from tisket.errors import TisketError
from tisket.forms import LoginForm, ProfileForm, TwoFactorCodeForm
from tisket.lib.params import id_param
from tisket.lib.requests import client_address
from tisket.lib.unsubscribe import CATEGORIES, Subscription
from tisket.models import ApiToken, User, UserSession
from tisket.notifications import views as notification_views
from tisket.sessions import AGENT_KEY, IP_KEY, SEEN_KEY, SSO_ORG_KEY
from tisket.unsubscriptions import resubscribe, unsubscriptions_of
from tisket.views import too_many_attempts

PENDING_KEY = "tisket_2fa_pending"
PENDING_SECONDS = 300
PENDING_TRIES = 5
BACKEND = "django.contrib.auth.backends.ModelBackend"

SECTIONS = [
    ("accounts:profile", "Profile"),
    ("accounts:password-change", "Password"),
    ("accounts:two-factor", "Two-factor sign-in"),
    ("accounts:account-sessions", "Sessions and tokens"),
]


def _page(request: HttpRequest, template: str, context: dict, *, section: str) -> HttpResponse:
    context = {"account_sections": SECTIONS, "section": section, **context}
    return render(request, template, context)


def sign_in(
    request: HttpRequest, user: User, *, method: str, sso_organization: int | None = None
) -> None:
    """Open the session (both factors checked), note where from, and audit it.

    `sso_organization`: the organization whose provider vouched; the session opens its
    pages only.
    """
    auth_login(request, user, backend=BACKEND)
    if sso_organization is None:
        request.session.pop(SSO_ORG_KEY, None)
    else:
        request.session[SSO_ORG_KEY] = sso_organization
    request.session[SEEN_KEY] = int(timezone.now().timestamp())
    request.session[IP_KEY] = client_address(request) or None
    request.session[AGENT_KEY] = request.META.get("HTTP_USER_AGENT", "")[:300]
    audit_record_for_user(user=user, action=Action.LOGIN, data={"method": method})


# --- Signing in ------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        user = form.get_user()
        if two_factor.two_factor_enabled(user=user):
            # The password was right; the session opens only once the second factor is.
            self.request.session[PENDING_KEY] = {
                "user": user.pk,
                "at": time.time(),
                "tries": 0,
                "next": self.get_success_url(),
            }
            return redirect("accounts:login-verify")
        sign_in(self.request, user, method="password")
        return HttpResponseRedirect(self.get_success_url())


_login = LoginView.as_view()


def login(request: HttpRequest) -> HttpResponse:
    return too_many_attempts(_login(request))


@never_cache
@sensitive_post_parameters("code")
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, "Log in again: the sign-in took too long.")
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind = two_factor.two_factor_verify(user=user, code=form.cleaned_data["code"])
        if kind is not None:
            target = pending["next"]
            request.session.pop(PENDING_KEY, None)
            sign_in(
                request,
                user,
                method=f"{pending.get('method', 'password')}+{kind}",
                sso_organization=pending.get("sso_organization"),
            )
            if kind == "recovery":
                left = two_factor.recovery_codes_left(user=user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. "
                    "Make new ones under Two-factor sign-in if you are running out.",
                )
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = settings.LOGIN_REDIRECT_URL
            return redirect(target)
        pending["tries"] += 1
        if pending["tries"] >= PENDING_TRIES:
            request.session.pop(PENDING_KEY, None)
            messages.error(request, "Too many wrong codes. Log in again.")
            return redirect("login")
        request.session[PENDING_KEY] = pending
        form.add_error("code", "That code is not right, or was used already.")
    return render(request, "accounts/login_verify.html", {"form": form}, status=200)


# --- Passwords ---------------------------------------------------------------------------------


class ResetForm(PasswordResetForm):
    def save(self, *, request: HttpRequest, **kwargs) -> None:  # type: ignore[override]
        from tisket.tasks import password_reset_mail_send

        email, address = self.cleaned_data["email"], client_address(request)
        transaction.on_commit(lambda: password_reset_mail_send.delay(email, address))


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password-reset-done")

    def form_valid(self, form: ResetForm) -> HttpResponse:
        allowed = throttle.password_reset_allowed(
            email=form.cleaned_data["email"], address=client_address(self.request)
        )
        if not allowed:
            form.add_error(None, "Too many reset mails were asked for. Try again in an hour.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        form.save(request=self.request)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        # A new password ends every session the old one opened.
        services.sessions_end(user=user)
        audit_record_for_user(user=user, action=Action.PASSWORD_RESET)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change")

    def get_context_data(self, **kwargs) -> dict:
        return {
            "account_sections": SECTIONS,
            "section": "accounts:password-change",
            **super().get_context_data(**kwargs),
        }

    def form_valid(self, form) -> HttpResponse:
        form.save()
        update_session_auth_hash(self.request, form.user)
        ended = services.sessions_end(user=form.user, keep=self.request.session.session_key)
        audit_record_for_user(user=form.user, action=Action.PASSWORD_CHANGED)
        others = f" {ended} other session{'s' if ended != 1 else ''} ended." if ended else ""
        messages.success(self.request, f"Your password is changed.{others}")
        return HttpResponseRedirect(self.get_success_url())


# --- Profile, sessions, tokens ----------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=User.objects.get(pk=request.user.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(
                user=request.user, **{f: form.cleaned_data[f] for f in services.PROFILE_FIELDS}
            )
        except TisketError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile")
    memberships = request.user.memberships.select_related("organization").order_by(
        "organization__name"
    )
    unsubscribed = unsubscriptions_of(address=request.user.email).filter(
        organization__memberships__user=request.user
    )
    context = {"form": form, "memberships": memberships, "unsubscriptions": unsubscribed}
    return _page(request, "accounts/profile.html", context, section="accounts:profile")


@login_required
@require_POST
def profile_resubscribe(request: HttpRequest) -> HttpResponse:
    """Undo an unsubscribe from one's own mail, in an organization one belongs to."""
    organization = request.user.memberships.filter(
        organization_id=id_param(request.POST.get("organization", "")) or 0
    ).values_list("organization_id", flat=True)
    category = request.POST.get("category", "")
    if organization and category in CATEGORIES:
        resubscribe(
            subscription=Subscription(organization[0], request.user.email.lower(), category)
        )
        messages.success(request, "Subscribed again: that mail comes to you again.")
    return redirect(reverse("accounts:profile") + "#mail")


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    """One's browser sessions and API tokens, each with a way to end it."""
    now = timezone.now()
    rows = UserSession.objects.filter(user=request.user, expire_date__gt=now).order_by(
        "-last_seen_at", "-created_at"
    )
    tokens = (
        ApiToken.objects.filter(membership__user=request.user, revoked_at__isnull=True)
        .select_related("membership__organization")
        .order_by("-created_at")
    )
    context = {
        "sessions": rows,
        "current": request.session.session_key,
        "tokens": tokens,
        "idle_hours": settings.TISKET_SESSION_IDLE_TIMEOUT / 3600,
    }
    return _page(request, "accounts/sessions.html", context, section="accounts:account-sessions")


@login_required
@require_POST
def sessions_end(request: HttpRequest) -> HttpResponse:
    """End one session, or every other one (and, if asked, revoke one's tokens too)."""
    current = request.session.session_key
    one = request.POST.get("session", "")
    if one:
        if one == current:
            messages.error(request, "That is this session: log out instead.")
            return redirect("accounts:account-sessions")
        ended = services.sessions_end(user=request.user, session_key=one)
        messages.success(request, "Session ended." if ended else "That session had ended already.")
        return redirect("accounts:account-sessions")
    ended = services.sessions_end(user=request.user, keep=current)
    revoked = 0
    if request.POST.get("tokens") == "on":
        revoked = services.api_tokens_revoke_all(user=request.user)
    text = f"Signed out everywhere else: {ended} session{'s' if ended != 1 else ''} ended"
    text += f", {revoked} token{'s' if revoked != 1 else ''} revoked." if revoked else "."
    messages.success(request, text)
    return redirect("accounts:account-sessions")


# --- Two-factor sign-in ------------------------------------------------------------------------


def _qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff", border=2)


@never_cache
@login_required
@sensitive_post_parameters("code")
def two_factor_page(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in on (scan, confirm with a code), renew recovery codes, turn it off."""
    user = request.user
    enabled = two_factor.two_factor_enabled(user=user)
    form = TwoFactorCodeForm(request.POST or None)
    codes = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "enable" and form.is_valid():
            try:
                codes = two_factor.two_factor_enable(user=user, code=form.cleaned_data["code"])
            except TisketError as error:
                messages.error(request, str(error))
                return redirect("accounts:two-factor")
            if codes is None:
                form.add_error(
                    "code",
                    "That code is not right. Check your phone's clock, and try the next one.",
                )
            else:
                services.sessions_end(user=user, keep=request.session.session_key)
                enabled = True
        elif action in ("renew", "disable") and enabled:
            if (
                not form.is_valid()
                or two_factor.two_factor_verify(user=user, code=form.cleaned_data["code"]) is None
            ):
                messages.error(request, "That code is not right: nothing changed.")
                return redirect("accounts:two-factor")
            try:
                if action == "renew":
                    codes = two_factor.recovery_codes_renew(user=user)
                else:
                    two_factor.two_factor_disable(user=user)
                    messages.success(request, "Two-factor sign-in is off.")
                    return redirect("accounts:two-factor")
            except TisketError as error:
                messages.error(request, str(error))
                return redirect("accounts:two-factor")
    if codes is not None:
        form = TwoFactorCodeForm()
    context = {
        "enabled": enabled,
        "form": form,
        "form_off": TwoFactorCodeForm(auto_id="off_%s"),
        "codes": codes,
        "required_by": list(two_factor.organizations_requiring(user=user)),
    }
    if enabled:
        context["codes_left"] = two_factor.recovery_codes_left(user=user)
    else:
        device = two_factor.totp_device_pending(user=user)
        context["qr"] = _qr_svg(device.config_url)
        context["secret"] = two_factor.totp_secret_text(device)
    response = _page(request, "accounts/two_factor.html", context, section="accounts:two-factor")
    response["Cache-Control"] = "no-store"
    return response


logout = auth_views.LogoutView.as_view()

# Under /accounts/, namespace "accounts"; the login and logout pages keep their
# plain names ("login", "logout"), which Django's LOGIN_URL and every page use.
app_name = "accounts"

urlpatterns = [
    path("login/verify/", login_verify, name="login-verify"),
    path("password/reset/", PasswordResetView.as_view(), name="password-reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password-reset-done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
    path("password/", PasswordChangeView.as_view(), name="password-change"),
    path("profile/", profile, name="profile"),
    path("profile/resubscribe/", profile_resubscribe, name="profile-resubscribe"),
    path(
        "profile/notifications/<str:org_slug>/",
        notification_views.preferences,
        name="notifications",
    ),
    path("sessions/", sessions, name="account-sessions"),
    path("sessions/end/", sessions_end, name="account-sessions-end"),
    path("two-factor/", two_factor_page, name="two-factor"),
]
