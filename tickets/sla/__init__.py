"""SLA on tickets, in one room: the clocks, the sweep, the state, reports, the dashboard.

- clocks.py     a ticket's policy, deadlines and pauses, moved by the ticket's events;
                an incident's tickets follow its deadlines
- override.py   a supervisor's new deadline for a ticket, with its reason
- sweep.py      warnings and breaches, each claimed once; notices and escalation;
                the catch-up after a policy or calendar change
- state.py      on track, at risk, breached or paused, for a ticket or as a query
- reports.py    the summary, the metrics by agent, queue, priority, day, tier and client
                company, resolutions per agent, breaches, CSAT
- dashboard.py  the SLA dashboard page; charts.py draws its charts
- report_pages.py  the reports page (resolved per agent, breach history, SLA by tier
                and client company, CSAT) and a CSV of each
- api.py        the SLA API: calendars, policies, client companies, reports

Policies, calendars, business-time arithmetic and their Django admin are the
`sla` app's, below tickets; this package applies them to tickets.
"""

from tickets.sla.clocks import (
    policies_for,
    policy_for,
    sla_agent_replied,
    sla_children_follow,
    sla_client_wrote,
    sla_clocks_start,
    sla_incident_joined,
    sla_incident_left,
    sla_refresh,
    sla_status_changed,
    sla_terms_changed,
    sla_ticket_created,
    terms_memo_clear,
)
from tickets.sla.state import sla_state, sla_state_q
from tickets.sla.sweep import SweepResult, sla_recompute_stale, sla_sweep

__all__ = [
    "SweepResult",
    "policies_for",
    "policy_for",
    "sla_agent_replied",
    "sla_children_follow",
    "sla_client_wrote",
    "sla_clocks_start",
    "sla_incident_joined",
    "sla_incident_left",
    "sla_recompute_stale",
    "sla_refresh",
    "sla_state",
    "sla_state_q",
    "sla_status_changed",
    "sla_sweep",
    "sla_terms_changed",
    "sla_ticket_created",
    "terms_memo_clear",
]
