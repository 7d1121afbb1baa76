from functools import cache

from django.http import HttpRequest

from tisket.selectors import organizations_for_user


def organizations(request: HttpRequest) -> dict:
    """The organizations for the switcher, queried only when a template asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_organizations": lambda: list(organizations_for_user(user=user))}


def _quarantined(membership) -> int:
    from threads.selectors import quarantine_list
    from tickets.visibility import inbound_scope

    held = quarantine_list(organization=membership.organization)
    scope = inbound_scope(membership)
    return (held if scope is None else held.filter(scope)).count()


def navigation(request: HttpRequest) -> dict:
    """The bell's unread count, held mail and the member's rights, for the top bar.

    Each is a callable, so a page that does not show the bar queries nothing.
    """
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    from kb.selectors import can_edit
    from tisket.models import Role
    from tisket.notifications.selectors import notifications_unread_badge

    return {
        "nav_unread": cache(lambda: notifications_unread_badge(membership=membership)),
        "nav_quarantined": cache(lambda: _quarantined(membership)),
        "can_admin": membership.has_role(Role.ADMIN),
        "can_work": membership.has_role(Role.AGENT),
        "can_supervise": membership.has_role(Role.SUPERVISOR),
        "can_edit_kb": cache(lambda: can_edit(membership=membership)),
    }
