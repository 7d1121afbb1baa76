import codecs
import gzip
import io
import struct
import unicodedata
import zipfile

import pytest

from tisket.lib.files import extension_for, safe_filename, sniff_content_type

_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def assert_safe(name: str) -> None:
    assert name
    assert name not in (".", "..")
    assert len(name) <= 150
    assert "/" not in name
    assert "\\" not in name
    assert not any(unicodedata.category(char) == "Cc" or char in _BIDI for char in name)
    assert not any(char in '<>:"|?*' for char in name)
    assert not name.startswith((".", " "))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path", "path"),
        ("C:\\x\\y.txt", "y.txt"),
        ("C:y.txt", "C_y.txt"),
        ("report\x00.pdf.exe", "report.pdf.exe"),
        ("a\r\nb.txt", "ab.txt"),
        ("Subject:\r\nBcc: x.txt", "Subject_Bcc_ x.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066evil\u2069\u200f.txt", "evil.txt"),
        ('what?<is>"this"*|.txt', "what__is__this___.txt"),
        ("  My   holiday\tphotos .zip ", "My holiday photos .zip"),
        ("file.txt.", "file.txt"),
        ("CON.txt", "_CON.txt"),
        ("con", "_con"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("COM1", "_COM1"),
        ("lpt9.log", "_lpt9.log"),
        ("Console.txt", "Console.txt"),
        (".htaccess", "htaccess"),
        ("...hidden", "hidden"),
        ("dir/", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("   \t ", "attachment"),
        (".", "attachment"),
        ("..", "attachment"),
        ("../..", "attachment"),
        ("\u202e", "attachment"),
        ("re\u0301sume\u0301.pdf", "r\u00e9sum\u00e9.pdf"),
        (
            "\u0440\u0430\u0445\u0443\u043d\u043e\u043a.pdf",
            "\u0440\u0430\u0445\u0443\u043d\u043e\u043a.pdf",
        ),
    ],
)
def test_safe_filename(name, expected):
    result = safe_filename(name)
    assert result == expected
    assert_safe(result)


def test_long_names_are_capped_keeping_the_extension():
    result = safe_filename("a" * 300 + ".pdf")
    assert len(result) == 150
    assert result.endswith("a.pdf")
    assert_safe(result)


def test_long_names_without_a_short_extension_are_cut():
    result = safe_filename("x" * 100 + "." + "y" * 100)
    assert result == "x" * 100 + "." + "y" * 49
    assert_safe(safe_filename("." * 300))
    assert_safe(safe_filename("a" * 149 + " " + "." * 10 + "b"))


def test_the_default_gets_the_sniffed_extension():
    assert safe_filename("", extension=".pdf") == "attachment.pdf"
    assert safe_filename(None, default="image", extension="png") == "image.png"
    assert safe_filename("../", default="inline", extension="/../x.y") == "inline.x.y"
    assert safe_filename("named.bin", extension=".pdf") == "named.bin"
    assert safe_filename(None, default="..") == "attachment"


# --- Sniffing ----------------------------------------------------------------------------------


def _zip(names, *, streamed=False):
    buffer = io.BytesIO()
    target = _Unseekable(buffer) if streamed else buffer
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, "<xml/>" * 50)
    return buffer.getvalue()


class _Unseekable(io.RawIOBase):
    """A write-only stream, so that zipfile writes data descriptors (flag bit 3)."""

    def __init__(self, buffer):
        self.buffer = buffer

    def writable(self):
        return True

    def write(self, data):
        return self.buffer.write(data)


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
_BMP_HEADER = b"BM" + struct.pack("<I", 58) + b"\x00\x00\x00\x00" + struct.pack("<I", 54)
_BMP = _BMP_HEADER + struct.pack("<IiiHH", 40, 1, 1, 1, 24) + b"\x00" * 28
_ICO = (
    struct.pack("<HHH", 0, 1, 1)
    + bytes([16, 16, 0, 0])
    + struct.pack("<HHII", 1, 32, 1128, 22)
    + b"\x00" * 64
)
_MESSAGE = (
    b"Return-Path: <bob@example.com>\r\n"
    b"Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n"
    b"\tby mx.example.net with ESMTPS id abc\r\n"
    b"From: Bob <bob@example.com>\r\nTo: help@example.net\r\nSubject: Printer\r\n"
    b"Date: Mon, 3 Mar 2025 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nIt broke.\r\n"
)


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00\x80\x00\x00", "", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00", "", "image/webp"),
        (_BMP, "", "image/bmp"),
        (b"II*\x00\x08\x00\x00\x00", "", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "", "image/tiff"),
        (_ICO, "", "image/vnd.microsoft.icon"),
        (_zip(["readme.txt"]), "a.docx", "application/zip"),
        (b"PK\x05\x06" + b"\x00" * 18, "", "application/zip"),
        (
            _zip(["[Content_Types].xml", "_rels/.rels", "word/document.xml"]),
            "",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            _zip(["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"]),
            "book.bin",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            _zip(["[Content_Types].xml", "ppt/presentation.xml"]),
            "",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            _zip(["[Content_Types].xml", "docProps/app.xml"], streamed=True),
            "Budget.XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            _zip(["[Content_Types].xml", "docProps/app.xml"], streamed=True),
            "x.zip",
            "application/zip",
        ),
        (_OLE, "Re_ printer.msg", "application/vnd.ms-outlook"),
        (_OLE, "old.doc", "application/msword"),
        (_OLE, "old.xls", "application/vnd.ms-excel"),
        (_OLE, "", "application/x-ole-storage"),
        (_OLE + "__substg1.0_0037001F".encode("utf-16-le"), "", "application/vnd.ms-outlook"),
        (gzip.compress(b"hello", mtime=0), "", "application/gzip"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, "", "application/x-7z-compressed"),
        (b"Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5", "", "application/vnd.rar"),
        (b"Rar!\x1a\x07\x00\xcf\x90\x73\x00", "", "application/vnd.rar"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x23TSSE", "", "audio/mpeg"),
        (b"\xff\xfb\x90\x64\x00\x00\x00\x00", "", "audio/mpeg"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "", "video/quicktime"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "", "image/heic"),
        (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", "", "audio/ogg"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00", "", "audio/wav"),
        (b"\x78\x9f\x3e\x22\x05\x01\x06\x90\x08\x00", "winmail.dat", "application/ms-tnef"),
        (
            b"-----BEGIN PGP MESSAGE-----\n\nhQEMA8ZlP5yq\n-----END PGP MESSAGE-----\n",
            "",
            "application/pgp-encrypted",
        ),
        (
            b"\n-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCAAd\n-----END PGP SIGNATURE-----\n",
            "signature.asc",
            "application/pgp-signature",
        ),
        (b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n", "", "application/pgp-keys"),
        (b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n", "", "text/plain"),
        (_MESSAGE, "forwarded.eml", "message/rfc822"),
        (b"Subject: hi\nFrom: a@example.com\n\nbody", "", "message/rfc822"),
        (b"\xef\xbb\xbf  \n<!DOCTYPE html><html><body>x</body></html>", "", "text/html"),
        (b"<HTML><body onload=alert(1)>", "", "text/html"),
        (b"\r\n<!doctype HTML>", "", "text/html"),
        (b"<script>alert(1)</script>", "", "text/html"),
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<invoice><id>1</id></invoice>',
            "",
            "application/xml",
        ),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"/>', "", "text/html"),
        ("Hello, w\u00f6rld\nSecond line\n".encode(), "", "text/plain"),
        ("Hello\n".encode("utf-16"), "", "text/plain"),
        (b"Note: this is plain\nTo: whoever\n\nbody", "", "text/plain"),
        (b"a" * 70_000 + b"\x00", "", "text/plain"),
        (b"a" * 8191 + "\u00e9".encode() + b"b", "", "text/plain"),
    ],
)
def test_sniffing_by_magic_bytes(data, filename, expected):
    assert sniff_content_type(data, filename=filename) == expected


def test_html_declared_as_an_image_is_not_an_image():
    data = b"<html><body><script>alert(1)</script></body></html>"
    assert sniff_content_type(data, declared="image/png", filename="photo.png") == "text/html"
    latin1 = "<html><body>Gr\u00fc\u00dfe</body></html>".encode("latin-1")
    assert sniff_content_type(latin1, declared="text/plain; charset=iso-8859-1") == "text/html"


def test_svg_is_never_reported_as_svg():
    # SVG is served as plain text: as image/svg+xml or application/xml a browser would run it.
    svgs = [
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><!-- x --><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg:svg xmlns:svg="x"/>',
    ]
    for data in svgs:
        result = sniff_content_type(data, declared="image/svg+xml", filename="logo.svg")
        assert result == "text/plain"


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("application/x-custom-thing", "application/x-custom-thing"),
        ("Application/Vnd.Example+Zip; name=x", "application/vnd.example+zip"),
        ("text/plain", "text/plain"),
        ("image/png", "application/octet-stream"),
        ("image/jpeg", "application/octet-stream"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        ("text/ecmascript", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("application/xml", "application/octet-stream"),
        ("", "application/octet-stream"),
        ("garbage", "application/octet-stream"),
    ],
)
def test_unknown_bytes_use_the_declared_type_only_when_harmless(declared, expected):
    data = b"\x00\x01\x02\x03binary\xfe\xff"
    assert sniff_content_type(data, declared=declared) == expected


def test_text_keeps_a_harmless_declared_text_type():
    data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    assert sniff_content_type(data, declared="text/calendar; method=REQUEST") == "text/calendar"
    assert sniff_content_type(b"a,b\n1,2\n", declared="text/csv") == "text/csv"
    assert sniff_content_type(b"just text", declared="text/html") == "text/plain"
    assert sniff_content_type(b"just text", declared="image/png") == "text/plain"


def test_only_the_first_64_kb_are_read():
    assert sniff_content_type(b"\x00" * 65_536 + b"%PDF-1.7") == "application/octet-stream"


def test_weak_magic_needs_a_plausible_header():
    assert (
        sniff_content_type(b"\x00\x00\x01\x00\x00\x00" + b"\x00" * 40) != "image/vnd.microsoft.icon"
    )
    assert sniff_content_type(b"BMW owners club newsletter") == "text/plain"


def test_utf16_without_bom_is_not_text():
    assert sniff_content_type("Hello".encode("utf-16-le")) == "application/octet-stream"
    assert sniff_content_type(codecs.BOM_UTF16_BE + "<html>".encode("utf-16-be")) == "text/html"


@pytest.mark.parametrize(
    ("content_type", "extension"),
    [
        ("application/pdf", ".pdf"),
        ("image/jpeg", ".jpg"),
        ("IMAGE/PNG; name=x", ".png"),
        ("text/plain", ".txt"),
        ("message/rfc822", ".eml"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
        ("application/vnd.ms-outlook", ".msg"),
        ("application/ms-tnef", ".dat"),
        ("application/octet-stream", ".bin"),
        ("application/xml", ".xml"),
        ("application/x-unheard-of", ""),
        ("", ""),
    ],
)
def test_extension_for(content_type, extension):
    assert extension_for(content_type) == extension
