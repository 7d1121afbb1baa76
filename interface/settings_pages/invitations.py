"""/accounts/invitations/<token>/: the link of an invitation mail, for whoever holds it.

An existing user logs in (as the invited address) and accepts; a newcomer sets a
name and a password. An expired, revoked, replaced or used link says so.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from interface.settings_pages.forms import AcceptNewUserForm
from tisket import invitations
from tisket.errors import TisketError
from tisket.models import User


def _mode(request: HttpRequest, email: str) -> str:
    if request.user.is_authenticated:
        return "join" if request.user.email == email else "wrong_user"
    existing = User.objects.filter(email=email).first()
    return "login" if existing is not None and existing.has_usable_password() else "signup"


@never_cache
@sensitive_post_parameters("password", "password_again")
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitations.invitation_check(token=token)
    except invitations.InvitationError as error:
        return render(request, "settings/invitation.html", {"error": str(error)}, status=410)
    mode = _mode(request, invitation.email)
    form = AcceptNewUserForm(
        request.POST if mode == "signup" and request.method == "POST" else None,
        email=invitation.email,
    )
    refusal = ""
    if request.method == "POST" and mode in ("join", "signup"):
        try:
            if mode == "join":
                membership = invitations.invitation_accept(token=token, user=request.user)
            elif form.is_valid():
                membership = invitations.invitation_accept(
                    token=token,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                membership = None
        except TisketError as error:
            refusal, membership = str(error), None
        if membership is not None:
            organization = membership.organization
            messages.success(request, f"Welcome to {organization.name}.")
            return redirect("tickets:queue", org_slug=organization.slug)
    context = {"invitation": invitation, "mode": mode, "form": form, "refusal": refusal}
    return render(request, "settings/invitation.html", context)


app_name = "invitations"

urlpatterns = [
    path("<str:token>/", invitation_accept, name="accept"),
]
