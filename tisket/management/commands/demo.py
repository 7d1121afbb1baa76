from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from tisket import services
from tisket.models import Membership, Organization, Role

DEMO_PASSWORD = "tisket-demo"  # noqa: S105 (the demo's published password)
DEMO_PEOPLE = [
    ("owner@acme.test", "Olivia Owner", Role.OWNER),
    ("agent@acme.test", "Alex Agent", Role.AGENT),
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
        self.stdout.write(
            f"Demo organization '{organization.slug}' is ready.\n"
            f"Log in at {settings.SITE_URL}/accounts/login/ as agent@acme.test "
            f"(or owner@acme.test) with the password '{DEMO_PASSWORD}'."
        )

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
