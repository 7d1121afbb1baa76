"""Attachments as a person finds them: tisket.lib.mail.parts through parse_mail, rule by rule."""

import base64

import pytest

from tisket.lib.mail import parts
from tisket.lib.mail.parse import parse_mail

ATTACHED = (
    b"From: Ann <ann@x.org>\r\nSubject: The  original\r\n  question\r\n"
    b"X-Odd:   spaced   header\r\n\r\nOriginal body.\r\n"
)


def multipart(*parts: bytes, subtype: bytes = b"mixed", head: bytes = b"") -> bytes:
    body = b"".join(b"--BOUNDARY\r\n" + part + b"\r\n" for part in parts)
    return (
        b"From: Bob <bob@x.org>\r\nSubject: Fwd\r\n" + head + b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/" + subtype + b'; boundary="BOUNDARY"\r\n\r\n'
        b"preamble\r\n" + body + b"--BOUNDARY--\r\n"
    )


TEXT_PART = b"Content-Type: text/plain\r\n\r\nSee attached."


def test_an_attached_message_keeps_its_bytes_and_is_named_from_its_subject():
    raw = multipart(TEXT_PART, b"Content-Type: message/rfc822\r\n\r\n" + ATTACHED)
    (attachment,) = parse_mail(raw).attachments
    assert attachment.filename == "The original question.eml"
    assert attachment.data == ATTACHED


def test_a_delivery_report_keeps_its_status_and_the_returned_message():
    raw = multipart(
        b"Content-Type: text/plain\r\n\r\nYour mail could not be delivered.",
        b"Content-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.x.org\r\n\r\nFinal-Recipient: rfc822; gone@x.org\r\n"
        b"Action: failed\r\nStatus: 5.1.1",
        b"Content-Type: message/rfc822\r\n\r\n" + ATTACHED,
        subtype=b'report; report-type="delivery-status"',
    )
    status, returned = parse_mail(raw).attachments
    assert status.filename == "delivery-status.txt"
    assert b"Final-Recipient: rfc822; gone@x.org" in status.data
    assert returned.filename == "The original question.eml"
    assert returned.data == ATTACHED


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        (b"Content-Location: https://cdn.x.org/img/logo.png?v=2\r\n", "logo.png"),
        (b"Content-ID: <image001.png@01DB1234.56789AB0>\r\n", "image001.png"),
        (b"Content-ID: <part1.abcdef@x.org>\r\n", "image001.png"),
        (b"", "image001.png"),
    ],
    ids=["content-location", "outlook-content-id", "opaque-content-id", "nothing"],
)
def test_an_unnamed_inline_image_gets_a_name_a_person_recognises(headers, name):
    image = b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n" + headers
    raw = multipart(TEXT_PART, image + b"\r\n" + PNG, subtype=b"related")
    (attachment,) = parse_mail(raw).attachments
    assert attachment.filename == name


def test_unnamed_images_are_numbered():
    image = b"Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ"
    names = [a.filename for a in parse_mail(multipart(TEXT_PART, image, image)).attachments]
    assert names == ["image001.jpg", "image002.jpg"]


@pytest.mark.parametrize("begin", [b"begin 644 notes.txt\r\n", b""], ids=["begin", "no-begin"])
def test_a_uuencoded_part_is_decoded_with_or_without_its_begin_line(begin):
    import binascii

    encoded = binascii.b2a_uu(b"The notes of the meeting.")
    part = (
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n"
        b"Content-Disposition: attachment; filename=notes.txt\r\n\r\n"
        + begin
        + encoded
        + b"`\r\nend"
    )
    (attachment,) = parse_mail(multipart(TEXT_PART, part)).attachments
    assert attachment.data == b"The notes of the meeting."
    assert attachment.filename == "notes.txt"


def test_a_text_part_with_a_file_name_that_is_the_only_text_is_the_body():
    part = b'Content-Type: text/plain; name="message.txt"\r\n\r\nMy printer is broken.'
    parsed = parse_mail(multipart(part))
    assert parsed.text == "My printer is broken."
    assert parsed.attachments == []


def test_a_text_file_attached_next_to_a_body_stays_an_attachment():
    part = b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=log.txt\r\n\r\nx"
    parsed = parse_mail(multipart(TEXT_PART, part))
    assert parsed.text == "See attached."
    assert [a.filename for a in parsed.attachments] == ["log.txt"]


@pytest.mark.parametrize(
    ("body", "pieces"),
    [
        (b"--b\r\none\r\n--b\r\ntwo\r\n--b--\r\n", [b"one", b"two"]),
        (b"preamble\n--b  \t\none\n--b--", [b"one"]),  # LF lines, blanks after the boundary
        (b"--b\r\none --b\r\n--bb\r\n--b-x\r\n--b--\r\n", [b"one --b\r\n--bb\r\n--b-x"]),
        (b"--b\r\n--b\r\n--b--\r\n", [b"--b"]),  # a line break belongs to one boundary only
        (b"--b\r\none\r\n--b--tail\r\n--b\r\ntwo", [b"one\r\n--b--tail", b"two"]),  # no end
        (b"no boundary at all", []),
    ],
)
def test_a_multipart_body_is_split_at_its_boundary_lines_only(body, pieces):
    assert parts._split_multipart(body, "b") == pieces
