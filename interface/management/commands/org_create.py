"""Create an organization with its owner and default queue (the queue is the tickets app's)."""

import getpass
import secrets
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tickets.conversations import queue_default
from tisket import services
from tisket.errors import TisketError


class Command(BaseCommand):
    help = (
        "Create an organization, its owner and its default queue "
        "(asks for the owner's password, or generates one)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="URL-safe identifier, e.g. acme")
        parser.add_argument("--name", required=True, help='Display name, e.g. "Acme Inc"')
        parser.add_argument("--code", default="", help="Reference code (A-Z, 0-9), e.g. ACME")
        parser.add_argument("--owner", required=True, help="Owner's email address")
        parser.add_argument("--timezone", default="UTC", help="e.g. Europe/Paris")
        parser.add_argument(
            "--no-input",
            action="store_true",
            help="Never prompt: generate the password of a new owner and print it.",
        )

    def handle(
        self, *args, slug: str, name: str, code: str, owner: str, timezone: str, **opts
    ) -> None:
        password = None
        generated = False
        try:
            with transaction.atomic():
                user, created = services.user_get_or_create(email=owner)
                if created:
                    interactive = not opts["no_input"] and sys.stdin.isatty()
                    password = self._ask_password(user) if interactive else None
                    if password is None:
                        password, generated = secrets.token_urlsafe(12), True
                    user.set_password(password)
                    user.save(update_fields=["password"])
                organization = services.organization_create(
                    name=name, slug=slug, code=code, owner=user, timezone_name=timezone
                )
                queue_default(organization=organization)
        except ValidationError as exc:
            raise CommandError(services.validation_message(exc)) from None
        except TisketError as exc:
            raise CommandError(str(exc)) from None

        self.stdout.write(
            f"Created organization {organization.slug} ({organization.code}) owned by {user.email}."
        )
        if generated:
            self.stdout.write(f"Password for {user.email}: {password}")
        elif not created:
            self.stdout.write(f"{user.email} already had an account; their password is unchanged.")

    def _ask_password(self, user) -> str:
        while True:
            password = getpass.getpass(f"Password for {user.email} (empty to generate one): ")
            if not password:
                return None
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The passwords differ; try again.")
                continue
            try:
                validate_password(password, user)
            except ValidationError as exc:
                self.stderr.write(" ".join(exc.messages))
                continue
            return password
