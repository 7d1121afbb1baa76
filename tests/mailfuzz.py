"""Hostile mail for fuzzing: real mails from the corpora, mutated where parsers break.

The seeds are every whole mail in tests/corpus (and any folder named in
TISKET_FUZZ_CORPUS, os.pathsep-separated); each example takes one and applies
a few mutations: flipped and deleted bytes, splices of two mails, truncation,
and tokens that have broken mail parsers (encoded words, charsets, boundaries,
NULs, uuencode, '<![').

The suite runs a short, derandomized run; `make fuzz` sets TISKET_FUZZ_EXAMPLES
for the long one (and leaves it random).
"""

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"
MESSAGE_FOLDERS = ("cpython", "django-helpdesk", "talon", "django-anymail", "replies")
LONG_RUN = "TISKET_FUZZ_EXAMPLES" in os.environ

TOKENS = [
    b"\x00",
    b"\r",
    b"\n\n",
    b"\n ",
    b"=?",
    b"?=",
    b"=?utf-8?b?w6k?=",
    b"=?gb2312?B?1tA=?=",
    b"=?iso-2022-jp?B?GyRCLSEbKEI=?=",
    b"=?x-unknown?q?=ff=fe?=",
    b'"=?utf-8?q?a=2C_b?=" <x@y.z>',
    b"\xff\xfe\xc3\x28\xe9",
    b"\x1b$B\x2d\x21",
    b"Content-Type: multipart/mixed; boundary=zz\n\n--zz\n",
    b"--zz--\n",
    b"Content-Type: message/rfc822\n\n",
    b"Content-Type: text/html; charset=ks_c_5601-1987\n\n<p>x<![>y",
    b"Content-Transfer-Encoding: base64\n\n",
    b"Content-Transfer-Encoding: x-uuencode\n\nM86)C\n",
    b"Content-Disposition: attachment; filename*=utf-8''%ff%fe.txt\n",
    b'charset=""',
    b"From: <>\n",
    b"From: a@b.c@d.e\n",
    b"Reply-To: =?utf-8?q?x?= <r@x.test>\n",
    b"From x@y Mon Jan  1 00:00:00 2024\n",
    b"> \n",
    b">>> A <a@b.c> 01.01.2024 10:00 >>>\n",
    b"On Mon, 1 Jan 2024 at 10:00, A <a@b.c> wrote:\n> ",
    b"-----Original Message-----\nFrom: a\nSent: b\nTo: c\n",
    b"<blockquote type=cite><div class=gmail_quote>",
    b"\xe2\x80\xae",
]


def seeds() -> list[bytes]:
    """Every whole mail of the corpora, as bytes."""
    folders = [CORPUS / name for name in MESSAGE_FOLDERS]
    folders += [Path(p) for p in os.environ.get("TISKET_FUZZ_CORPUS", "").split(os.pathsep) if p]
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".eml", ".txt") and path.is_file() and path.stat().st_size < 200_000:
                found.append(path.read_bytes())
    return found


SEEDS = seeds()


@st.composite
def hostile_mails(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        operation = draw(st.sampled_from(["flip", "delete", "token", "splice", "truncate"]))
        at = draw(st.integers(0, len(raw)))
        if operation == "flip" and raw:
            raw[min(at, len(raw) - 1)] = draw(st.integers(0, 255))
        elif operation == "delete":
            del raw[at : at + draw(st.integers(1, 64))]
        elif operation == "token":
            raw[at:at] = draw(st.sampled_from(TOKENS))
        elif operation == "splice":
            other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other)))
            raw[at:] = other[start:]
        elif operation == "truncate":
            del raw[at:]
    return bytes(raw)


def fuzz_settings(examples: int, long_share: float = 1.0):
    """A short derandomized run in the suite; in `make fuzz`, TISKET_FUZZ_EXAMPLES random
    ones (times long_share, for a test that costs more per example)."""
    if LONG_RUN:
        examples = max(1, int(int(os.environ["TISKET_FUZZ_EXAMPLES"]) * long_share))
    return settings(
        max_examples=examples,
        derandomize=not LONG_RUN,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
