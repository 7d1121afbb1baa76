import mailbox
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from inboxes.models import Inbox
from threads.inbound import inbound_record
from threads.ingest import BATCH_SIZE
from threads.models import InboundMail
from tickets.intake import mail_process_many

OUTCOMES = ["accepted", "duplicate", "quarantined", "rejected", "failed"]


def _mails(path: Path) -> tuple[int, Iterator[bytes]]:
    """How many mails a path holds, and their raw bytes: a Maildir, an mbox or one .eml."""
    if path.is_dir():
        if not all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise CommandError(f"{path} is a folder but not a Maildir (no cur/new/tmp).")
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = sorted(box.keys())
        return len(keys), (box.get_bytes(k) for k in keys)
    if not path.is_file():
        raise CommandError(f"{path} does not exist.")
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        box = mailbox.mbox(path, factory=None, create=False)
        keys = list(box.keys())
        return len(keys), (box.get_bytes(k) for k in keys)
    return 1, iter([path.read_bytes()])


class Command(BaseCommand):
    help = "Import mail from .eml files, mbox files and Maildir folders, each mail once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help=".eml file, mbox file or Maildir")
        parser.add_argument(
            "--inbox",
            help="<org-slug>/<inbox>: deliver every mail to this inbox, whatever its headers say",
        )

    def handle(self, *args, paths: list[Path], inbox: str | None, **opts) -> None:
        recipient = self._inbox_address(inbox) if inbox else ""
        sources = [(path, *_mails(path)) for path in paths]
        total = sum(count for _, count, _ in sources)
        counts: Counter[str] = Counter()
        waiting: list[int] = []
        with tqdm(total=total, unit="mail", disable=opts["verbosity"] < 1, file=self.stderr) as bar:
            for _path, _count, mails in sources:
                for raw in mails:
                    mail, created = inbound_record(raw=raw, source="import", recipient=recipient)
                    if created or mail.status == InboundMail.Status.PENDING:
                        waiting.append(mail.pk)
                    else:
                        # Imported before: whatever became of it then, nothing is stored twice.
                        counts["duplicate"] += 1
                        bar.update()
                    if len(waiting) >= BATCH_SIZE:
                        self._process(waiting, counts, bar)
            self._process(waiting, counts, bar)
        summary = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
        self.stdout.write(f"Imported {total} mail(s): {summary}.")
        if counts["failed"]:
            raise CommandError(
                f"{counts['failed']} mail(s) failed; see the inbound log, then run mail_retry."
            )

    def _process(self, waiting: list[int], counts: Counter, bar: tqdm) -> None:
        for result in mail_process_many(inbound_ids=list(waiting)):
            status = result.inbound.status
            counts[status if status in OUTCOMES else "failed"] += 1
            bar.update()
        waiting.clear()

    def _inbox_address(self, spec: str) -> str:
        org_slug, _, name = spec.partition("/")
        inbox = Inbox.objects.filter(organization__slug=org_slug, name=name).first()
        if inbox is None:
            raise CommandError(
                f"No inbox '{name}' in an organization '{org_slug}' (use org/inbox)."
            )
        return inbox.address
