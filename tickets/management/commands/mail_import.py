import mailbox
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from inboxes.models import Inbox
from threads.inbound import inbound_record
from threads.ingest import BATCH_SIZE
from threads.models import InboundMail, Thread
from tickets.intake import mail_process_many

OUTCOMES = ["accepted", "duplicate", "quarantined", "rejected", "failed"]


def _mails(path: Path) -> tuple[int, Iterator[tuple[str, bytes]]]:
    """How many mails a path holds, and each one's name and raw bytes: a Maildir, an
    mbox or one .eml."""
    if path.is_dir():
        if not all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise CommandError(f"{path} is a folder but not a Maildir (no cur/new/tmp).")
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = sorted(box.keys())
        return len(keys), ((f"{path}/{k}", box.get_bytes(k)) for k in keys)
    if not path.is_file():
        raise CommandError(f"{path} does not exist.")
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        box = mailbox.mbox(path, factory=None, create=False)
        keys = list(box.keys())
        return len(keys), ((f"{path} #{n + 1}", box.get_bytes(k)) for n, k in enumerate(keys))
    return 1, iter([(str(path), path.read_bytes())])


def _became(status: str, thread: Thread | None, new: bool, reason: str) -> str:
    """What became of a mail, in a few words: its thread, or why it has none."""
    if thread is not None:
        return f"{status}: {thread.reference}{' (new)' if new else ''}"
    return f"{status}: {reason}" if reason else status


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
        waiting: dict[int, str] = {}
        self.verbose = opts["verbosity"] >= 1
        # One bar; each mail's line, and any log line, is written above it.
        with (
            # The raw stream: Django's wrapper would end each redraw with a newline.
            tqdm(total=total, unit="mail", disable=not self.verbose, file=self.stderr._out) as bar,
            logging_redirect_tqdm(),
        ):
            for _path, _count, mails in sources:
                for name, raw in mails:
                    mail, created = inbound_record(raw=raw, source="import", recipient=recipient)
                    if mail.pk in waiting:  # the same mail twice in this import
                        self._process(waiting, counts, bar)
                        mail.refresh_from_db()
                    if created or mail.status == InboundMail.Status.PENDING:
                        waiting[mail.pk] = name
                    else:
                        # Imported before: whatever became of it then, nothing is stored twice.
                        counts["duplicate"] += 1
                        thread = Thread.objects.filter(pk=mail.thread_id).first()
                        self._say(bar, name, _became("duplicate", thread, False, mail.reason))
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

    def _say(self, bar: tqdm, name: str, what: str) -> None:
        if self.verbose:
            with tqdm.external_write_mode(file=self.stdout._out):  # the bar steps aside
                self.stdout.write(f"{name}: {what}")

    def _process(self, waiting: dict[int, str], counts: Counter, bar: tqdm) -> None:
        for result in mail_process_many(inbound_ids=list(waiting)):
            status = result.inbound.status
            counts[status if status in OUTCOMES else "failed"] += 1
            what = _became(status, result.thread, result.thread_created, result.inbound.reason)
            self._say(bar, waiting.get(result.inbound.pk, f"#{result.inbound.pk}"), what)
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
