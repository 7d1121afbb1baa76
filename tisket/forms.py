import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest
from django.urls import reverse

from tisket import throttle
from tisket.audit import Action, audit_record_for_user
from tisket.lib.requests import client_address
from tisket.models import User, UserManager
from tisket.sso.services import sso_required_for
from tisket.two_factor import two_factor_enabled


class ThrottledLoginMixin:
    """Refuses a login while its account, its address or both have failed too often lately.

    The refusal reads the same whether the account exists or not, and comes
    before the password is checked, so a throttled guess learns nothing.
    """

    request: HttpRequest | None
    cleaned_data: dict
    user_cache: object

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()
        address = client_address(self.request)
        wait = throttle.login_wait(username=username, address=address)
        if wait:
            minutes = max(1, -(-wait // 60))
            raise forms.ValidationError(
                "Too many failed attempts to log in. Try again in %(minutes)s minute(s).",
                code="throttled",
                params={"minutes": minutes},
            )
        try:
            return super().clean()
        finally:
            # A right password from a user that may not log in here (inactive, or not
            # staff in admin) is no guess: it resets, it does not count.
            if self.user_cache is None:
                throttle.login_failure_record(username=username, address=address)
                _audit_login_failure(username)
            else:
                throttle.login_success_record(username=username, address=address)


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        organization = sso_required_for(user=user)
        if organization is not None:
            raise forms.ValidationError(
                "%(name)s signs its members in through single sign-on: use “Sign in with "
                "single sign-on” below.",
                code="sso_required",
                params={"name": organization.name},
            )


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        # Admin's own page asks no second factor: such accounts sign in on ours, then come back.
        if two_factor_enabled(user=user):
            raise forms.ValidationError(
                "This account signs in with two factors: log in at %(url)s, then open the admin.",
                code="two_factor",
                params={"url": reverse("login") + "?next=/admin/"},
            )


def _audit_login_failure(username: str) -> None:
    """A failed password of an existing account goes to its organizations' audit logs."""
    user = User.objects.filter(email=UserManager.normalize(username)).first()
    if user is not None:
        audit_record_for_user(user=user, action=Action.LOGIN_FAILED, as_actor=False)


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "spellcheck": "false",
                "autocapitalize": "none",
            }
        ),
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "handle", "signature", "timezone", "language"]
        labels = {"full_name": "Name", "handle": "Handle", "timezone": "Time zone"}
        widgets = {"signature": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handle"].help_text = "Colleagues mention you in notes as @handle."
        self.fields["signature"].help_text = "Put under your replies to clients (plain text)."
        self.fields["timezone"] = forms.ChoiceField(
            label="Time zone",
            required=False,
            choices=[("", "The organization's")]
            + [(z, z) for z in sorted(zoneinfo.available_timezones())],
        )
        self.fields["language"] = forms.ChoiceField(
            label="Language",
            required=False,
            choices=[("", "English (default)"), *settings.LANGUAGES],
            help_text="For dates and the texts Django itself shows; Tisket's pages are in English.",
        )

    def clean_handle(self) -> str | None:
        return (self.cleaned_data.get("handle") or "").strip().lower() or None
