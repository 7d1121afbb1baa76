"""View as client: a member opens a conversation as its client sees it, read-only, for a while.

Supervisors and above may, and members granted it (Membership.can_view_as_client).
It takes a reason, lasts ClientView.LIFETIME_MINUTES, is never for an address
that belongs to a member, and everything about it goes to the audit log: who,
whom, why, when, how long, and each page opened.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from threads.client_access import ClientAccess
from threads.models import Thread
from tickets.intake import client_reply_send
from tickets.models import ClientView, Ticket
from tickets.services import conversation_set_status, ticket_note_add
from tisket.audit import Action, audit_record
from tisket.errors import ConflictError, NotAllowedError, TisketError
from tisket.lib.addresses import address_normalize
from tisket.models import Membership, Role


class ClientViewGoneError(TisketError):
    """The session expired or was ended: start a new one."""

    status_code = 410


def client_view_allowed(member: Membership) -> bool:
    return member.has_role(Role.SUPERVISOR) or member.can_view_as_client


def client_view_grant(
    *, membership: Membership, allowed: bool, actor: Membership | None
) -> Membership:
    """Let a member below supervisor view as a client, or no longer; admins decide."""
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise NotAllowedError("Only admins decide who may view as a client.")
    if membership.can_view_as_client != allowed:
        membership.can_view_as_client = allowed
        membership.save(update_fields=["can_view_as_client"])
        audit_record(
            organization=membership.organization_id,
            action=Action.MEMBER_CLIENT_VIEW_CHANGED,
            actor=actor,
            target=membership.user,
            data={"allowed": allowed},
        )
    return membership


def _refuse(member: Membership, thread: Thread, error: TisketError) -> TisketError:
    audit_record(
        organization=member.organization_id,
        action=Action.CLIENT_VIEW_REFUSED,
        actor=member,
        target=thread,
        data={"why": str(error)},
    )
    return error


def client_view_start(*, member: Membership, thread: Thread, reason: str) -> ClientView:
    """Open a read-only session on the thread as its client; refused without a reason or right.

    A refusal for the address (a member's) is audited.
    """
    reason = " ".join(reason.split())[:500]
    if not client_view_allowed(member):
        raise NotAllowedError("Only supervisors, and members granted it, view as a client.")
    if len(reason) < 5:
        raise TisketError("Say why you need to see the conversation as the client does.")
    client = address_normalize(thread.client_email or "")
    if not client:
        raise _refuse(member, thread, ConflictError("This conversation has no client address."))
    is_member = Membership.objects.filter(
        organization_id=thread.organization_id, user__email__iexact=client
    ).exists()
    if is_member:
        raise _refuse(
            member, thread, NotAllowedError("Never as a member: this address is a colleague's.")
        )
    now = timezone.now()
    with transaction.atomic():
        view = _client_view_create(member, thread, client, reason, now)
    return view


def _client_view_create(member, thread, client: str, reason: str, now) -> ClientView:
    view = ClientView.objects.create(
        organization_id=thread.organization_id,
        member=member,
        thread=thread,
        client_email=client,
        reason=reason,
        started_at=now,
        expires_at=now + timedelta(minutes=ClientView.LIFETIME_MINUTES),
    )
    audit_record(
        organization=thread.organization_id,
        action=Action.CLIENT_VIEW_STARTED,
        actor=member,
        target=thread,
        target_label=f"{thread.reference} as {client}",
        data={"reason": reason, "client": client, "minutes": ClientView.LIFETIME_MINUTES},
    )
    return view


def client_view_open(*, member: Membership, pk: int) -> ClientView:
    """The member's own session, audited as opened; 404 if not theirs, gone once expired."""
    view = (
        ClientView.objects.select_related("thread__inbox", "thread__organization")
        .filter(organization_id=member.organization_id, member=member, pk=pk)
        .first()
    )
    if view is None:
        raise Http404("No such session.")
    if not view.is_open():
        raise ClientViewGoneError(
            "This view-as-client session has ended (they last 30 minutes). Start a new one "
            "from the conversation if you still need it."
        )
    audit_record(
        organization=view.organization_id,
        action=Action.CLIENT_VIEW_OPENED,
        actor=member,
        target=view.thread,
        target_label=f"{view.thread.reference} as {view.client_email}",
    )
    return view


def client_view_end(*, member: Membership, pk: int) -> ClientView:
    """End one's session now; ending it twice keeps the first time."""
    view = ClientView.objects.filter(
        organization_id=member.organization_id, member=member, pk=pk
    ).first()
    if view is None:
        raise Http404("No such session.")
    now = timezone.now()
    if ClientView.objects.filter(pk=view.pk, ended_at__isnull=True).update(ended_at=now):
        audit_record(
            organization=view.organization_id,
            action=Action.CLIENT_VIEW_ENDED,
            actor=member,
            target_label=f"{view.client_email}",
            data={"seconds": int((min(now, view.expires_at) - view.started_at).total_seconds())},
        )
    view.refresh_from_db(fields=["ended_at"])
    return view


def client_view_act(
    *, member: Membership, pk: int, action: str, confirmed: bool, body: str = ""
) -> ClientView:
    """Reply or close as the client, in an open session, each action confirmed on its own.

    The reply goes through the pipeline as the client's own would; the ticket's
    timeline gets a note that says who did it on the client's behalf, and why.
    """
    view = client_view_open(member=member, pk=pk)  # another's session: 404, before all else
    if action not in ("reply", "close"):
        raise TisketError("Choose to reply or to close.")
    if not member.has_role(Role.AGENT):
        raise NotAllowedError("Viewers do not act for clients.")
    if not confirmed:
        raise TisketError(f"Confirm that you {action} on behalf of the client.")
    thread = view.thread
    ticket = Ticket.objects.filter(thread_links__thread=thread).first()
    if action == "reply":
        if not body.strip():
            raise TisketError("Write the client's message.")
        access = ClientAccess(thread=thread, email=view.client_email, name="")
        result = client_reply_send(access=access, body=body, nonce=secrets.token_urlsafe(16))
        done = {"action": "reply", "outcome": result.inbound.status}
    else:
        conversation_set_status(
            thread=thread, ticket=ticket, status=Ticket.Status.RESOLVED, actor=member
        )
        done = {"action": "close"}
    if ticket is not None:
        what = "replied" if action == "reply" else "marked the conversation resolved"
        ticket_note_add(
            ticket=ticket,
            body=f"On behalf of {view.client_email}: {member.user.get_full_name()} {what} "
            f"as the client (view as client; reason: {view.reason}).",
            actor=member,
        )
    audit_record(
        organization=view.organization_id,
        action=Action.CLIENT_VIEW_ACTED,
        actor=member,
        target=thread,
        target_label=f"{thread.reference} as {view.client_email}",
        data=done,
    )
    return view
