"""The table of replies in tests/corpus/replies: each client's way of quoting, in its languages.

Each case is a mail as one client in one language writes a reply (tests/corpus/replies/*.eml)
and the text a person reads as new (*.json). The cases are written from how the clients
write, not taken from one corpus; see tests/corpus/replies/README.md.
"""

from collections import Counter
from pathlib import Path

import pytest

from tisket.lib.mail.fidelity import fidelity_cases, fidelity_measure

REPLIES = Path(__file__).resolve().parents[1] / "corpus" / "replies"
CASES, _ = fidelity_cases(REPLIES)


def test_the_table_covers_the_clients_and_twenty_languages():
    families = Counter(case.name.split("-")[0] for case in CASES)
    assert {"gmail", "apple", "thunderbird", "outlook", "separator", "zoho", "yahoo", "mobile"} <= (
        families.keys()
    )
    assert sum(1 for c in CASES if c.name.startswith("html-")) >= 20
    gmail_languages = {c.name.split("-", 1)[1] for c in CASES if c.name.startswith("gmail-")}
    assert len(gmail_languages - {n for n in gmail_languages if "wrapped" in n}) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reply_shows_what_a_person_reads_as_new(case):
    (outcome,) = fidelity_measure([case]).outcomes
    assert not outcome.error
    assert outcome.checked.get("body") is True, outcome.got["body"]
    assert all(outcome.checked.values()), outcome.checked
