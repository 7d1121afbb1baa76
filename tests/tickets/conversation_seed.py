"""A lived-in conversation for the conversation page's tests: a ticket under an SLA, client
mail in text and HTML with quoted history, a reply, a failed reply, a note and a macro."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from sla import services as sla_services
from tests.conftest import Cast
from tests.mail import deliver, make_mail
from threads.models import Message, OutboundMail, Thread
from tickets import macros, queues
from tickets import services as tickets
from tickets.models import Macro, Note, Queue, Ticket

QUOTED_REPLY = """Thanks, that worked for the web app.

The mobile app still says "session expired" though. Screenshot attached.

On Mon, 3 Mar 2025 at 10:02, Acme Support <support.acme@in.tisket.test> wrote:
> Could you try to reset your password from the login page?
> Alex
"""


@dataclass
class Conversation:
    thread: Thread
    ticket: Ticket
    queue: Queue
    first: Message
    note: Note
    macro: Macro
    last: Message


def name_the_cast(cast: Cast) -> None:
    # Everyone named: a made-up name could otherwise match what a test types ("@riv").
    for membership, name in (
        (cast.owner, "Jo Owner"),
        (cast.admin, "Kim Admin"),
        (cast.agent, "Alex Martin"),
        (cast.agent2, "Sam Rivera"),
        (cast.supervisor, "Dana Lee"),
        (cast.viewer, "Vic Viewer"),
    ):
        membership.user.full_name = name
        membership.user.save(update_fields=["full_name"])


def seed_conversation(cast: Cast, inbox) -> Conversation:
    """A conversation with a ticket, the way a day of work leaves it."""
    name_the_cast(cast)
    calendar = sla_services.calendar_create(organization=cast.org, name="24/7", always_open=True)
    sla_services.policy_create(
        organization=cast.org,
        name="Standard",
        calendar=calendar,
        is_default=True,
        targets={
            p: {
                "first_response_minutes": 240,
                "next_response_minutes": 480,
                "resolution_minutes": 2880,
            }
            for p in ("urgent", "high", "normal", "low")
        },
    )
    queue = queues.queue_create(
        organization=cast.org,
        name="Support",
        actor=None,
        inboxes=[inbox],
        members=[cast.agent, cast.agent2],
    )
    first = deliver(
        make_mail(
            sender="Jane Client <jane@client.test>",
            cc="bob@client.test",
            subject="Cannot log in since this morning",
            message_id="<first@client.test>",
            body="Hello,\n\nI cannot log in since this morning: the page says my session expired.",
            html=(
                "<p>Hello,</p><p>I cannot log in since this morning: the page says "
                "<b>my session expired</b>.</p>"
                '<p><img src="https://tracker.example/pixel.gif" width="1" height="1"></p>'
                "<p>Jane<br>Client Corp</p>"
            ),
        )
    )
    thread = first.thread
    ticket = thread.ticket_link.ticket
    tickets.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
    tickets.ticket_update(ticket=ticket, actor=cast.agent, priority="high", tags=["login"])
    failed, _ = tickets.thread_reply_send(
        thread=thread, author=cast.agent2, body="Is the app up to date on your phone?"
    )
    OutboundMail.objects.filter(message=failed).update(
        status=OutboundMail.Status.FAILED,
        last_error="421 4.7.0 Try again later: gave up after 5 attempts",
    )
    message, _ = tickets.thread_reply_send(
        thread=thread,
        author=cast.agent,
        body="Hi Jane,\n\nCould you try to **reset your password** from the login page?\n\nAlex",
    )
    note = tickets.ticket_note_add(
        ticket=ticket,
        body="Same error reported by two other clients: maybe the SSO.",
        actor=cast.agent,
    )
    last = deliver(
        make_mail(
            sender="Jane Client <jane@client.test>",
            subject=f"Re: [{thread.reference}] Cannot log in since this morning",
            in_reply_to=f"<{message.message_id}>",
            references=f"<first@client.test> <{message.message_id}>",
            body=QUOTED_REPLY,
            attachments=[("screenshot.png", "image/png", PNG)],
        )
    ).message
    macro = macros.macro_save(
        organization=cast.org,
        actor=None,
        name="Ask for the app version",
        body="Hello {{ client_name }},\n\nWhich version of the app do you use? "
        "You find it under Settings > About.\n\n{{ agent_name }}",
        actions={"status": "waiting_on_customer", "tags_add": ["needs-info"]},
    )
    thread.refresh_from_db()
    ticket.refresh_from_db()
    return Conversation(
        thread=thread,
        ticket=ticket,
        queue=queue,
        first=first.message,
        note=note,
        macro=macro,
        last=last,
    )


# A 2x2 PNG: a real image, sniffed as image/png.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001049444154789c633009b908440c100a00235605653ca476360000000049"
    "454e44ae426082"
)


def inline_image_mail(*, subject: str = "The error, as I see it", in_reply_to: str = "") -> bytes:
    """A mail whose HTML shows an image of its own by Content-ID, as mail programs send it."""
    msg = EmailMessage()
    msg["From"] = "Jane Client <jane@client.test>"
    msg["To"] = "support.acme@in.tisket.test"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="client.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content("The error (see the picture).")
    msg.add_alternative(
        '<p>The error:</p><p><img src="cid:shot1@client.test" alt="the error" '
        'width="120" height="120"></p>',
        subtype="html",
    )
    msg.get_payload()[1].add_related(
        PNG, maintype="image", subtype="png", cid="<shot1@client.test>"
    )
    return msg.as_bytes()
