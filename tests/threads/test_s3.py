"""Attachments and large raw mail on S3, against a local S3-compatible server (moto)."""

import socket
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import api_client
from tests.mail import deliver, make_mail

BUCKET = "tisket-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_attachments_go_to_the_bucket_under_the_organizations_prefix(s3, acme, inbox):
    data = b"%PDF-1.4\n" + b"1" * 5000
    result = deliver(make_mail(attachments=[("../../invoice.pdf", "application/pdf", data)]))
    attachment = result.message.attachments.get()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [attachment.file.name]
    assert keys[0].startswith(f"org-{acme.org.pk}/attachments/")
    assert s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read() == data

    response = api_client(acme.agent).get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response.status_code == 302
    signed = response["Location"]
    assert "Signature" in signed or "X-Amz-Signature" in signed
    with urllib.request.urlopen(signed, timeout=10) as download:  # noqa: S310 (local server)
        assert download.read() == data
        assert "attachment" in download.headers["Content-Disposition"]
        assert "invoice.pdf" in download.headers["Content-Disposition"]


def test_large_raw_mail_is_kept_in_the_bucket(s3, inbox, settings):
    settings.TISKET_INBOUND_INLINE_MAX_BYTES = 1000
    result = deliver(make_mail(body="x" * 5000))
    assert result.inbound.raw_file.name.startswith("inbound/")
    assert result.inbound.raw_bytes().startswith(b"From: Jane Client")
    assert result.message.text.startswith("xxx")
