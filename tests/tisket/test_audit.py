"""The audit log: a row per audited action, append-only, no secret in it, browsed and exported."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.utils import timezone

from tests.conftest import api_client
from tests.factories import PASSWORD
from tisket import invitations
from tisket.audit import Action, audit_record, audit_sweep
from tisket.models import AuditEvent

SECRET = "hunter2-sup3r-secret"


def _actions(org) -> list[str]:
    return list(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))


def test_sign_ins_and_failures_are_recorded_in_each_organization_of_the_person(acme, globex):
    from tisket.models import Membership

    Membership.objects.create(user=acme.agent.user, organization=globex.org, role="viewer")
    client = Client()
    client.post("/accounts/login/", {"username": "agent@acme.test", "password": "wrong"})
    client.post("/accounts/login/", {"username": "agent@acme.test", "password": PASSWORD})
    for org in (acme.org, globex.org):
        assert sorted(_actions(org)) == [Action.LOGIN, Action.LOGIN_FAILED]
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).first()
    assert failed.actor is None and failed.target_label == "agent@acme.test"
    assert "wrong" not in json.dumps(failed.data)
    # A failure for an unknown address belongs to no organization, and names nobody.
    client.post("/accounts/login/", {"username": "ghost@acme.test", "password": "x"})
    assert not AuditEvent.objects.filter(target_label="ghost@acme.test").exists()


def test_members_roles_and_invitations_are_recorded(acme, web):
    client = web(acme.owner)
    client.post(f"/acme/settings/members/{acme.agent.pk}/role/", {"role": "supervisor"})
    client.post(f"/acme/settings/members/{acme.agent2.pk}/remove/")
    invitation, _ = invitations.invitation_create(
        organization=acme.org, email="new@example.test", role="agent", actor=acme.owner
    )
    invitations.invitation_revoke(invitation=invitation, actor=acme.owner)
    role = AuditEvent.objects.get(action=Action.MEMBER_ROLE_CHANGED)
    assert (role.actor, role.target_label, role.data) == (
        acme.owner.user,
        "agent@acme.test",
        {"from": "agent", "to": "supervisor"},
    )
    assert role.ip == "127.0.0.1"
    assert {Action.MEMBER_REMOVED, Action.MEMBER_INVITED, Action.MEMBER_INVITATION_REVOKED} <= set(
        _actions(acme.org)
    )


def test_tokens_are_recorded_with_the_token_that_acted(acme):
    client = api_client(acme.admin)  # creating this token is an event too
    created = client.post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    client.delete(f"/api/v1/tokens/{created['id']}/")
    revoked = AuditEvent.objects.get(action=Action.TOKEN_REVOKED)
    assert revoked.actor_label == "admin@acme.test (API token “test”)"
    assert revoked.target_label.startswith("ci (")
    assert _actions(acme.org).count(Action.TOKEN_CREATED) == 2
    assert created["key"] not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_settings_changes_are_recorded_and_never_their_secrets(acme, inbox):
    from inboxes.services import inbox_update
    from inboxes.transports import inbox_transport_set
    from sla import services as sla

    inbox_update(inbox=inbox, color="#ff0000", auto_ack_text="Thanks")
    inbox_transport_set(
        inbox=inbox,
        transport="smtp",
        smtp_host="smtp.example.com",
        smtp_username="desk",
        smtp_password=SECRET,
    )
    inbox_transport_set(
        inbox=inbox, transport="esp", esp_name="postmark", esp_settings={"server_token": SECRET}
    )
    calendar = sla.calendar_create(organization=acme.org, name="Office")
    sla.policy_create(organization=acme.org, name="Gold", calendar=calendar)
    audit_record(organization=acme.org, action="test.direct", data={"smtp_password": SECRET})

    actions = _actions(acme.org)
    assert actions.count(Action.INBOX_CHANGED) == 3
    assert actions.count(Action.SLA_CHANGED) == 2
    changed = AuditEvent.objects.filter(action=Action.INBOX_CHANGED).order_by("id")
    assert sorted(changed[0].data["fields"]) == ["auto_ack_text", "color"]
    assert changed[1].data["login_details"] == "replaced"
    everything = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert SECRET not in everything
    assert AuditEvent.objects.get(action="test.direct").data == {"smtp_password": "[hidden]"}


def test_quarantine_decisions_and_lifted_suppressions_are_recorded(acme, inbox):
    from tests.mail import deliver, make_mail
    from threads.inbound import quarantine_discard
    from threads.models import Suppression
    from threads.outbound.tracking import suppression_lift

    first = deliver(make_mail(to=inbox.address))
    held = deliver(
        make_mail(
            to=inbox.address,
            sender="eve@evil.test",
            subject=f"Re: [{first.thread.reference}] x",
        )
    )
    quarantine_discard(inbound=held.inbound, actor=acme.agent)
    suppression = Suppression.objects.create(
        organization=acme.org,
        address="gone@example.test",
        reason="bounced",
        until=timezone.now() + timedelta(days=60),
    )
    suppression_lift(suppression=suppression, actor=acme.admin)
    discarded = AuditEvent.objects.get(action=Action.QUARANTINE_DISCARDED)
    assert discarded.actor == acme.agent.user and "eve@evil.test" in discarded.target_label
    assert AuditEvent.objects.get(action=Action.SUPPRESSION_LIFTED).target_label == (
        "gone@example.test"
    )


def test_events_are_append_only(acme):
    event = audit_record(organization=acme.org, action=Action.LOGIN, actor=acme.agent)
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError):
        event.delete()
    event.action = "x"
    with pytest.raises(TypeError):
        event.save()
    model_admin = site._registry[AuditEvent]
    assert not model_admin.has_change_permission(None, event)
    assert not model_admin.has_delete_permission(None, event)
    assert not model_admin.has_add_permission(None)
    assert AuditEvent.objects.get(pk=event.pk).action == Action.LOGIN


def test_the_retention_sweep_removes_old_events_only(acme, settings):
    now = timezone.now()
    old = audit_record(organization=acme.org, action="a.old", at=now - timedelta(days=400))
    recent = audit_record(organization=acme.org, action="a.new", at=now - timedelta(days=10))
    settings.TISKET_AUDIT_RETENTION_DAYS = 0
    assert audit_sweep() == 0
    settings.TISKET_AUDIT_RETENTION_DAYS = 365
    assert audit_sweep(batch=1) == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


# --- Reading it ----------------------------------------------------------------------------


def _events(acme, count: int) -> None:
    for n in range(count):
        audit_record(
            organization=acme.org,
            action=Action.MEMBER_ROLE_CHANGED if n % 2 else Action.TOKEN_CREATED,
            actor=acme.admin,
            target=acme.agent.user,
            data={"n": n},
        )


def test_admins_browse_and_filter_the_log(acme, web):
    _events(acme, 6)
    client = web(acme.admin)
    page = client.get("/acme/settings/audit/")
    assert page.status_code == 200
    assert page.content.count(b'title="member.role_changed"') == 3
    only = client.get("/acme/settings/audit/", {"action": "token", "actor": "admin@"})
    assert only.content.count(b'title="token.created"') == 3
    assert b'title="member.role_changed"' not in only.content
    assert web(acme.agent).get("/acme/settings/audit/").status_code == 403


def test_the_page_pages_with_a_constant_number_of_queries(acme, web, django_assert_max_num_queries):
    _events(acme, 60)
    client = web(acme.admin)
    first = client.get("/acme/settings/audit/")
    assert b"Older entries" in first.content
    with django_assert_max_num_queries(12):
        client.get("/acme/settings/audit/")


def test_the_export_is_csv_recorded_and_safe_in_a_spreadsheet(acme, web):
    audit_record(organization=acme.org, action="x.y", target_label="=HYPERLINK(1)")
    response = web(acme.admin).get("/acme/settings/audit/export.csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["time (UTC)", "action", "actor"]
    assert [rows[-1][1], rows[-1][3]] == ["x.y", "'=HYPERLINK(1)"]
    assert AuditEvent.objects.filter(action=Action.AUDIT_EXPORTED, organization=acme.org).exists()


def test_the_api_lists_filters_and_refuses_non_admins(acme, django_assert_max_num_queries):
    client = api_client(acme.admin)
    _events(acme, 30)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/audit/", {"page_size": 50})
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 31  # and the token's own creation
    assert body["results"][0]["target"]["label"] == "agent@acme.test"
    filtered = client.get("/api/v1/audit/", {"action": "member.role_changed"}).json()
    assert {e["action"] for e in filtered["results"]} == {Action.MEMBER_ROLE_CHANGED}
    bad = client.get("/api/v1/audit/", {"since": "yesterday"})
    assert bad.status_code == 400
    assert "wrong format" in bad.json()["since"][0]
    assert api_client(acme.agent).get("/api/v1/audit/").status_code == 403


def test_the_api_shows_nothing_of_another_organization(acme, globex):
    audit_record(organization=globex.org, action=Action.LOGIN, actor=globex.owner)
    results = api_client(acme.admin).get("/api/v1/audit/").json()["results"]
    assert all("globex" not in json.dumps(e) for e in results)


def test_queue_membership_changes_are_recorded(acme, web):
    from tickets.queues import queue_create, queue_set_members

    queue = queue_create(organization=acme.org, name="Billing", actor=acme.supervisor)
    queue_set_members(queue=queue, members=[acme.agent])
    queue_set_members(queue=queue, members=[acme.agent2])
    changes = [
        e.data for e in AuditEvent.objects.filter(action=Action.QUEUE_CHANGED).order_by("id")
    ]
    assert changes == [
        {"change": "created"},
        {"change": "members", "added": ["agent@acme.test"], "removed": []},
        {"change": "members", "added": ["agent2@acme.test"], "removed": ["agent@acme.test"]},
    ]


def test_who_may_read_knowledge_base_content_is_recorded_when_it_changes(acme):
    from kb import services as kb

    category = kb.category_create(organization=acme.org, actor=acme.admin, name="Billing")
    article = kb.article_create(
        organization=acme.org, actor=acme.admin, title="Refunds", body="How refunds work."
    )
    kb.article_update(article=article, actor=acme.admin, title="Refunds, step by step")
    assert not AuditEvent.objects.filter(action=Action.KB_ACCESS_CHANGED).exists()
    kb.article_update(article=article, actor=acme.admin, visibility="role", min_role="agent")
    kb.category_update(category=category, actor=acme.owner, visibility="members")
    article_event, category_event = AuditEvent.objects.filter(
        action=Action.KB_ACCESS_CHANGED
    ).order_by("id")
    assert article_event.actor == acme.admin.user
    assert article_event.data == {
        "from": {"visibility": "public", "min_role": "viewer"},
        "to": {"visibility": "role", "min_role": "agent"},
    }
    assert (category_event.actor, category_event.target_label) == (acme.owner.user, "Billing")


def test_odd_cursors_and_periods_are_ignored_not_a_500(acme, web):
    client = web(acme.owner)
    for odd in ("²", "٣", "-1", "9" * 30):
        assert client.get("/acme/settings/audit/", {"before": odd}).status_code == 200
        assert client.get("/acme/kb/report/", {"days": odd}).status_code == 200
