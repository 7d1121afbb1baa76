"""Macros: a canned reply rendered for one ticket, and actions applied with it in one go."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from tickets import events, services
from tickets.models import MACRO_VARIABLES, Macro, Queue, Ticket
from tisket.errors import ConflictError, NotAllowedError
from tisket.lib.templating import TemplateError, template_check, template_render
from tisket.models import Membership, Organization, Role

ACTIONS = {"status", "priority", "queue", "assignee", "tags_add", "tags_remove"}


class MacroError(services.TicketError):
    pass


@dataclass
class MacroResult:
    ticket: Ticket
    reply: str


def macro_validate(*, organization: Organization, body: str, actions: dict) -> None:
    """Check a macro's text is variables only and its actions name the organization's values."""
    try:
        template_check(body, variables=MACRO_VARIABLES)
    except TemplateError as error:
        raise MacroError(str(error)) from None
    if not isinstance(actions, dict):
        raise MacroError('Actions are an object, such as {"status": "closed"}.')
    unknown = set(actions) - ACTIONS
    if unknown:
        raise MacroError(f"Unknown actions: {', '.join(sorted(unknown))}.")
    if "status" in actions and actions["status"] not in Ticket.Status.values:
        raise MacroError(f"Unknown status '{actions['status']}'.")
    if "priority" in actions and actions["priority"] not in Ticket.Priority.values:
        raise MacroError(f"Unknown priority '{actions['priority']}'.")
    if (
        "queue" in actions
        and not Queue.objects.filter(organization=organization, pk=actions["queue"]).exists()
    ):
        raise MacroError("The queue of this macro does not exist.")
    if (
        actions.get("assignee") is not None
        and not Membership.objects.filter(
            organization=organization, pk=actions["assignee"]
        ).exists()
    ):
        raise MacroError("The assignee of this macro is not a member.")
    for key in ("tags_add", "tags_remove"):
        if key in actions and not all(isinstance(t, str) for t in actions[key]):
            raise MacroError(f"'{key}' is a list of tag names.")


def macro_save(
    *,
    organization: Organization,
    actor: Membership | None,
    name: str,
    body: str = "",
    actions: dict | None = None,
    macro: Macro | None = None,
) -> Macro:
    """Create a macro, or change one."""
    if actor is not None and not actor.has_role(Role.SUPERVISOR):
        raise NotAllowedError("Only supervisors and admins manage macros.")
    actions = actions or {}
    macro_validate(organization=organization, body=body, actions=actions)
    clash = Macro.objects.filter(organization=organization, name=name.strip())
    if clash.exclude(pk=getattr(macro, "pk", None)).exists():
        raise ConflictError(f"A macro named '{name.strip()}' exists already.")
    changing = macro is not None
    macro = macro or Macro(organization=organization)
    macro.name, macro.body, macro.actions = name.strip(), body, actions
    macro.save(update_fields=["name", "body", "actions"] if changing else None)
    return macro


def macro_context(*, ticket: Ticket, agent: Membership | None) -> dict:
    """The variables a macro's text may use, for this ticket."""
    link = ticket.thread_links.select_related("thread").first()
    thread = link.thread if link else None
    return {
        "client_name": (thread.client_name if thread else "") or ticket.customer_email,
        "client_email": ticket.customer_email or (thread.client_email if thread else ""),
        "thread": {
            "reference": thread.reference if thread else "",
            "subject": thread.subject if thread else "",
        },
        "ticket": {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "priority": ticket.get_priority_display(),
            "status": ticket.get_status_display(),
            "category": ticket.category,
        },
        "agent_name": agent.user.get_full_name() if agent else "",
        "organization": {"name": ticket.organization.name},
    }


def macro_render(*, macro: Macro, ticket: Ticket, agent: Membership | None) -> str:
    """The macro's reply text for this ticket."""
    return template_render(macro.body, values=macro_context(ticket=ticket, agent=agent))


def macros_render(
    *, macros: Iterable[Macro], ticket: Ticket, agent: Membership | None
) -> dict[int, str]:
    """Each macro's reply text for this ticket, by macro id, from one look-up of the context."""
    context = macro_context(ticket=ticket, agent=agent)
    return {macro.pk: template_render(macro.body, values=context) for macro in macros}


def macro_pending_text(*, macro: Macro, queues: dict[int, str], members: dict[int, str]) -> str:
    """What the macro's actions will do when the reply goes, in a line, e.g.
    "status Waiting on customer · priority High · tags +billing"."""
    actions, parts = macro.actions or {}, []
    if "status" in actions:
        parts.append(f"status {Ticket.Status(actions['status']).label}")
    if "priority" in actions:
        parts.append(f"priority {Ticket.Priority(actions['priority']).label}")
    if "queue" in actions:
        parts.append(f"queue {queues.get(actions['queue'], '(deleted)')}")
    if "assignee" in actions:
        who = actions["assignee"]
        parts.append(f"assign to {members.get(who, '(gone)')}" if who is not None else "unassign")
    tags = [f"+{t}" for t in actions.get("tags_add", [])]
    tags += [f"-{t}" for t in actions.get("tags_remove", [])]
    if tags:
        parts.append(f"tags {' '.join(tags)}")
    return " · ".join(parts)


def macro_pending_words(*, macro: Macro) -> str:
    """macro_pending_text for one macro, looking up the queue and member it names."""
    actions = macro.actions or {}
    queues = dict(
        Queue.objects.filter(
            organization_id=macro.organization_id, pk=actions.get("queue") or 0
        ).values_list("pk", "name")
    )
    members = {
        m.pk: m.user.get_full_name()
        for m in Membership.objects.filter(
            organization_id=macro.organization_id, pk=actions.get("assignee") or 0
        ).select_related("user")
    }
    return macro_pending_text(macro=macro, queues=queues, members=members)


@transaction.atomic
def macro_apply(*, macro: Macro, ticket: Ticket, actor: Membership) -> MacroResult:
    """Apply the macro's actions to the ticket (each with its event) and render its reply."""
    if macro.organization_id != ticket.organization_id:
        raise MacroError("That macro is not of this organization.")
    actions = macro.actions
    events.ticket_macro_applied_event(ticket=ticket, actor=actor, macro=macro)
    changes = {}
    if "priority" in actions:
        changes["priority"] = actions["priority"]
    if "queue" in actions:
        changes["queue"] = Queue.objects.get(organization=ticket.organization, pk=actions["queue"])
    if "tags_add" in actions or "tags_remove" in actions:
        tags = set(ticket.tags.values_list("name", flat=True)) | set(actions.get("tags_add", []))
        changes["tags"] = sorted(tags - set(actions.get("tags_remove", [])))
    if changes:
        services.ticket_update(ticket=ticket, actor=actor, **changes)
    if "assignee" in actions:
        assignee = (
            Membership.objects.get(organization=ticket.organization, pk=actions["assignee"])
            if actions["assignee"] is not None
            else None
        )
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=actor)
    if "status" in actions:
        services.ticket_set_status(ticket=ticket, status=actions["status"], actor=actor)
    return MacroResult(ticket=ticket, reply=macro_render(macro=macro, ticket=ticket, agent=actor))
