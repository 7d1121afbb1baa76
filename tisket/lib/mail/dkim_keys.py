"""DKIM keys of a sending domain: RSA 2048 made here, mail signed with dkimpy."""

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# What a reply's signature covers: the headers a forger would change.
SIGNED_HEADERS = (
    b"from",
    b"reply-to",
    b"subject",
    b"date",
    b"to",
    b"cc",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"mime-version",
    b"content-type",
    b"auto-submitted",
)


def dkim_key_make() -> tuple[str, str]:
    """A new key: (private key in PEM, public key as the base64 of the DNS record's p=)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public).decode()


def dkim_signature(raw: bytes, *, domain: str, selector: str, private_pem: str) -> bytes:
    """The DKIM-Signature header line (with its CRLF) to put on top of the raw mail."""
    return dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        private_pem.encode(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[h for h in SIGNED_HEADERS if _has_header(raw, h)] or [b"from"],
    )


def _has_header(raw: bytes, name: bytes) -> bool:
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    return head.startswith(name + b":") or b"\n" + name + b":" in head
