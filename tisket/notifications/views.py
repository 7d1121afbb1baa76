"""The bell's pages: the list (paged), reading, the badge, and a member's preferences."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tisket.notifications import selectors, services
from tisket.notifications.forms import PreferencesForm
from tisket.selectors import membership_for_user
from tisket.views import org_view

PAGE_SIZE = 50


@org_view()
def notifications(request: HttpRequest) -> HttpResponse:
    """The member's notifications, newest first, a page at a time; POST marks all read."""
    membership = request.membership
    if request.method == "POST":
        done = services.notifications_mark_read(membership=membership)
        messages.success(request, f"Marked {done} notification{'s' if done != 1 else ''} read.")
        return redirect("org:notifications", org_slug=request.organization.slug)
    paginator = Paginator(selectors.notifications_list(membership=membership), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"page": page, "items": page.object_list, "nav": "notifications"}
    return render(request, "tisket/notifications.html", context)


@org_view()
def notifications_count(request: HttpRequest) -> HttpResponse:
    """The bell's badge (htmx polls it)."""
    badge = selectors.notifications_unread_badge(membership=request.membership)
    return HttpResponse(f'<span class="count">{badge}</span>' if badge else "")


@require_POST
@org_view()
def notification_read(request: HttpRequest, notification: int) -> HttpResponse:
    """Mark one read, then follow it, or go back to the list with `stay`."""
    item = selectors.notification_get(membership=request.membership, pk=notification)
    if item is None:
        raise Http404("No such notification.")
    services.notifications_mark_read(membership=request.membership, ids=[item.pk])
    back = reverse("org:notifications", kwargs={"org_slug": request.organization.slug})
    if request.POST.get("stay"):
        page = request.POST.get("page", "")
        return redirect(f"{back}?page={page}" if page.isdigit() else back)
    # Only a path inside this organization is followed, never an outside address.
    if item.url.startswith(f"/{request.organization.slug}/"):
        return redirect(item.url)
    return redirect(back)


@login_required
def preferences(request: HttpRequest, org_slug: str) -> HttpResponse:
    """A member's notification matrix in one organization, quiet hours and digest."""
    membership = membership_for_user(user=request.user, organization_slug=org_slug)
    membership.user = request.user
    matrix = selectors.member_matrix(membership=membership)
    initial = {
        "quiet_hours_start": membership.quiet_hours_start,
        "quiet_hours_end": membership.quiet_hours_end,
        "email_digest": membership.email_digest,
        "digest_time": membership.digest_time,
    }
    form = PreferencesForm(request.POST or None, matrix=matrix, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_set(
            membership=membership,
            cells=form.cells(),
            quiet_hours_start=form.cleaned_data["quiet_hours_start"],
            quiet_hours_end=form.cleaned_data["quiet_hours_end"],
            email_digest=form.cleaned_data["email_digest"],
            digest_time=form.cleaned_data["digest_time"],
        )
        messages.success(request, f"Notifications in {membership.organization.name} saved.")
        return redirect("accounts:notifications", org_slug=org_slug)
    from tisket.accounts import SECTIONS

    local = selectors.member_local_now(membership=membership)
    context = {
        "account_sections": SECTIONS,
        "section": "accounts:profile",
        "form": form,
        "membership": membership,
        "time_zone": local.tzinfo,
    }
    return render(request, "accounts/notifications.html", context)
