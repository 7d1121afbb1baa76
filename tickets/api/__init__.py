"""REST API of tickets and queues: the same services as every other interface."""

from tickets.api.csat import CsatApi
from tickets.api.macros import MacroDetailApi, MacroListApi, TicketMacroApplyApi
from tickets.api.queues import QueueDetailApi, QueueListApi
from tickets.api.tickets import (
    TicketAssignApi,
    TicketChildDetailApi,
    TicketChildrenApi,
    TicketDetailApi,
    TicketEscalateApi,
    TicketEventsApi,
    TicketListApi,
    TicketMergeApi,
    TicketNotesApi,
    TicketSlaOverrideApi,
    TicketThreadDetailApi,
    TicketThreadsApi,
)

__all__ = [
    "CsatApi",
    "MacroDetailApi",
    "MacroListApi",
    "QueueDetailApi",
    "QueueListApi",
    "TicketAssignApi",
    "TicketChildDetailApi",
    "TicketChildrenApi",
    "TicketDetailApi",
    "TicketEscalateApi",
    "TicketEventsApi",
    "TicketListApi",
    "TicketMacroApplyApi",
    "TicketMergeApi",
    "TicketNotesApi",
    "TicketSlaOverrideApi",
    "TicketThreadDetailApi",
    "TicketThreadsApi",
]
