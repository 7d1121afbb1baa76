"""The conversation page: a thread's messages, its ticket's notes and timeline, the side panel,
the reply box, presence of other agents; message bodies, attachments, new conversations.

Email HTML is never part of our pages: each body is its own document, served
with a strict Content-Security-Policy into an iframe sandboxed without
scripts or same-origin rights, so that even a mail that got past the
sanitizer can neither run code nor reach the agent's session.
"""

from django.urls import path

from tickets.views.conversation.actions import (
    message_send_again,
    thread_page,
    thread_presence,
    thread_reply,
    ticket_macro_apply,
    ticket_note,
    ticket_page,
    ticket_update,
)
from tickets.views.conversation.bodies import attachment_download, message_body
from tickets.views.conversation.client_links import client_link_revoke
from tickets.views.conversation.live import thread_draft, thread_live
from tickets.views.conversation.new import thread_new
from tickets.views.conversation.ticket_new import ticket_new
from tickets.views.conversation.ticketless import (
    thread_status,
    thread_ticket_link,
    thread_ticket_open,
)
from tickets.views.conversation.tools import (
    ticket_incident_join,
    ticket_incident_leave,
    ticket_merge,
    ticket_sla_override_view,
    ticket_thread_link,
)

urlpatterns = [
    path("threads/new/", thread_new, name="thread-new"),
    path("threads/<str:thread>/", thread_page, name="thread"),
    path("threads/<str:thread>/reply/", thread_reply, name="thread-reply"),
    path("threads/<str:thread>/status/", thread_status, name="thread-status"),
    path("threads/<str:thread>/ticket/", thread_ticket_open, name="thread-ticket-open"),
    path("threads/<str:thread>/ticket/link/", thread_ticket_link, name="thread-ticket-link"),
    path("threads/<str:thread>/presence/", thread_presence, name="thread-presence"),
    path("threads/<str:thread>/live/", thread_live, name="thread-live"),
    path("threads/<str:thread>/draft/", thread_draft, name="thread-draft"),
    path(
        "threads/<str:thread>/client-link/revoke/",
        client_link_revoke,
        name="client-link-revoke",
    ),
    path("messages/<int:message>/body/", message_body, name="message-body"),
    path("messages/<int:message>/send-again/", message_send_again, name="message-send-again"),
    path("attachments/<int:attachment>/", attachment_download, name="attachment"),
    path("tickets/new/", ticket_new, name="ticket-new"),
    path("tickets/<str:ticket>/", ticket_page, name="ticket"),
    path("tickets/<str:ticket>/update/", ticket_update, name="ticket-update"),
    path("tickets/<str:ticket>/notes/", ticket_note, name="ticket-note"),
    path("tickets/<str:ticket>/merge/", ticket_merge, name="ticket-merge"),
    path("tickets/<str:ticket>/link/", ticket_thread_link, name="ticket-thread-link"),
    path("tickets/<str:ticket>/incident/", ticket_incident_join, name="ticket-incident-join"),
    path(
        "tickets/<str:ticket>/incident/leave/",
        ticket_incident_leave,
        name="ticket-incident-leave",
    ),
    path(
        "tickets/<str:ticket>/sla-override/", ticket_sla_override_view, name="ticket-sla-override"
    ),
    path(
        "tickets/<str:ticket>/macros/<int:macro>/apply/",
        ticket_macro_apply,
        name="ticket-macro-apply",
    ),
]
