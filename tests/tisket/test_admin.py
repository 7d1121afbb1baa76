import pytest
from django.contrib import admin
from django.urls import reverse

from tests.conftest import api_client
from tests.factories import UserFactory
from tisket.models import ApiToken


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_changelist_and_add_page_loads_with_filters_and_search(
    superuser_client, acme, model
):
    info = (model._meta.app_label, model._meta.model_name)
    response = superuser_client.get(reverse(f"admin:{info[0]}_{info[1]}_changelist"), {"q": "acme"})
    assert response.status_code == 200
    model_admin = admin.site._registry[model]
    if model._meta.app_label == "tisket" and model.__name__ not in {"Organization"}:
        assert model_admin.list_filter, f"{model.__name__} admin has no filters"
    if model_admin.has_add_permission(response.wsgi_request):
        assert superuser_client.get(reverse(f"admin:{info[0]}_{info[1]}_add")).status_code == 200


def test_admin_creates_a_token_and_shows_the_key_once(superuser_client, acme):
    response = superuser_client.post(
        reverse("admin:tisket_apitoken_add"),
        {"membership": acme.agent.pk, "name": "from admin", "role": ""},
        follow=True,
    )
    assert response.status_code == 200
    message = next(str(m) for m in response.context["messages"] if "tsk_" in str(m))
    key = message.rsplit(" ", 1)[1]
    token = ApiToken.objects.get(name="from admin")
    assert key.startswith(token.prefix)
    client = api_client(acme.agent)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 200


def test_admin_revoke_action(superuser_client, acme):
    client = api_client(acme.agent)
    token = ApiToken.objects.get()
    superuser_client.post(
        reverse("admin:tisket_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert client.get("/api/v1/me/").status_code == 401


def test_non_staff_members_cannot_use_admin(client, acme):
    client.force_login(acme.owner.user)
    assert client.get("/admin/").status_code == 302


def test_admin_revokes_pending_invitations(superuser_client, acme):
    from tisket import invitations
    from tisket.models import Invitation

    invitation, _ = invitations.invitation_create(
        organization=acme.org, email="new@acme.test", role="agent", actor=None
    )
    response = superuser_client.post(
        reverse("admin:tisket_invitation_changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None


def test_admin_sends_failed_mail_again_and_says_which_it_refused(superuser_client, acme, inbox):
    from tests.mail import deliver, make_mail
    from threads.models import OutboundMail, Thread
    from threads.outbound import reply_send_skipping_ticket

    deliver(make_mail())
    thread = Thread.objects.get()
    _, failed = reply_send_skipping_ticket(thread=thread, author=acme.agent, body="One")
    _, pending = reply_send_skipping_ticket(thread=thread, author=acme.agent, body="Two")
    OutboundMail.objects.filter(pk=failed.pk).update(
        status=OutboundMail.Status.FAILED, attempts=5, last_error="550 No such user"
    )

    response = superuser_client.post(
        "/admin/threads/outboundmail/",
        {"action": "send_again", "_selected_action": [failed.pk, pending.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "Queued 1 mail(s) again." in page
    assert f"#{pending.pk}: This mail is pending" in page
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "")
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_failed_mail_is_listed_with_its_reason_and_shows_its_raw_bytes(superuser_client, inbox):
    from threads.inbound import inbound_record
    from threads.models import InboundMail

    raw = b"From: a@x.test\r\nSubject: broken\r\n\r\n<script>x</script> caf\xe9 \x00 end"
    mail, _ = inbound_record(raw=raw, source="test", recipient=inbox.address)
    InboundMail.objects.filter(pk=mail.pk).update(
        status=InboundMail.Status.FAILED, reason="ValueError: boom"
    )
    listing = superuser_client.get(
        reverse("admin:threads_inboundmail_changelist"), {"status__exact": "failed"}
    )
    assert b"ValueError: boom" in listing.content
    page = superuser_client.get(reverse("admin:threads_inboundmail_change", args=[mail.pk]))
    assert b"&lt;script&gt;x&lt;/script&gt; caf\\xe9 \x00 end" in page.content
