"""The demo's day of work: conversations in every state, so every feature can be tried at once.

Each conversation comes in as a client's mail through the real inbound pipeline and is then
worked through the same services as the UI (reply, note with a mention, status, merge,
incident, rating). What a conversation gets is written here, in a fixed plan: the demo is the
same on every machine, and a mail already recorded (its Message-ID) is skipped, so running
the demo again changes nothing. Times are set back by fixed offsets so that the reports have
a few weeks of history.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from inboxes.models import Inbox
from inboxes.services import inbox_create
from sla import services as sla_services
from sla.models import CustomerOrganization, SlaPolicy
from threads.inbound import inbound_record
from threads.models import OutboundMail, Thread
from tickets import csat, services, workflows
from tickets.categories import categories_list, category_create
from tickets.intake import mail_process
from tickets.macros import macro_save
from tickets.models import Macro, Queue, Rating, SlaBreach, Ticket
from tickets.queues import queue_create
from tickets.sla import sla_sweep, sla_terms_changed
from tisket.models import Membership, Organization

CLIENTS = [
    ("Jane Client", "jane@client.test"),
    ("Bob Buyer", "bob@globex-client.test"),
    ("Chloé Martin", "chloe@initech.test"),
    ("Dev Patel", "dev@globex-client.test"),
    ("Erin O'Neil", "erin@client.test"),
    ("Farid Haddad", "farid@initech.test"),
    ("Gwen Stacy", "gwen@hooli.test"),
]

MACROS = [
    (
        "Ask for details",
        "Hello {{ client_name }},\n\nthanks for writing. Could you tell us which browser and "
        "version you use, and send a screenshot of the error?\n\n{{ agent_name }}",
        {"status": "waiting_on_customer"},
    ),
    (
        "Resolved: password reset",
        "Hello {{ client_name }},\n\nI have reset the sign-in of your account: the link in "
        "the next mail lets you choose a new password.\n\n{{ agent_name }}",
        {"status": "resolved", "tags_add": ["login"]},
    ),
    (
        "Billing: send to the billing team",
        "Hello {{ client_name }},\n\nour billing team takes it from here and will answer "
        "within a working day.\n\n{{ agent_name }}",
        {"priority": "high", "tags_add": ["billing"]},
    ),
]


@dataclass(frozen=True)
class Plan:
    """One conversation of the demo and what happened to it."""

    subject: str
    body: str
    client: int  # index in CLIENTS
    state: str  # new, open, in_progress, waiting, resolved, closed, breached, failed
    priority: str = "normal"
    hours_ago: int = 2
    assignee: str = ""  # a demo member's address
    note: str = ""
    rating: int = 0
    billing: bool = False


# fmt: off
PLANS = [
    Plan("The export to CSV stops at 1,000 rows", "The CSV export of my contacts stops at "
         "exactly 1,000 rows. Is that a limit of my plan?", 0, "new", hours_ago=1),
    Plan("Can we add two more seats?", "We hired two people; how do we add seats to our "
         "plan?", 1, "new", billing=True, hours_ago=3),
    Plan("Dark mode?", "Is there a dark mode? My eyes would thank you.", 6, "new", "low", 5),
    Plan("The mobile app crashes on start", "Since this morning's update the Android app "
         "crashes as soon as it opens.", 2, "open", "high", 6, "agent@acme.test",
         note="@sam have you seen this on Android 15 too?"),
    Plan("Webhook deliveries are late", "Our webhook receives events with a delay of about "
         "ten minutes since Tuesday.", 3, "in_progress", "high", 20, "sam@acme.test"),
    Plan("Invoice 2041 charges us twice", "Invoice 2041 lists the annual plan twice. Could "
         "you send a corrected one?", 1, "waiting", "normal", 26, "kim@acme.test",
         billing=True),
    Plan("How do I change my address?", "Where do I change the postal address on my "
         "invoices?", 4, "waiting", "low", 30, "agent@acme.test", billing=True),
    Plan("Password reset mail never arrives", "I asked for a password reset three times and "
         "got nothing, not even in spam.", 0, "resolved", "high", 50, "agent@acme.test",
         rating=5),
    Plan("Refund for the unused month", "We cancelled on the 3rd; can we get the rest of "
         "the month back?", 3, "resolved", "normal", 75, "kim@acme.test", billing=True,
         rating=4),
    Plan("Two-factor codes rejected", "The codes of my authenticator app are always "
         "rejected.", 5, "resolved", "urgent", 100, "sam@acme.test", rating=2,
         note="Clock drift on the client's phone: told @agent to add this to the help centre."),
    Plan("Export the audit log", "Can an admin export the audit log as CSV?", 4,
         "resolved", "low", 140, "agent@acme.test", rating=5),
    Plan("VAT number missing on invoices", "Our VAT number does not appear on the last "
         "invoice.", 2, "resolved", "normal", 200, "kim@acme.test", billing=True, rating=3),
    Plan("Typo on the pricing page", "The pricing page says 'anual'.", 6, "closed", "low",
         300, "sam@acme.test"),
    Plan("Account deletion request", "Please delete my account and my data.", 5, "closed",
         "normal", 400, "agent@acme.test", rating=4),
    Plan("Our whole team is locked out", "Nobody at Globex can sign in since 8:00.", 1,
         "breached", "urgent", 170, "sam@acme.test",
         note="@kim can you call their admin? The SLA is already breached."),
    Plan("Reports show yesterday's numbers", "The dashboard still shows yesterday's "
         "figures.", 3, "breached", "high", 190),
    Plan("Attachment upload fails", "Uploading a 12 MB PDF fails with 'network error'.", 5,
         "failed", "normal", 8, "agent@acme.test"),
]
PLANS += [
    Plan("Where is the API documentation?", "Is there an OpenAPI file for your REST API?", 3,
         "resolved", "low", 260, "sam@acme.test", rating=5),
    Plan("Change the owner of our account", "Our admin left; please make me the owner.", 1,
         "in_progress", "normal", 40, "sky@acme.test",
         note="Needs the signed form first. @sam please check it when it arrives."),
    Plan("Emails from you land in spam", "Your notifications land in our spam folder.", 4,
         "open", "normal", 12, "kim@acme.test"),
    Plan("Discount for non-profits?", "Do you offer a discount for charities?", 6,
         "waiting", "low", 55, "kim@acme.test", billing=True),
    Plan("Import from Zendesk", "Can we import our old tickets from Zendesk?", 2, "new",
         "normal", 7),
    Plan("Search ignores accents", "Searching 'resume' does not find 'résumé'.", 2,
         "resolved", "normal", 330, "agent@acme.test", rating=4),
    Plan("Card declined at renewal", "Our card was declined at renewal; how do we pay now?",
         5, "breached", "urgent", 220, "kim@acme.test", billing=True),
    Plan("Calendar sync duplicates events", "Every event shows twice after the sync.", 0,
         "closed", "normal", 500, "sam@acme.test", rating=1),
    Plan("Custom domain for the help centre", "Can the help centre live on help.globex.test?",
         3, "failed", "low", 15, "sam@acme.test"),
    Plan("Need an invoice in euros", "Could the next invoice be in EUR?", 1, "resolved",
         "low", 420, "kim@acme.test", billing=True, rating=5),
]
STRANGERS = [
    ("Mallory <mallory@phish.test>", 4, "Please send me the admin password of this account."),
    ("Unknown Sender <noreply@random.test>", 8, "Click here to claim your prize."),
]
INCIDENT_SUBJECT = "Sign-in outage in the EU region"
INCIDENT_CHILDREN = [
    Plan("Cannot sign in", "Sign-in spins forever.", 2, "new", "high", 4),
    Plan("Login page times out", "The login page times out for everyone here.", 3, "new",
         "high", 4),
    Plan("SSO broken?", "Our single sign-on returns an error 502.", 6, "new", "high", 3),
]
DUPLICATE = Plan("Re: Invoice 2041", "Sending it again in case: invoice 2041 lists the plan "
                 "twice.", 1, "new", billing=True, hours_ago=25)
# The categories an admin keeps (Settings, Categories) and the conversations filed under each;
# a few stay without one, as in a real desk.
CATEGORIES = {
    "Billing": (
        "Can we add two more seats?", "Invoice 2041 charges us twice",
        "How do I change my address?", "Refund for the unused month",
        "VAT number missing on invoices", "Discount for non-profits?",
        "Card declined at renewal", "Need an invoice in euros",
    ),
    "Sign-in & security": (
        "Password reset mail never arrives", "Two-factor codes rejected",
        "Our whole team is locked out", INCIDENT_SUBJECT,
        *(plan.subject for plan in INCIDENT_CHILDREN),
    ),
    "Bug report": (
        "The export to CSV stops at 1,000 rows", "The mobile app crashes on start",
        "Typo on the pricing page", "Reports show yesterday's numbers",
        "Attachment upload fails", "Search ignores accents",
    ),
    "Integrations & API": (
        "Webhook deliveries are late", "Where is the API documentation?",
        "Import from Zendesk", "Calendar sync duplicates events",
    ),
    "How-to": ("Export the audit log", "Custom domain for the help centre"),
    "Account & privacy": ("Account deletion request", "Change the owner of our account"),
    "Feature request": ("Dark mode?",),
}
# fmt: on


def _mail(address: str, key: str, plan: Plan) -> bytes:
    name, email = CLIENTS[plan.client]
    lines = [
        f'From: "{name}" <{email}>',
        f"To: Acme Support <{address}>",
        f"Subject: {plan.subject}",
        "Date: Mon, 16 Nov 2026 09:00:00 +0100",
        f"Message-ID: <demo-work-{key}@client.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        f"Hello,\r\n\r\n{plan.body}\r\n\r\n{name}",
    ]
    return "\r\n".join(lines).encode()


def _deliver(inbox: Inbox, key: str, plan: Plan) -> Ticket | None:
    """The plan's mail through the pipeline; its ticket when the mail is new, else None."""
    mail, created = inbound_record(raw=_mail(inbox.address, key, plan), source="demo")
    if not created:
        return None
    mail_process(inbound_id=mail.pk)
    mail.refresh_from_db()
    thread = Thread.objects.get(pk=mail.thread_id)
    return Ticket.objects.get(thread_links__thread=thread)


def _hold(inbox: Inbox, n: int, sender: str, thread_number: int, body: str) -> None:
    """A stranger writing into a conversation: quarantined for an agent to read and decide."""
    reference = f"THD-{inbox.organization.code}-{thread_number:03d}"
    raw = "\r\n".join(
        [
            f"From: {sender}",
            f"To: {inbox.address}",
            f"Subject: Re: [{reference}] your request",
            "Date: Mon, 16 Nov 2026 10:00:00 +0100",
            f"Message-ID: <demo-stranger-{n}@elsewhere.test>",
            "Content-Type: text/plain; charset=utf-8",
            "",
            body,
        ]
    ).encode()
    mail, created = inbound_record(raw=raw, source="demo")
    if created:
        mail_process(inbound_id=mail.pk)


def _people(organization: Organization) -> dict[str, Membership]:
    return {
        m.user.email: m
        for m in Membership.objects.filter(organization=organization).select_related("user")
    }


def _backdate(ticket: Ticket, hours: int) -> None:
    """Move the ticket, its conversation and messages `hours` back, clocks recomputed."""
    shift = timedelta(hours=hours)
    created = timezone.now() - shift
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=created, sla_started_at=created, updated_at=created
    )
    thread = Thread.objects.filter(ticket_link__ticket=ticket)
    thread.update(created_at=created, updated_at=created)
    for one in thread:
        one.messages.update(created_at=created)
    ticket.refresh_from_db()
    sla_terms_changed(ticket)


def _work(ticket: Ticket, plan: Plan, people: dict[str, Membership], billing: Queue) -> None:
    """What the plan says happened to the conversation, through the services."""
    agent = people.get(plan.assignee) or people["agent@acme.test"]
    if plan.billing:
        services.ticket_update(ticket=ticket, actor=None, queue=billing)
    if plan.priority != ticket.priority:
        services.ticket_update(ticket=ticket, actor=None, priority=plan.priority)
    _backdate(ticket, plan.hours_ago)
    if plan.assignee:
        services.ticket_assign(ticket=ticket, assignee=agent, actor=None)
    if plan.note:
        services.ticket_note_add(ticket=ticket, body=plan.note, actor=agent)
    thread = Thread.objects.get(ticket_link__ticket=ticket)
    name = CLIENTS[plan.client][0].split()[0]
    if plan.state in ("open", "in_progress", "waiting", "resolved", "closed", "failed"):
        _, mail = services.thread_reply_send(
            thread=thread,
            author=agent,
            body=f"Hello {name},\n\nthanks for the details: we are looking into it.",
        )
        if plan.state == "failed" and mail is not None:
            OutboundMail.objects.filter(pk=mail.pk).update(
                status=OutboundMail.Status.FAILED,
                last_error=f"550 5.1.1 <{CLIENTS[plan.client][1]}>: mailbox unavailable",
            )
        ticket.refresh_from_db()
    status = {
        "open": Ticket.Status.OPEN,
        "in_progress": Ticket.Status.IN_PROGRESS,
        "waiting": Ticket.Status.WAITING_ON_CUSTOMER,
        "resolved": Ticket.Status.RESOLVED,
        "closed": Ticket.Status.CLOSED,
    }.get(plan.state)
    if status is not None:
        services.ticket_set_status(ticket=ticket, status=status, actor=agent)
    if plan.state in ("resolved", "closed"):
        # Resolved within hours of the mail, not at the moment the demo ran.
        resolved = ticket.created_at + timedelta(hours=1 + plan.hours_ago % 7)
        Ticket.objects.filter(pk=ticket.pk).update(
            resolved_at=resolved, first_responded_at=ticket.created_at + timedelta(minutes=35)
        )
        if plan.rating:
            csat.csat_record(
                token=csat.csat_token(ticket=ticket),
                score=plan.rating,
                comment="Quick and clear, thank you!" if plan.rating >= 4 else "",
            )
            Rating.objects.filter(ticket=ticket).update(created_at=resolved + timedelta(hours=2))


def _setup(organization: Organization, support: Inbox) -> Queue:
    """Macros, a billing inbox and queue, an Enterprise tier and client companies."""
    people = _people(organization)
    for name, body, actions in MACROS:
        if not Macro.objects.filter(organization=organization, name=name).exists():
            macro_save(organization=organization, actor=None, name=name, body=body, actions=actions)
    inbox = Inbox.objects.filter(organization=organization, name="billing").first()
    if inbox is None:
        inbox = inbox_create(organization=organization, name="billing", color="#d97706")
    billing = Queue.objects.filter(organization=organization, name="Billing").first()
    if billing is None:
        billing = queue_create(
            organization=organization,
            name="Billing",
            actor=None,
            members=[people[e] for e in ("kim@acme.test", "sam@acme.test") if e in people],
            inboxes=[inbox],
        )
    standard = SlaPolicy.objects.filter(organization=organization, is_default=True).first()
    enterprise = SlaPolicy.objects.filter(organization=organization, name="Enterprise").first()
    if enterprise is None and standard is not None:
        enterprise = sla_services.policy_create(
            organization=organization,
            name="Enterprise",
            calendar=standard.calendar,
            targets={
                "urgent": {"first_response_minutes": 15, "resolution_minutes": 120},
                "high": {"first_response_minutes": 30, "resolution_minutes": 240},
                "normal": {"first_response_minutes": 120, "resolution_minutes": 960},
                "low": {"first_response_minutes": 240, "resolution_minutes": 1920},
            },
        )
    for name, policy, domains in (
        ("Globex Corporation", enterprise, ["globex-client.test"]),
        ("Initech", None, ["initech.test"]),
        ("Client & Co", None, ["client.test"]),
    ):
        if not CustomerOrganization.objects.filter(organization=organization, name=name).exists():
            sla_services.customer_save(
                organization=organization, name=name, policy=policy, domains=domains
            )
    return billing


def _file(organization: Organization) -> None:
    """The categories, and each conversation's ticket filed under its own (once: run again,
    two queries)."""
    known = set(categories_list(organization=organization).values_list("name", flat=True))
    for name in CATEGORIES:
        if name not in known:
            category_create(organization=organization, name=name)
    category_of = {subject: name for name, subjects in CATEGORIES.items() for subject in subjects}
    unfiled = Ticket.objects.filter(
        organization=organization,
        category="",
        merged_into__isnull=True,
        subject__in=list(category_of),
    ).select_related("organization")
    for ticket in unfiled:
        active = ticket.updated_at
        services.ticket_update(ticket=ticket, actor=None, category=category_of[ticket.subject])
        # Filed as it came in: its last activity stays where the demo set it back to.
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=active)


def demo_work(organization: Organization, support: Inbox) -> int:
    """Load the demo's conversations once; how many were new."""
    billing = _setup(organization, support)
    people = _people(organization)
    made = 0
    for n, plan in enumerate(PLANS):
        ticket = _deliver(support, f"plan-{n}", plan)
        if ticket is not None:
            _work(ticket, plan, people, billing)
            made += 1
    original = Ticket.objects.filter(organization=organization, subject=PLANS[5].subject).first()
    duplicate = _deliver(support, "duplicate", DUPLICATE)
    if duplicate is not None and original is not None:
        _backdate(duplicate, DUPLICATE.hours_ago)
        workflows.ticket_merge(source=duplicate, target=original, actor=people["kim@acme.test"])
        made += 1
    children = [
        _deliver(support, f"incident-{n}", plan) for n, plan in enumerate(INCIDENT_CHILDREN)
    ]
    if any(children):
        incident = services.ticket_create(
            organization=organization,
            subject=INCIDENT_SUBJECT,
            actor=people.get("sky@acme.test"),
            description="Sign-in fails for clients in the EU region since 08:00.",
            priority=Ticket.Priority.URGENT,
            assignee=people.get("sky@acme.test"),
            round_robin=False,
        )
        for ticket, plan in zip(children, INCIDENT_CHILDREN, strict=True):
            if ticket is not None:
                _backdate(ticket, plan.hours_ago)
                workflows.incident_link(parent=incident, child=ticket, actor=None)
                made += 1
    for n, (sender, thread_number, body) in enumerate(STRANGERS):
        _hold(support, n, sender, thread_number, body)
    _file(organization)
    if made:
        sla_sweep()  # warnings first, then the breaches of the conversations set back
        sla_sweep()
        # Seen when they fell due, as the minute's sweep would have: a history, not one day.
        SlaBreach.objects.filter(organization=organization).update(breached_at=F("due_at"))
    return made
