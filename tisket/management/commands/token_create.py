from django.core.management.base import BaseCommand, CommandError, CommandParser

from tisket import services
from tisket.errors import TisketError
from tisket.models import Membership, Role, TokenScope, UserManager


class Command(BaseCommand):
    help = "Create an API token for a member of an organization and print its key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The member's email address")
        parser.add_argument("org_slug", help="The organization's slug")
        parser.add_argument(
            "--role",
            choices=[r.value for r in Role],
            default="",
            help="Cap the token below the member's role (e.g. viewer for a read-only script).",
        )
        parser.add_argument("--name", default="", help="What the token is for")
        parser.add_argument(
            "--scope",
            choices=[s.value for s in TokenScope],
            default=TokenScope.WRITE,
            help="read: the token never writes, whatever its role (e.g. for an AI assistant).",
        )

    def handle(
        self, *args, email: str, org_slug: str, role: str, name: str, scope: str, **opts
    ) -> None:
        membership = (
            Membership.objects.select_related("user", "organization")
            .filter(user__email=UserManager.normalize(email), organization__slug=org_slug)
            .first()
        )
        if membership is None:
            raise CommandError(f"{email} is not a member of an organization '{org_slug}'.")
        try:
            token, key = services.api_token_create(
                membership=membership,
                name=name or f"token for {membership.user.email}",
                role=role,
                scope=scope,
            )
        except TisketError as exc:
            raise CommandError(str(exc)) from None
        # The key alone on stdout, so scripts can capture it; the rest on stderr.
        self.stderr.write(
            f"Token '{token.name}' ({token.effective_role}, {token.scope}) "
            f"for {membership.user.email} in {membership.organization.slug}. It is shown only now:"
        )
        self.stdout.write(key)
