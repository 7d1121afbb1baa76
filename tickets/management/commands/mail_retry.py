from django.core.management.base import BaseCommand, CommandError, CommandParser

from threads.models import InboundMail
from tickets.intake import mail_retry


class Command(BaseCommand):
    help = "Process failed inbound mail again (by id, or every failed one with --all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="Inbound log ids")
        parser.add_argument("--all", action="store_true", help="Every failed mail")

    def handle(self, *args, ids: list[int], all: bool, **opts) -> None:
        if not ids and not all:
            raise CommandError("Name inbound mail ids, or use --all for every failed one.")
        mails = InboundMail.objects.filter(status=InboundMail.Status.FAILED)
        if ids:
            found = InboundMail.objects.filter(pk__in=ids)
            missing = set(ids) - set(found.values_list("pk", flat=True))
            if missing:
                raise CommandError(
                    f"No inbound mail with id {', '.join(map(str, sorted(missing)))}."
                )
            mails = found
        still_failed = 0
        for mail in mails.order_by("pk"):
            if mail.status != InboundMail.Status.FAILED:
                self.stdout.write(f"#{mail.pk}: {mail.status}, not failed; left alone.")
                continue
            result = mail_retry(inbound_mail=mail)
            self.stdout.write(
                f"#{mail.pk}: {result.inbound.status} {result.inbound.reason}".rstrip()
            )
            still_failed += result.inbound.status == InboundMail.Status.FAILED
        if still_failed:
            raise CommandError(f"{still_failed} mail(s) failed again.")
