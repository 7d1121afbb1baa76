"""Quarantine: mail held because of its sender, read before deciding, and the sender rules.

Agents read, release and discard held mail; supervisors also block a sender
(their mail is held or refused from now on) or always allow one (their mail
skips the stranger rule), and see and remove those rules.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from threads import selectors, sender_rules
from threads.models import InboundMail, Message, SenderRule
from tickets import intake, visibility
from tickets.views.conversation.bodies import body_response, no_inline_images
from tickets.views.conversation.page import MessageView
from tisket.errors import TisketError
from tisket.models import Role
from tisket.views import org_view

PAGE_SIZE = 100
HELD = (InboundMail.Status.QUARANTINED, InboundMail.Status.DISCARDED)


@org_view()
def quarantine(request: HttpRequest) -> HttpResponse:
    """The held mail, newest first, with what held it."""
    held = selectors.quarantine_list(organization=request.organization)
    if (scope := visibility.inbound_scope(request.membership)) is not None:
        held = held.filter(scope)
    held = held.order_by("-received_at", "-id")[:PAGE_SIZE]
    return render(request, "threads/quarantine.html", {"held": held, "nav": "quarantine"})


def _inbound_get(request: HttpRequest, pk: int) -> InboundMail:
    """A logged mail of the organization, of an inbox the member's queues are fed by."""
    mail = selectors.inbound_get(organization=request.organization, pk=pk)
    scope = visibility.inbound_scope(request.membership)
    if scope is not None and not InboundMail.objects.filter(scope, pk=mail.pk).exists():
        raise Http404("No such held mail.")
    return mail


def _held_get(request: HttpRequest, pk: int) -> InboundMail:
    """A held (or discarded) mail of the organization; any other logged mail for admins."""
    mail = _inbound_get(request, pk)
    if mail.status not in HELD and not request.membership.has_role(Role.ADMIN):
        raise Http404("No such held mail.")
    return mail


@require_GET
@org_view(Role.AGENT)
def quarantine_read(request: HttpRequest, quarantined: int) -> HttpResponse:
    """One held mail, sanitized as the conversation shows mail, with the decisions."""
    mail = _held_get(request, quarantined)
    reading = selectors.inbound_mail_read(inbound=mail)
    sizing = MessageView(message=Message(html=reading.html, text=reading.text))
    context = {
        "mail": mail,
        "reading": reading,
        "sizing": sizing,
        "nav": "quarantine",
        "is_held": mail.status == InboundMail.Status.QUARANTINED,
        "can_rule": request.membership.has_role(Role.SUPERVISOR),
        "allow_refusal": sender_rules.allow_refusal(mail),
        "domain": mail.from_email.rpartition("@")[2],
        "actions": SenderRule.Action.choices,
    }
    return render(request, "threads/quarantine_read.html", context)


@require_GET
@xframe_options_sameorigin
@org_view(Role.AGENT)
def quarantine_body(request: HttpRequest, quarantined: int) -> HttpResponse:
    """The held mail's body for the sandboxed frame: remote and attached images blocked."""
    reading = selectors.inbound_mail_read(inbound=_held_get(request, quarantined))
    return body_response(
        request,
        html=reading.html,
        text=reading.text or reading.problem,
        remote=False,
        inline=no_inline_images,
    )


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("tickets:quarantine", org_slug=request.organization.slug)


def _decide(request: HttpRequest, quarantined: int, release: bool) -> HttpResponse:
    mail = _inbound_get(request, quarantined)
    try:
        if release:
            result = intake.mail_release(inbound_mail=mail, actor=request.membership)
            thread = result.thread
            messages.success(
                request, f"Released into {thread.reference}; {mail.from_email} can write there now."
            )
        else:
            intake.quarantine_discard(inbound=mail, actor=request.membership)
            messages.success(request, f"Discarded the mail from {mail.from_email}.")
    except TisketError as error:
        messages.error(request, str(error))
    return _back(request)


@require_POST
@org_view(Role.AGENT)
def quarantine_release(request: HttpRequest, quarantined: int) -> HttpResponse:
    return _decide(request, quarantined, release=True)


@require_POST
@org_view(Role.AGENT)
def quarantine_discard(request: HttpRequest, quarantined: int) -> HttpResponse:
    return _decide(request, quarantined, release=False)


@require_POST
@org_view(Role.SUPERVISOR)
def quarantine_block(request: HttpRequest, quarantined: int) -> HttpResponse:
    """Block the held mail's sender (or domain) and discard the mail."""
    mail = selectors.inbound_get(organization=request.organization, pk=quarantined)
    try:
        rule = sender_rules.quarantine_block(
            inbound=mail,
            actor=request.membership,
            whole_domain=request.POST.get("scope") == "domain",
            action=request.POST.get("action", SenderRule.Action.QUARANTINE),
        )
    except TisketError as error:
        messages.error(request, str(error))
        return _back(request)
    verb = "refused" if rule.action == SenderRule.Action.REFUSE else "held"
    messages.success(
        request,
        f"Blocked {rule.pattern}: their mail is {verb} from now on. This mail is discarded.",
    )
    return _back(request)


@require_POST
@org_view(Role.SUPERVISOR)
def quarantine_allow(request: HttpRequest, quarantined: int) -> HttpResponse:
    """Release the held mail and always allow its sender (or domain)."""
    mail = selectors.inbound_get(organization=request.organization, pk=quarantined)
    try:
        rule, result = intake.quarantine_allow(
            inbound_mail=mail,
            actor=request.membership,
            whole_domain=request.POST.get("scope") == "domain",
        )
    except TisketError as error:
        messages.error(request, str(error))
        return _back(request)
    messages.success(
        request,
        f"Released into {result.thread.reference}; mail from {rule.pattern} is no longer held "
        "for not taking part in a conversation.",
    )
    return _back(request)


@org_view(Role.SUPERVISOR)
def sender_rule_list(request: HttpRequest) -> HttpResponse:
    """The organization's blocked and always-allowed senders; a form adds one."""
    error = ""
    if request.method == "POST":
        try:
            sender_rules.sender_rule_set(
                organization=request.organization,
                kind=request.POST.get("kind", ""),
                pattern=sender_rules.pattern_parse(request.POST.get("pattern", "")),
                action=request.POST.get("action", ""),
                note=request.POST.get("note", "").strip(),
                actor=request.membership,
            )
        except TisketError as exc:
            error = str(exc)
        else:
            messages.success(request, "Rule saved.")
            return redirect("tickets:sender-rules", org_slug=request.organization.slug)
    rules = selectors.sender_rules_list(organization=request.organization)
    context = {
        "rules": rules,
        "nav": "quarantine",
        "error": error,
        "form": request.POST if error else {},
        "kinds": SenderRule.Kind.choices,
        "actions": SenderRule.Action.choices,
    }
    return render(request, "threads/sender_rules.html", context, status=400 if error else 200)


@require_POST
@org_view(Role.SUPERVISOR)
def sender_rule_remove(request: HttpRequest, rule: int) -> HttpResponse:
    found = selectors.sender_rule_get(organization=request.organization, pk=rule)
    sender_rules.sender_rule_remove(rule=found, actor=request.membership)
    messages.success(request, f"Removed the rule for {found.pattern}.")
    return redirect("tickets:sender-rules", org_slug=request.organization.slug)
