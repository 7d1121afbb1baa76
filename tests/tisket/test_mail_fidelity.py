"""manage.py mail_fidelity: a folder of mails measured against the fields a person expects."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.mail import CORPUS, make_mail


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("mail_fidelity", *args, stdout=out)
    return out.getvalue()


def figures(output: str) -> dict[str, str]:
    """{'subject': '1 / 2', ...} from the command's summary lines."""
    found = {}
    for line in output.splitlines():
        name, *rest = line.split()
        if name in ("subject", "sender", "body", "attachments"):
            found[name] = " ".join(rest[:4])
    return found


def test_each_field_is_counted_against_the_json_next_to_the_mail(tmp_path):
    (tmp_path / "right.eml").write_bytes(
        make_mail(subject="Printer", body="It works.", attachments=[("a.txt", "text/plain", b"x")])
    )
    (tmp_path / "right.json").write_text(
        json.dumps(
            {
                "subject": "Printer",
                "from": "Jane@Client.test",
                "visible_text": "It works.",
                "attachments": ["a.txt"],
            }
        )
    )
    (tmp_path / "wrong.eml").write_bytes(make_mail(subject="Other", body="Hello"))
    (tmp_path / "wrong.json").write_text(
        json.dumps({"subject": "Printer", "visible_text_startswith": "Hello"})
    )
    (tmp_path / "no-expectations.eml").write_bytes(make_mail())
    output = run(str(tmp_path), "--show")
    assert figures(output) == {
        "subject": "1 / 2 50.0",
        "sender": "1 / 1 100.0",
        "body": "2 / 2 100.0",
        "attachments": "1 / 1 100.0",
    }
    assert "2 mails, 0 errors" in output
    assert "wrong.eml: subject differs, read 'Other'" in output


def test_the_corpus_index_is_read_and_esp_payloads_are_skipped():
    output = run(str(CORPUS))
    assert "2 skipped (no mail)" in output
    assert figures(output)["subject"].endswith("100.0")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "No mail with expectations"),
        ({"expected.json": "{"}, "expected.json"),
        ({"expected.json": '[{"file": "../../etc/passwd"}]'}, "no file"),
        ({"a.eml": "x", "a.json": "[]"}, "must hold one object"),
    ],
    ids=["empty", "bad-json", "outside", "not-an-object"],
)
def test_a_folder_that_cannot_be_measured_is_an_error_saying_why(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(CommandError, match=message):
        run(str(tmp_path))


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        run(str(tmp_path / "nowhere"))
