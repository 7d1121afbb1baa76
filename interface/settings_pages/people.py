"""Settings of the organization itself, its members and invitations, and API tokens."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from interface.settings_pages.common import admin_view, done, page, refused
from interface.settings_pages.forms import (
    InviteForm,
    OrganizationForm,
    RoleForm,
    TokenForm,
    form_error,
    roles_granted_by,
)
from interface.settings_pages.invites import invitation_send, invitation_send_again
from tickets.client_views import client_view_grant
from tisket import invitations, selectors, services
from tisket.errors import TisketError
from tisket.models import ApiToken, Role
from tisket.two_factor import members_with_two_factor

# --- General ---------------------------------------------------------------------------


@admin_view
def general(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    form = OrganizationForm.for_organization(organization, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(organization=organization, **form.cleaned_data)
        except ValidationError as error:
            form_error(form, error)
        else:
            return done(request, "Organization saved.", "settings:general")
    return page(request, "settings/general.html", {"form": form}, section="settings:general")


# --- Members and invitations -----------------------------------------------------------


@admin_view
def members(request: HttpRequest) -> HttpResponse:
    """The members with their roles, the pending invitations, and the invitation form."""
    actor = request.membership
    form = InviteForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, sent = invitation_send(
                organization=request.organization, actor=actor, **form.cleaned_data
            )
        except (TisketError, ValidationError) as error:
            form_error(form, error)
        else:
            if not sent:
                return refused(
                    request,
                    f"Invitation created, but {invitation.email} bounced recently: "
                    "no mail was sent.",
                    "settings:members",
                )
            return done(request, f"Invitation sent to {invitation.email}.", "settings:members")
    now = timezone.now()
    rows = list(members_with_two_factor(selectors.members_list(organization=request.organization)))
    for row in rows:
        # An admin sees an owner's row but cannot change it: only owners touch owners.
        row.locked = row.role == Role.OWNER and actor.role != Role.OWNER
    context = {
        "members": rows,
        "invitations": selectors.invitations_pending(organization=request.organization),
        "form": form,
        "roles": roles_granted_by(actor),
        "now": now,
    }
    return page(request, "settings/members.html", context, section="settings:members")


@admin_view
@require_POST
def member_role(request: HttpRequest, member: int) -> HttpResponse:
    membership = selectors.member_get(organization=request.organization, pk=member)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return refused(request, "Choose a role from the list.", "settings:members")
    try:
        services.membership_set_role(
            membership=membership, role=form.cleaned_data["role"], actor=request.membership
        )
    except TisketError as error:
        return refused(request, error, "settings:members")
    name = membership.user.get_full_name()
    message = f"{name} is now {membership.get_role_display()}."
    if not membership.has_role(Role.ADMIN) and membership.pk == request.membership.pk:
        messages.success(request, message)  # the settings are no longer theirs to see
        return redirect("tickets:queue", org_slug=request.organization.slug)
    return done(request, message, "settings:members")


@admin_view
@require_POST
def member_view_as_client(request: HttpRequest, member: int) -> HttpResponse:
    """Grant or withdraw "view as client" to a member below supervisor (who always may)."""
    membership = selectors.member_get(organization=request.organization, pk=member)
    allowed = request.POST.get("allowed") == "on"
    try:
        client_view_grant(membership=membership, allowed=allowed, actor=request.membership)
    except TisketError as error:
        return refused(request, error, "settings:members")
    name = membership.user.get_full_name()
    verb = "may now" if allowed else "may no longer"
    return done(request, f"{name} {verb} view conversations as their client.", "settings:members")


@admin_view
@require_POST
def member_remove(request: HttpRequest, member: int) -> HttpResponse:
    membership = selectors.member_get(organization=request.organization, pk=member)
    themselves = membership.pk == request.membership.pk
    try:
        services.membership_remove(membership=membership, actor=request.membership)
    except TisketError as error:
        return refused(request, error, "settings:members")
    if themselves:  # nothing here is theirs any more
        return redirect("home")
    name = membership.user.get_full_name()
    return done(request, f"{name} is no longer a member.", "settings:members")


@admin_view
@require_POST
def invitation_resend(request: HttpRequest, invitation: int) -> HttpResponse:
    pending = selectors.invitation_get(organization=request.organization, pk=invitation)
    try:
        pending, sent = invitation_send_again(invitation=pending, actor=request.membership)
    except TisketError as error:
        return refused(request, error, "settings:members")
    if not sent:
        return refused(
            request, f"{pending.email} bounced recently: no mail was sent.", "settings:members"
        )
    return done(
        request,
        f"Invitation sent again to {pending.email}; the earlier link no longer works.",
        "settings:members",
    )


@admin_view
@require_POST
def invitation_revoke(request: HttpRequest, invitation: int) -> HttpResponse:
    pending = selectors.invitation_get(organization=request.organization, pk=invitation)
    try:
        invitations.invitation_revoke(invitation=pending, actor=request.membership)
    except TisketError as error:
        return refused(request, error, "settings:members")
    return done(request, f"The invitation of {pending.email} is revoked.", "settings:members")


# --- API tokens ----------------------------------------------------------------------------


def _tokens_page(request: HttpRequest, form: TokenForm, **extra) -> HttpResponse:
    tokens = selectors.api_tokens_list(organization=request.organization).order_by(
        F("revoked_at").asc(nulls_first=True), "-created_at"
    )
    context = {
        "tokens": tokens,
        "form": form,
        "url_api_docs": reverse("api-docs"),
        "mcp_calls": selectors.mcp_calls_list(organization=request.organization)[:50],
        **extra,
    }
    return page(request, "settings/tokens.html", context, section="settings:tokens")


@admin_view
def tokens(request: HttpRequest) -> HttpResponse:
    """Every token of the organization; a new one for yourself, its key shown once."""
    member = request.membership
    form = TokenForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = services.api_token_create(
                membership=member,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                scope=form.cleaned_data["scope"],
                created_by=request.user,
            )
        except (TisketError, ValidationError) as error:
            form_error(form, error)
        else:
            # Rendered, not redirected: the key lives in this response only, never in a session.
            response = _tokens_page(request, TokenForm(member=member), created=token, key=key)
            response["Cache-Control"] = "no-store"
            return response
    return _tokens_page(request, form)


@admin_view
@require_POST
def token_revoke(request: HttpRequest, token: int) -> HttpResponse:
    found: ApiToken = selectors.api_token_get(organization=request.organization, pk=token)
    try:
        services.api_token_revoke(token=found, actor=request.membership)
    except TisketError as error:
        return refused(request, error, "settings:tokens")
    return done(request, f"The token {found.name} is revoked.", "settings:tokens")
