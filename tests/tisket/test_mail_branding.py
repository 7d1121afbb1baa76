"""The mail branding page: saving, hostile wording refused, the preview and the test mail."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail as django_mail

from threads.models import OutboundMail
from tisket.branding.models import MailBranding
from tisket.branding.types import MAIL_TYPES

PAGE = "/acme/settings/branding/"


def form_data(**changes) -> dict:
    data = {
        "colour": "#1d7a5f",
        "sender_name": "Acme Care",
        "postal_address": "1 Main Street\n75001 Paris",
        "preview_type": "acknowledgement",
    }
    data |= {f"wording_{t.key}": t.default for t in MAIL_TYPES.values()}
    return data | changes


def test_an_admin_saves_the_branding_and_it_is_audited(acme, web):
    response = web(acme.admin).post(PAGE, form_data(wording_digest="Your day, {{ sender_name }}"))
    assert response.status_code == 302
    branding = MailBranding.objects.get(organization=acme.org)
    assert (branding.colour, branding.sender_name) == ("#1d7a5f", "Acme Care")
    assert branding.postal_address == "1 Main Street\n75001 Paris"
    assert branding.wording["digest"] == "Your day, {{ sender_name }}"
    page = web(acme.admin).get(PAGE).content.decode()
    assert 'value="Acme Care"' in page and "Your day, {{ sender_name }}" in page


@pytest.mark.parametrize(
    "wording",
    [
        "{% include 'secrets.txt' %}",
        "{{ settings.SECRET_KEY }}",
        "{{ organization.name|safe }}",
        "{{ organization.name.__class__ }}",
        "{# hidden #}",
        "Two\nlines",
        "x" * 301,
        "{{ recipient",
    ],
)
def test_hostile_wording_is_refused_on_save_and_in_the_preview(acme, web, wording):
    client = web(acme.admin)
    response = client.post(PAGE, form_data(wording_notification=wording))
    assert response.status_code == 200 and b"field-error" in response.content
    assert not MailBranding.objects.filter(organization=acme.org).exists()
    preview = client.post(f"{PAGE}preview/", form_data(wording_notification=wording))
    assert preview.status_code == 200 and b"iframe" not in preview.content


@pytest.mark.parametrize(
    ("field", "value"),
    [("colour", "red;background:url(x)"), ("sender_name", "Evil\r\nBcc: all@example.com")],
)
def test_a_bad_colour_or_sender_name_is_refused(acme, web, field, value):
    response = web(acme.admin).post(PAGE, form_data(**{field: value}))
    assert response.status_code == 200 and b"field-error" in response.content


def test_markup_in_wording_is_shown_as_text(acme, web):
    client = web(acme.admin)
    client.post(PAGE, form_data(wording_acknowledgement="<script>alert(1)</script>"))
    html = client.get(f"{PAGE}mail/?type=acknowledgement").content.decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _frame_src(content: bytes) -> str:
    return re.search(r'class="mail-preview-frame"[^>]*src="([^"]+)"', content.decode())[1]


def test_the_preview_shows_what_is_typed_without_saving_it(acme, web):
    client = web(acme.admin)
    preview = client.post(
        f"{PAGE}preview/", form_data(sender_name="Draft Name", preview_type="status_resolved")
    )
    assert preview.status_code == 200 and b"Draft Name" in preview.content  # the text part
    src = _frame_src(preview.content).replace("&amp;", "&")
    response = client.get(src)
    html = response.content.decode()
    assert response.status_code == 200 and "Draft Name" in html and "#1d7a5f" in html
    assert "Your request is resolved" in html and "Unsubscribe" in html
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox") and "script-src" not in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert not MailBranding.objects.filter(organization=acme.org).exists()
    # A draft is signed: tampered, it is a 400; another organization's, a 404.
    draft = parse_qs(urlsplit(src).query)["draft"][0]
    assert client.get(f"{PAGE}mail/?type=reply&draft={draft}x").status_code == 400
    assert client.get(f"{PAGE}mail/?type=nope").status_code == 400


def test_a_draft_of_another_organization_is_not_shown(acme, globex, web):
    preview = web(globex.admin).post("/globex/settings/branding/preview/", form_data())
    src = _frame_src(preview.content).replace("&amp;", "&")
    draft = parse_qs(urlsplit(src).query)["draft"][0]
    response = web(acme.admin).get(f"{PAGE}mail/?type=reply&draft={draft}")
    assert response.status_code == 404


def test_send_me_a_test_mails_the_admin_the_preview_and_saves_nothing(
    acme, web, django_capture_on_commit_callbacks
):
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = web(acme.admin).post(
            PAGE, form_data(action="test", sender_name="Test Name", preview_type="digest")
        )
    assert response.status_code == 200 and b"on its way" in response.content
    assert not MailBranding.objects.filter(organization=acme.org).exists()
    [sent] = django_mail.outbox
    assert sent.to == [acme.admin.user.email]
    assert sent.subject == "[Test] Your digest: 3 conversations"
    html = sent.alternatives[0][0]
    assert "Test Name" in html and "Your daily digest" in html
    assert OutboundMail.objects.get().mail_type == "test"


def test_only_admins_reach_the_page(acme, web):
    assert web(acme.agent).get(PAGE).status_code == 403
    assert web(acme.admin).get(PAGE).status_code == 200


def test_the_page_and_its_frame_take_a_constant_number_of_queries(
    acme, web, django_assert_max_num_queries
):
    client = web(acme.admin)
    client.post(PAGE, form_data())
    with django_assert_max_num_queries(14):
        assert client.get(PAGE).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"{PAGE}mail/?type=digest").status_code == 200
