"""Outgoing mail: agents' replies and auto-acknowledgements (compose), mail to members
(members), the outbox that sends each row once (outbox), and what ESPs tell of it
(tracking). Callers import from here.
"""

from threads.outbound.compose import (
    AUTO_ACK_WINDOW,
    DEFAULT_AUTO_ACK,
    ReplyAlreadySent,
    ReplyError,
    auto_ack_after_ingest,
    body_html,
    new_message_id,
    reply_send_skipping_ticket,
    thread_start,
    thread_subject,
)
from threads.outbound.members import (
    MemberMail,
    address_mail,
    notification_mails,
    preframed_mail_queue,
)
from threads.outbound.outbox import (
    BOUNCE_EVENTS,
    SEND_LIFETIME,
    STUCK_SENDING,
    message_send_again,
    outbox_enqueue,
    outbox_enqueue_many,
    outbox_send,
    outbox_send_again,
    outbox_sweep,
)
from threads.outbound.status import StatusMail, status_mail_send, status_recipients
from threads.outbound.tracking import (
    SUPPRESS_FOR,
    address_suppressed,
    delivery_recorded,
    suppression_lift,
)

__all__ = [
    "AUTO_ACK_WINDOW",
    "BOUNCE_EVENTS",
    "DEFAULT_AUTO_ACK",
    "SEND_LIFETIME",
    "STUCK_SENDING",
    "SUPPRESS_FOR",
    "MemberMail",
    "ReplyAlreadySent",
    "ReplyError",
    "StatusMail",
    "address_mail",
    "address_suppressed",
    "auto_ack_after_ingest",
    "body_html",
    "delivery_recorded",
    "message_send_again",
    "new_message_id",
    "notification_mails",
    "outbox_enqueue",
    "outbox_enqueue_many",
    "outbox_send",
    "outbox_send_again",
    "outbox_sweep",
    "preframed_mail_queue",
    "reply_send_skipping_ticket",
    "status_mail_send",
    "status_recipients",
    "suppression_lift",
    "thread_start",
    "thread_subject",
]
