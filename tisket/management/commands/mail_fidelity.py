from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tisket.lib.mail.fidelity import FIELDS, FidelityError, fidelity_cases, fidelity_measure


class Command(BaseCommand):
    help = (
        "Measure how faithfully mails are read: each mail of a folder (with a .json of "
        "expectations next to it, or an expected.json index) against its subject, sender, "
        "visible text and attachments. Nothing is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="Folder of mails and their expectations")
        parser.add_argument(
            "--show", action="store_true", help="List each disagreement with what was read"
        )

    def handle(self, *args, folder: str, show: bool, **opts) -> None:
        try:
            cases, skipped = fidelity_cases(Path(folder))
        except FidelityError as exc:
            raise CommandError(str(exc)) from exc
        if not cases:
            raise CommandError(f"No mail with expectations in {folder}.")
        report = fidelity_measure(cases)
        if show:
            for outcome in report.outcomes:
                if outcome.error:
                    self.stdout.write(f"{outcome.name}: error {outcome.error}")
                for name, agreed in outcome.checked.items():
                    if not agreed and not outcome.error:
                        got = str(outcome.got.get(name, ""))[:200]
                        self.stdout.write(f"{outcome.name}: {name} differs, read {got!r}")
        errors = len(report.errors)
        self.stdout.write(f"{len(cases)} mails, {errors} errors, {len(skipped)} skipped (no mail)")
        for name in FIELDS:
            agreed, checked = report.agreement(name)
            share = f"{100 * agreed / checked:.1f} %" if checked else "-"
            self.stdout.write(f"{name:<12} {agreed:>5} / {checked:<5} {share}")
