"""Parameters of organization pages beyond the common ones, for the tenancy walk.

Each maps a URL parameter name to a function of the `foreign` fixture (the
other organization's objects) that gives the object it names.
"""

from collections.abc import Callable


def _foreign_invitation(foreign) -> int:
    """A pending invitation of the other organization (settings pages)."""
    from tisket import invitations

    invitation, _ = invitations.invitation_create(
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


def _foreign_kb_article(foreign) -> int:
    """A published public article of the other organization's knowledge base."""
    from kb import services
    from kb.models import Article

    existing = Article.objects.filter(organization=foreign.cast.org, slug="globex-secret").first()
    if existing is not None:
        return existing.pk
    category = _foreign_kb_category(foreign)
    return services.article_create(
        organization=foreign.cast.org,
        actor=None,
        title="Globex secret",
        slug="globex-secret",
        body="globex only",
        category=services.Category.objects.get(pk=category),
        publish=True,
    ).pk


def _foreign_kb_category(foreign) -> int:
    from kb import services
    from kb.models import Category

    existing = Category.objects.filter(organization=foreign.cast.org, slug="globex-docs").first()
    if existing is not None:
        return existing.pk
    return services.category_create(
        organization=foreign.cast.org, actor=None, name="Globex docs", slug="globex-docs"
    ).pk


def _foreign_sender_rule(foreign) -> int:
    """A sender the other organization blocks."""
    from threads.sender_rules import sender_rule_set

    return sender_rule_set(
        organization=foreign.cast.org, kind="block", pattern="@globex-spam.test", actor=None
    ).pk


def _foreign_client(foreign) -> str:
    """The address of a client who wrote only to the other organization."""
    from threads.models import Thread

    return Thread.objects.get(reference=foreign.thread_reference).client_email


EXTRA_UI_PARAMS: dict[str, Callable] = {
    "client": _foreign_client,
    "article": _foreign_kb_article,
    "category": _foreign_kb_category,
    "revision": lambda foreign: 1,
    "domain": _foreign_domain,
    "client_view": _foreign_client_view,
    "invitation": _foreign_invitation,
    "view": _foreign_saved_view,
    "suppression": _foreign_suppression,
    "rule": _foreign_sender_rule,
}
