from django.core.management.base import BaseCommand, CommandParser

from threads.backfill import BATCH_SIZE, message_keys_backfill


class Command(BaseCommand):
    help = (
        "Give mail stored before content and parent keys existed its keys (and its addresses "
        "their case), from the raw mail. Safe to run again: done messages are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, batch_size: int, **opts) -> None:
        counts = message_keys_backfill(batch_size=max(1, batch_size))
        self.stdout.write(
            f"{counts.messages} message(s) keyed, {counts.without_raw} without their raw mail "
            f"(parent key only), {counts.addresses} with their addresses' case back."
        )
