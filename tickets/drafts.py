"""An agent's unsent reply, saved as they type: theirs alone, one per conversation, restored
when they come back to it and used up when the reply goes (tickets.services.thread_reply_send).

The assistant's draft (tickets.services.reply_draft_save) is the row without an owner.
"""

from django.db.models import Q
from django.utils import timezone

from threads.models import Thread
from tickets.models import ReplyDraft
from tickets.services import DRAFT_MAX_CHARS, TicketError
from tisket.errors import NotAllowedError
from tisket.models import Membership, Role

CC_MAX_CHARS = 2000


def reply_draft_autosave(
    *, thread: Thread, owner: Membership, body: str, cc: str = ""
) -> ReplyDraft | None:
    """Keep what the agent has typed so far; nothing typed (any more) drops the draft."""
    if not owner.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot write replies.")
    if owner.organization_id != thread.organization_id:
        raise NotAllowedError("That thread is not of your organization.")
    if len(body) > DRAFT_MAX_CHARS or len(cc) > CC_MAX_CHARS:
        raise TicketError(f"A draft holds at most {DRAFT_MAX_CHARS} characters.")
    if not body.strip() and not cc.strip():
        ReplyDraft.objects.filter(thread=thread, owner=owner).delete()
        return None
    draft, _ = ReplyDraft.objects.update_or_create(
        thread=thread,
        owner=owner,
        defaults={
            "organization_id": thread.organization_id,
            "body": body,
            "cc": cc,
            "author": owner,
            "created_at": timezone.now(),
        },
    )
    return draft


def reply_drafts_for(*, thread: Thread, owner: Membership) -> tuple[ReplyDraft | None, ...]:
    """The agent's own draft and the assistant's, in one query."""
    own = shared = None
    found = ReplyDraft.objects.filter(
        Q(owner=owner) | Q(owner=None),
        thread=thread,
        organization_id=owner.organization_id,
    ).select_related("author__user")
    for draft in found:
        if draft.owner_id is None:
            shared = draft
        else:
            own = draft
    return own, shared
