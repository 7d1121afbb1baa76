"""The desk's tools for AI assistants, and what each needs (see common.py)."""

from interface.mcp.tools.common import ACCESS
from interface.mcp.tools.conversations import (
    create_inbox,
    draft_reply,
    get_inbox,
    get_thread,
    get_thread_participants,
    get_ticket_for_thread,
    link_thread_to_ticket,
    list_inboxes,
    list_threads,
    search_conversations,
    update_thread_status,
)
from interface.mcp.tools.knowledge import get_article, search_kb
from interface.mcp.tools.tickets import (
    add_internal_note,
    get_sla_status,
    get_ticket,
    list_tickets,
    update_ticket,
)

TOOLS = [
    list_inboxes,
    get_inbox,
    create_inbox,
    list_threads,
    search_conversations,
    get_thread,
    get_thread_participants,
    get_ticket_for_thread,
    update_thread_status,
    link_thread_to_ticket,
    draft_reply,
    list_tickets,
    get_ticket,
    get_sla_status,
    update_ticket,
    add_internal_note,
    search_kb,
    get_article,
]

__all__ = ["ACCESS", "TOOLS"]
