"""Headers as a person reads them: tisket.lib.mail.parse on raw bytes, rule by rule."""

import base64

import pytest

from tisket.lib.addresses import address_normalize
from tisket.lib.mail.charsets import cp50221_decode, decode_bytes
from tisket.lib.mail.parse import parse_mail


def mail(headers: bytes, body: bytes = b"Hello.\n", content_type: bytes = b"") -> bytes:
    """A raw mail: these header lines, then a text body."""
    if content_type:
        headers += b"\nContent-Type: " + content_type
    return headers + b"\n\n" + body


def b64_word(text: str, charset: str, codec: str = "") -> str:
    data = base64.b64encode(text.encode(codec or charset)).decode()
    return f"=?{charset}?B?{data}?="


# (case, raw mail, expected subject)
SUBJECTS = [
    ("raw UTF-8", mail(b"From: a@x.org\nSubject: Caf\xc3\xa9 cr\xc3\xa8me"), "Café crème"),
    (
        "raw Latin-1, body declares ISO-8859-1",
        mail(b"From: a@x.org\nSubject: Caf\xe9", content_type=b"text/plain; charset=iso-8859-1"),
        "Café",
    ),
    (
        "raw Windows-1251, body declares it",
        mail(
            b"From: a@x.org\nSubject: " + "Привет, мир".encode("cp1251"),
            content_type=b"text/plain; charset=windows-1251",
        ),
        "Привет, мир",
    ),
    (
        "raw KOI8-R, nothing declared: detected from the body",
        mail(
            b"From: a@x.org\nSubject: " + "Заявка на ремонт".encode("koi8-r"),
            body="Здравствуйте! Прошу отремонтировать принтер в офисе, он не печатает "
            "уже третий день. Спасибо.\n".encode("koi8-r"),
        ),
        "Заявка на ремонт",
    ),
    (
        "GB2312 label holding GBK characters",
        mail(b"From: a@x.org\nSubject: " + b64_word("朱镕基 喆", "gb2312", "gbk").encode()),
        "朱镕基 喆",
    ),
    (
        "ISO-2022-JP with NEC circled digits (CP50221)",
        mail(b"From: a@x.org\nSubject: =?ISO-2022-JP?B?GyRCLSEtIhsoQiB0ZXN0?="),
        "①② test",
    ),
    (
        "ks_c_5601-1987",
        mail(
            b"From: a@x.org\nSubject: " + b64_word("안녕하세요", "ks_c_5601-1987", "cp949").encode()
        ),
        "안녕하세요",
    ),
    (
        "Windows-1252 quotes under an ISO-8859-1 label",
        mail(b"From: a@x.org\nSubject: =?iso-8859-1?Q?=93Hi=94_=96_caf=E9?="),
        "“Hi” \u2013 café",
    ),
    (
        "UTF-8 under an ISO-8859-1 label",
        mail(b"From: a@x.org\nSubject: =?iso-8859-1?Q?caf=C3=A9?="),
        "café",
    ),
    (
        "unknown label: read as UTF-8",
        mail(b"From: a@x.org\nSubject: =?x-made-up?Q?caf=C3=A9?="),
        "café",
    ),
    (
        "a character split across two encoded words",
        mail(b"From: a@x.org\nSubject: =?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9_ok?="),
        "café ok",
    ),
    (
        "base64 word without its padding",
        mail(b"From: a@x.org\nSubject: =?UTF-8?B?w6l0w6k?="),
        "été",
    ),
    (
        "mbox From line on top",
        b"From jane@x.org Mon Jan  1 00:00:00 2024\n"
        + mail(b"From: Jane <jane@x.org>\nSubject: Hello"),
        "Hello",
    ),
    (
        "a first line that is not a header",
        b"garbage the relay wrote\n" + mail(b"From: Jane <jane@x.org>\nSubject: Hello"),
        "Hello",
    ),
    (
        "a folded line that lost its indentation",
        mail(b"From: Jane <jane@x.org>\nSubject: A long subject\nthat goes on\nTo: s@in.test"),
        "A long subject that goes on",
    ),
]


@pytest.mark.parametrize(
    ("raw", "subject"), [c[1:] for c in SUBJECTS], ids=[c[0] for c in SUBJECTS]
)
def test_subject_is_read_as_a_person_reads_it(raw, subject):
    assert parse_mail(raw).subject == subject


# (case, From and neighbouring headers, expected (name, address), note expected)
SENDERS = [
    ("plain", b"From: Jane Doe <jane@x.org>", ("Jane Doe", "jane@x.org"), False),
    (
        "encoded word inside a quoted name",
        b'From: "=?UTF-8?B?w6l0w6k=?=" <a@example.com>',
        ("été", "a@example.com"),
        False,
    ),
    (
        "encoded words inside quotes with text around",
        b'From: "=?UTF-8?Q?Ren=C3=A9e?= Dupont" <renee@x.fr>',
        ("Renée Dupont", "renee@x.fr"),
        False,
    ),
    (
        "encoded word holding a comma and an address",
        b"From: =?UTF-8?Q?Doe=2C_Jane_=3Cboss=40corp=2Ecom=3E?= <jane@x.org>",
        ("Doe, Jane <boss@corp.com>", "jane@x.org"),
        False,
    ),
    (
        "encoded word whose text looks like an encoded word: decoded once",
        b"From: =?UTF-8?Q?=3D=3FUTF-8=3FQ=3FJane=3F=3D?= <jane@x.org>, Bob <bob@x.org>",
        ("=?UTF-8?Q?Jane?=", "jane@x.org"),
        False,
    ),
    (
        "encoded-word text in a quoted local part stays as written (RFC 2047 section 5)",
        b'From: Jane <"=?UTF-8?Q?bob?="@x.org>',
        ("Jane", "=?UTF-8?Q?bob?=@x.org"),
        False,
    ),
    ("raw UTF-8 name", b"From: J\xc3\xbcrgen <j@x.de>", ("Jürgen", "j@x.de"), False),
    (
        "GB2312 name with GBK",
        b"From: " + b64_word("镕", "gb2312", "gbk").encode() + b" <z@x.cn>",
        ("镕", "z@x.cn"),
        False,
    ),
    ("trailing dot on the domain", b"From: Jane <jane@x.org.>", ("Jane", "jane@x.org"), True),
    ("doubled brackets", b"From: Jane <<jane@x.org>>", ("Jane", "jane@x.org"), True),
    ("no brackets", b"From: Jane Doe jane@x.org", ("Jane Doe", "jane@x.org"), True),
    ("all quoted", b'From: "Jane Doe <jane@x.org>"', ("Jane Doe", "jane@x.org"), True),
    ("single quotes", b"From: 'jane@x.org'", ("", "jane@x.org"), True),
    (
        "dot at the end of the local part",
        b"From: <jane.@docomo.ne.jp>",
        ("", "jane.@docomo.ne.jp"),
        True,
    ),
    (
        "no From: Reply-To",
        b"Reply-To: Jane <jane@x.org>\nSender: s@x.org\nReturn-Path: <r@x.org>",
        ("Jane", "jane@x.org"),
        True,
    ),
    (
        "empty From: Sender",
        b"From:\nSender: s@x.org\nReturn-Path: <r@x.org>",
        ("", "s@x.org"),
        True,
    ),
    ("no From: Return-Path", b"Return-Path: <r@x.org>", ("", "r@x.org"), True),
    (
        "case kept as written",
        b"From: Jane <Jane.Doe@X.ORG>",
        ("Jane", "Jane.Doe@X.ORG"),
        False,
    ),
    (
        "repaired, case kept",
        b"From: Jane Jane.Doe@X.ORG.",
        ("Jane", "Jane.Doe@X.ORG"),
        True,
    ),
]


@pytest.mark.parametrize(
    ("headers", "sender", "noted"), [c[1:] for c in SENDERS], ids=[c[0] for c in SENDERS]
)
def test_sender_is_found_where_a_person_finds_it(headers, sender, noted):
    parsed = parse_mail(mail(headers + b"\nSubject: s"))
    assert (parsed.from_name, parsed.from_email) == sender
    assert bool(parsed.sender_note) == noted


def test_one_address_in_two_cases_is_one_address():
    parsed = parse_mail(
        mail(b'From: a@x.org\nTo: Bob <Bob@Y.org>, bob@y.ORG, "B" <BOB@y.org>\nSubject: s')
    )
    assert parsed.to == [("Bob", "Bob@Y.org")]
    repaired = parse_mail(mail(b"From: Jane.Doe@X.ORG. <jane.doe@x.org>\nSubject: s"))
    assert address_normalize(repaired.from_email) == "jane.doe@x.org"


def test_two_different_addresses_in_from_give_no_sender():
    parsed = parse_mail(mail(b"From: alice@example.org <bob@evil.test>\nSubject: s"))
    assert parsed.from_email == ""
    assert "From" in parsed.from_problem


def test_return_path_of_the_null_sender_gives_no_sender():
    parsed = parse_mail(mail(b"Return-Path: <>\nSubject: s"))
    assert parsed.from_email == ""


# (case, raw bytes, declared charset, expected text)
BODIES = [
    ("declared and right", "Grüße".encode("iso-8859-1"), "iso-8859-1", "Grüße"),
    ("Windows quotes under Latin-1", b"\x93ok\x94", "iso-8859-1", "“ok”"),
    ("UTF-8 under us-ascii", "naïve".encode(), "us-ascii", "naïve"),
    ("GBK under GB2312", "朱镕基".encode("gbk"), "gb2312", "朱镕基"),
    ("unknown label, UTF-8 bytes", "café".encode(), "x-nonsense", "café"),
    ("a Latin-1 line in a UTF-8 body", "été ".encode() + b"caf\xe9", "utf-8", "été café"),
    ("ISO-2022-JP half-width katakana", b"\x1b(I\x31\x32\x1b(B", "iso-2022-jp", "ｱｲ"),
    ("ISO-2022-JP IBM extension", b"\x1b$B\x79\x21\x1b(B", "iso-2022-jp", "纊"),
]


@pytest.mark.parametrize(
    ("data", "declared", "text"), [c[1:] for c in BODIES], ids=[c[0] for c in BODIES]
)
def test_body_bytes_are_read_in_the_charset_they_really_are(data, declared, text):
    assert decode_bytes(data, declared) == text
    assert "\ufffd" not in decode_bytes(data, declared)


def test_cp50221_reads_what_python_iso_2022_jp_reads():
    text = "日本語のメールです。テスト"
    assert cp50221_decode(text.encode("iso2022_jp")) == text


def test_html_that_python_cannot_parse_still_gives_text():
    raw = mail(
        b"From: a@x.org\nSubject: s", body=b"<p>Hello<![> there</p>", content_type=b"text/html"
    )
    parsed = parse_mail(raw)
    assert parsed.text_from_html
    assert "Hello" in parsed.text
