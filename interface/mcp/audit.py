"""An assistant's changes in the organization's audit log: who, through which token, via MCP.

Every write tool runs with `mcp_write_audited`: the change and its audit row commit
together, and whatever a service records meanwhile without naming anyone (an inbox
created) names the token's member too. Free text (a reply's or a note's body) goes in
as its length only: the log says what was done, never what was written.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from interface.mcp.caller import Caller
from tisket.audit import Action, audit_acting, audit_record

FREE_TEXT = frozenset({"body"})
TARGETS = ("ticket", "thread", "name")


def mcp_actor_label(who: Caller) -> str:
    """'agent@acme.test via MCP (API token “assistant”)', as the audit log names the actor."""
    return f"{who.actor.user.email} via MCP (API token “{who.token.name}”)"


def mcp_audit_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments as the log keeps them: free text as its length."""
    kept = {k: v for k, v in arguments.items() if v is not None and k not in FREE_TEXT}
    for key in FREE_TEXT & arguments.keys():
        kept[f"{key}_length"] = len(arguments[key] or "")
    return kept


def _target(arguments: dict[str, Any]) -> str:
    for key in TARGETS:
        if value := arguments.get(key):
            return str(value).strip().upper() if key != "name" else str(value).strip()
    return ""


@contextmanager
def mcp_write_audited(*, who: Caller, tool: str, arguments: dict[str, Any]) -> Iterator[None]:
    """Run a write tool's body; record it in the audit log when it succeeds, atomically."""
    with transaction.atomic(), audit_acting(user=who.actor.user, label=mcp_actor_label(who)):
        yield
        audit_record(
            organization=who.organization,
            action=Action.MCP_WRITE,
            actor=who.actor,
            actor_label=mcp_actor_label(who),
            target_label=_target(arguments),
            data={
                "via": "MCP",
                "tool": tool,
                "assistant": who.token.label(),
                "arguments": mcp_audit_arguments(arguments),
            },
        )
