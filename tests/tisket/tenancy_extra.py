"""Parameters of organization pages beyond the common ones, for the tenancy walk.

Each maps a URL parameter name to a function of the `foreign` fixture (the
other organization's objects) that gives the object it names.
"""

from collections.abc import Callable


def _foreign_invitation(foreign) -> int:
    """A pending invitation of the other organization (settings pages)."""
    from tisket import services

    invitation, _ = services.invitation_create(
        organization=foreign.cast.org, email="invitee@elsewhere.test", role="agent", actor=None
    )
    return invitation.pk


def _foreign_saved_view(foreign) -> int:
    """A queue view saved by a member of the other organization."""
    from tickets.models import SavedView

    return SavedView.objects.create(
        organization=foreign.cast.org, owner=foreign.cast.agent, name="theirs", query=""
    ).pk


def _foreign_suppression(foreign) -> int:
    """An address the other organization's mail bounced from."""
    from datetime import timedelta

    from django.utils import timezone

    from threads.models import Suppression

    return Suppression.objects.create(
        organization=foreign.cast.org,
        address="bounced@elsewhere.test",
        reason="bounced",
        until=timezone.now() + timedelta(days=60),
    ).pk


def _foreign_domain(foreign) -> int:
    """A mail domain the other organization added."""
    from inboxes.domains import mail_domain_add

    return mail_domain_add(organization=foreign.cast.org, name="globex-mail.test").pk


def _foreign_client_view(foreign) -> int:
    """A view-as-client session of a supervisor of the other organization."""
    from threads.models import Thread
    from tickets.client_views import client_view_start

    thread = Thread.objects.get(reference=foreign.thread_reference)
    return client_view_start(
        member=foreign.cast.supervisor, thread=thread, reason="checking their page"
    ).pk


EXTRA_UI_PARAMS: dict[str, Callable] = {
    "domain": _foreign_domain,
    "client_view": _foreign_client_view,
    "invitation": _foreign_invitation,
    "view": _foreign_saved_view,
    "suppression": _foreign_suppression,
}
