import factory
from factory.django import DjangoModelFactory

from tisket.models import Membership, Organization, Role, User

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)  # hashed before the insert: one query


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Faker("company")
    slug = factory.Sequence(lambda n: f"org{n}")
    code = factory.Sequence(lambda n: f"ORG{n}")
    timezone = "Europe/Paris"


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.AGENT


def always_open_policy(organization, targets: dict, name: str = "Standard"):
    """The organization's default SLA policy on a 24/7 UTC calendar: deadlines are plain
    clock arithmetic, so a test can state them exactly."""
    from sla import services as sla_services

    calendar = sla_services.calendar_create(
        organization=organization, name="Always", always_open=True, timezone_name="UTC"
    )
    return sla_services.policy_create(
        organization=organization, name=name, calendar=calendar, is_default=True, targets=targets
    )
