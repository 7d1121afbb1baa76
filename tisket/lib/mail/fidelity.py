"""How faithfully mails are read: a folder of mails against the fields a person expects.

Expectations come from a JSON file next to each mail (`reply.eml` and `reply.json`), or
from an `expected.json` index in the folder: a list of objects with a `file` key. Each of
`subject`, `from`, `visible_text` (line by line, blank lines and spacing aside),
`visible_text_startswith` and `attachments` (a list of file names) is checked only when
it is given.

A file is read as a whole mail when it ends in `.eml` or its expectations name a subject
or a sender; a `.html` file otherwise is an HTML body, and any other file a text body.
Files an index lists that are no mail (an ESP's JSON payload) are counted as skipped.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tisket.lib.mail.parse import mail_visible_text, parse_mail
from tisket.lib.mail.quotes import visible_html_text, visible_text

FIELDS = ("subject", "sender", "body", "attachments")
MAIL_SUFFIXES = (".eml", ".msg", ".txt", ".html", ".mbox")


@dataclass
class Case:
    path: Path
    name: str
    expected: dict


@dataclass
class Outcome:
    name: str
    checked: dict[str, bool] = field(default_factory=dict)  # field -> agreed
    got: dict[str, object] = field(default_factory=dict)
    error: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def agreement(self, name: str) -> tuple[int, int]:
        """(agreed, checked) for one field."""
        checked = [o.checked[name] for o in self.outcomes if name in o.checked]
        return sum(checked), len(checked)

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]


class FidelityError(Exception):
    """The folder cannot be measured (missing, unreadable or badly written expectations)."""


def fidelity_cases(folder: Path) -> tuple[list[Case], list[str]]:
    """The mails of a folder with their expectations, and the files skipped as no mail."""
    if not folder.is_dir():
        raise FidelityError(f"{folder} is not a folder")
    index = folder / "expected.json"
    cases: dict[Path, Case] = {}
    skipped: list[str] = []
    if index.is_file():
        entries = _load(index)
        if not isinstance(entries, list):
            raise FidelityError(f"{index} must hold a list of objects with a 'file' key")
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                raise FidelityError(f"{index}: every entry needs a 'file' key")
            path = (folder / entry["file"]).resolve()
            if not path.is_relative_to(folder.resolve()) or not path.is_file():
                raise FidelityError(f"{index}: no file {entry['file']!r} in the folder")
            if path.suffix.lower() not in MAIL_SUFFIXES:
                skipped.append(entry["file"])
                continue
            expected = {k: v for k, v in entry.items() if k != "file"}
            cases[path] = Case(path=path, name=entry["file"], expected=expected)
    for path in sorted(_mail_files(folder)):
        sidecar = path.with_suffix(".json")
        if path.resolve() in cases or not sidecar.is_file():
            continue
        expected = _load(sidecar)
        if not isinstance(expected, dict):
            raise FidelityError(f"{sidecar} must hold one object")
        name = str(path.relative_to(folder))
        cases[path.resolve()] = Case(path=path, name=name, expected=expected)
    return sorted(cases.values(), key=lambda c: c.name), skipped


def fidelity_measure(cases: list[Case]) -> Report:
    """Read each mail as the inbound pipeline does and compare it with what is expected."""
    report = Report()
    for case in cases:
        report.outcomes.append(_measure(case))
    return report


def _measure(case: Case) -> Outcome:
    outcome = Outcome(name=case.name)
    expected = case.expected
    data = case.path.read_bytes()
    try:
        if _is_message(case):
            parsed = parse_mail(data)
            visible = mail_visible_text(parsed)
            outcome.got = {
                "subject": parsed.subject,
                "sender": parsed.from_email,
                "attachments": [a.filename for a in parsed.attachments],
            }
        elif case.path.suffix.lower() in (".html", ".htm"):
            visible = visible_html_text(data.decode("utf-8", "replace"))
        else:
            visible = visible_text(data.decode("utf-8", "replace"))
    except Exception as exc:  # what the command is for: say so, and measure the rest
        outcome.error = f"{type(exc).__name__}: {exc}"
        for name in FIELDS:
            outcome.checked[name] = False
        return outcome
    outcome.got["body"] = visible
    if "subject" in expected:
        outcome.checked["subject"] = _words(outcome.got.get("subject")) == _words(
            expected["subject"]
        )
    if "from" in expected:
        got = str(outcome.got.get("sender") or "")
        outcome.checked["sender"] = got.lower() == str(expected["from"]).lower()
    if "visible_text" in expected:
        outcome.checked["body"] = _lines(visible) == _lines(expected["visible_text"])
    elif "visible_text_startswith" in expected:
        outcome.checked["body"] = _words(visible).startswith(
            _words(expected["visible_text_startswith"])
        )
    if "attachments" in expected:
        got = sorted(outcome.got.get("attachments") or [])
        outcome.checked["attachments"] = got == sorted(expected["attachments"])
    return outcome


def _is_message(case: Case) -> bool:
    suffix = case.path.suffix.lower()
    return suffix in (".eml", ".msg", ".mbox") or bool({"subject", "from"} & case.expected.keys())


def _lines(value: object) -> list[str]:
    """Text compared as a reader sees it: its non-blank lines, spacing aside."""
    return [" ".join(line.split()) for line in str(value or "").splitlines() if line.strip()]


def _words(value: object) -> str:
    return " ".join(str(value or "").split())


def _load(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FidelityError(f"{path}: {exc}") from exc


def _mail_files(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix.lower() in MAIL_SUFFIXES:
            yield path
