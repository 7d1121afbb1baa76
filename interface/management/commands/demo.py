from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from inboxes.models import Inbox
from inboxes.services import inbox_create
from interface.demo_kb import demo_knowledge_base
from interface.demo_work import demo_work
from sla.models import SlaPolicy
from sla.services import calendar_create, calendar_import_holidays, policy_create
from threads.inbound import inbound_record
from tickets.conversations import queue_default
from tickets.intake import mail_process
from tickets.queues import queue_set_inboxes, queue_set_members, queue_update
from tisket import services
from tisket.models import Membership, Organization, Role

DEMO_PASSWORD = "tisket-demo"  # noqa: S105 (the demo's published password)
DEMO_PEOPLE = [
    ("owner@acme.test", "Olivia Owner", Role.OWNER),
    ("agent@acme.test", "Alex Agent", Role.AGENT),
    ("sam@acme.test", "Sam Rivera", Role.AGENT),
    ("kim@acme.test", "Kim Nakamura", Role.AGENT),
    ("sky@acme.test", "Sky Laurent", Role.SUPERVISOR),
]


class Command(BaseCommand):
    help = "Load the demo organization 'acme' with its people. Safe to run again."

    def handle(self, *args, **opts) -> None:
        with transaction.atomic():
            organization = self._organization()
            for email, full_name, role in DEMO_PEOPLE:
                user, _ = services.user_get_or_create(
                    email=email, full_name=full_name, password=DEMO_PASSWORD
                )
                Membership.objects.get_or_create(
                    user=user, organization=organization, defaults={"role": role}
                )
        inbox = self._inbox(organization)
        self._queue(organization, inbox)
        self._sla(organization)
        demo_knowledge_base(organization)
        for raw in demo_mails(inbox.address):
            mail, created = inbound_record(raw=raw, source="demo")
            if created:
                mail_process(inbound_id=mail.pk)
        demo_work(organization, inbox)
        self.stdout.write(
            f"Demo organization '{organization.slug}' is ready; its inbox is {inbox.address}, "
            "in the queue Support.\n"
            f"Log in at {settings.SITE_URL}/accounts/login/ as agent@acme.test "
            f"(or owner@acme.test, sam@, kim@, or sky@ the supervisor) with the password "
            f"'{DEMO_PASSWORD}'.\n"
            f"Its help centre is at {settings.SITE_URL}/hc/{organization.slug}/."
        )

    def _queue(self, organization: Organization, inbox: Inbox) -> None:
        queue = queue_default(organization=organization)
        if queue.auto_assign:
            return
        agents = Membership.objects.filter(organization=organization, role=Role.AGENT)
        queue_set_members(queue=queue, members=list(agents))
        queue_set_inboxes(queue=queue, inboxes=[inbox])
        queue_update(queue=queue, name="Support", auto_assign=True)

    def _sla(self, organization: Organization) -> None:
        """Office hours in Paris with France's holidays, and a default Standard policy."""
        if SlaPolicy.objects.filter(organization=organization).exists():
            return
        calendar = calendar_create(organization=organization, name="Paris office")
        year = timezone.now().year
        calendar_import_holidays(calendar=calendar, country="FR", years=[year, year + 1])
        policy_create(
            organization=organization,
            name="Standard",
            calendar=calendar,
            is_default=True,
            targets={
                "urgent": {"first_response_minutes": 30, "next_response_minutes": 60,
                           "resolution_minutes": 240},
                "high": {"first_response_minutes": 60, "next_response_minutes": 120,
                         "resolution_minutes": 480},
                "normal": {"first_response_minutes": 240, "next_response_minutes": 480,
                           "resolution_minutes": 1440},
                "low": {"first_response_minutes": 480, "resolution_minutes": 2400},
            },
        )  # fmt: skip

    def _inbox(self, organization: Organization) -> Inbox:
        existing = Inbox.objects.filter(organization=organization, name="support").first()
        return existing or inbox_create(organization=organization, name="support")

    def _organization(self) -> Organization:
        existing = Organization.objects.filter(slug="acme").first()
        if existing:
            return existing
        owner, _ = services.user_get_or_create(
            email=DEMO_PEOPLE[0][0], full_name=DEMO_PEOPLE[0][1], password=DEMO_PASSWORD
        )
        return services.organization_create(
            name="Acme Inc", slug="acme", code="ACME", owner=owner, timezone_name="Europe/Paris"
        )


def _mail(address: str, *, number: int, sender: str, subject: str, body: str, **headers) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: Acme Support <{address}>",
        f"Subject: {subject}",
        f"Date: Mon, 16 Nov 2026 {9 + number:02d}:1{number}:00 +0100",
        f"Message-ID: <demo-{number}@client.test>",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        body,
    ]
    return "\r\n".join(lines).encode()


def demo_mails(address: str) -> list[bytes]:
    """A few conversations, delivered through the real inbound pipeline."""
    return [
        _mail(
            address,
            number=1,
            sender="Jane Client <jane@client.test>",
            subject="Cannot log in since the update",
            body="Hello,\r\n\r\nsince yesterday's update I cannot log in: the page says "
            "'session expired' right after I enter my password.\r\n\r\nThanks,\r\nJane",
        ),
        _mail(
            address,
            number=2,
            sender="Jane Client <jane@client.test>",
            subject="Re: [THD-ACME-001] Cannot log in since the update",
            body="I also tried another browser, same thing.\r\n\r\n"
            "On Mon, 16 Nov 2026 at 10:11, Jane Client wrote:\r\n> Hello,\r\n> since "
            "yesterday's update I cannot log in",
            In_Reply_To="<demo-1@client.test>",
        ),
        _mail(
            address,
            number=3,
            sender="Bob Buyer <bob@globex-client.test>",
            subject="Invoice 2041 charges us twice",
            body="Hi, invoice 2041 lists the annual plan twice. Could you send a corrected "
            "one?\r\n\r\n-- \r\nBob Buyer, Purchasing",
        ),
        _mail(
            address,
            number=4,
            sender="Carol <carol@client.test>",
            subject="Automatic reply: Invoice 2041 charges us twice",
            body="I am out of the office until Monday.",
            Auto_Submitted="auto-replied",
        ),
        _mail(
            address,
            number=5,
            sender="Someone <stranger@unknown.test>",
            subject="Re: [THD-ACME-001] Cannot log in since the update",
            body="Please send me the password of this account.",
        ),
    ]
