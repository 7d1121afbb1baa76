"""What the client hears when the desk changes their conversation's status.

Resolved (with the agent's summary, if any, and the five rating links), waiting on
them, reopened: each switched per inbox. Only the desk's own changes are told:
the client who closed or reopened it knows, and mail coming in that reopens a
conversation is the client's own doing.
"""

from threads.models import Thread
from threads.outbound.status import StatusMail, status_mail_send, status_recipients
from tickets import csat
from tickets.models import Ticket
from tisket.lib.unsubscribe import CONVERSATION_UPDATES
from tisket.models import Membership

DONE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


def _summary_block(summary: str, actor: Membership | None) -> str:
    if not summary:
        return ""
    who = actor.user.get_full_name() if actor is not None else ""
    return f"{who or 'Our team'} sums it up:\n\n{summary}\n\n"


def resolved_text(*, thread: Thread, summary: str, actor) -> str:
    """The resolved mail, in Markdown: the news and the summary."""
    return (
        f"Hello,\n\nYour request “{thread.subject}” is resolved.\n\n"
        + _summary_block(summary, actor)
        + "If something is still not right, reply to this mail: the conversation opens again."
    )


def rating_links(*, ticket: Ticket) -> str:
    """The five one-click links of the resolved mail, in Markdown."""
    urls = csat.csat_rating_urls(ticket=ticket)
    links = " · ".join(f"[{score} {word}]({url})" for score, word, url in urls)
    return f"How did we do? One click tells us, from 1 (poor) to 5 (excellent):\n\n{links}"


def _mail_for(
    *, thread: Thread, ticket: Ticket | None, old: str, new: str, summary: str, actor
) -> StatusMail | None:
    inbox = thread.inbox
    subject = thread.subject
    if not inbox.is_active:
        return None  # an inactive inbox sends nothing automatic
    if new in DONE and old not in DONE:
        if not inbox.mail_on_resolved or new != Ticket.Status.RESOLVED:
            return None
        return StatusMail(
            reason="resolved",
            text=resolved_text(thread=thread, summary=summary, actor=actor),
            category=CONVERSATION_UPDATES,
            mail_only=rating_links(ticket=ticket) if ticket is not None else "",
            mail_only_stored_as="_The mail asked the client to rate our help (five links)._",
            text_when_unsubscribed=summary,
        )
    if old in DONE and new not in DONE:
        if not inbox.mail_on_reopened:
            return None
        return StatusMail(
            reason="reopened",
            text=f"Hello,\n\nWe reopened your request “{subject}”: we are working on it "
            "again, and will write when we know more.",
            category=CONVERSATION_UPDATES,
        )
    if new == Ticket.Status.WAITING_ON_CUSTOMER:
        if not inbox.mail_on_waiting:
            return None
        return StatusMail(
            reason="waiting",
            text=f"Hello,\n\nYour request “{subject}” waits on you: we need your answer to "
            "our last message to carry on. Reply to this mail when you can.",
            category=CONVERSATION_UPDATES,
        )
    return None


def status_mails_queue(
    *,
    threads: list[Thread],
    ticket: Ticket | None,
    old: str,
    new: str,
    actor: Membership | None,
    summary: str = "",
) -> int:
    """Queue the status mails of a change the desk made; how many mails were queued."""
    if actor is None:
        return 0  # the client's own doing, or mail coming in: nobody to tell
    if actor.via:
        return 0  # an assistant's change (MCP): assistants never send mail, people do
    summary = summary.strip()
    queued = 0
    for thread in threads:
        mail = _mail_for(
            thread=thread, ticket=ticket, old=old, new=new, summary=summary, actor=actor
        )
        if mail is None:
            continue
        recipients = status_recipients(
            thread=thread, everyone=thread.inbox.status_mail_to_participants
        )
        queued += len(
            status_mail_send(thread=thread, mail=mail, recipients=recipients, author=actor)
        )
    return queued
