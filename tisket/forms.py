from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from tisket import services


def client_address(request: HttpRequest) -> str:
    """The address the request came from; behind our proxy, the one it saw connect to it."""
    if settings.TISKET_BEHIND_PROXY:
        # Only the last hop is our proxy's word; anything before it the client wrote.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


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
        wait = services.login_wait(username=username, address=address)
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
                services.login_failure_record(username=username, address=address)
            else:
                services.login_success_record(username=username, address=address)


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
