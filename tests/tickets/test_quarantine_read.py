"""Reading a held mail before deciding, blocking or always allowing its sender from the page,
the list of sender rules, and the inbound log: pages, roles, query counts, tenancy."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mail import deliver, make_mail
from threads import sender_rules
from threads.models import InboundMail, SenderRule

HOSTILE = (
    '<p onclick="steal()">Please <b>pay</b> now</p><script>alert(1)</script>'
    '<img src="https://tracker.evil.test/pixel.gif" onerror="alert(2)">'
    '<a href="javascript:alert(3)">here</a>'
)


def hold(inbox, n: int = 1, sender: str = "eve@evil.test", **kwargs):
    first = deliver(make_mail(to=inbox.address, message_id=f"<q{n}@client.test>"))
    return deliver(
        make_mail(
            to=inbox.address,
            sender=sender,
            subject=f"Re: [{first.thread.reference}] invoice {n}",
            message_id=f"<held{n}@evil.test>",
            **kwargs,
        )
    ).inbound


def test_an_agent_reads_a_held_mail_in_the_sandboxed_frame(acme, inbox, web):
    held = hold(inbox, html=HOSTILE, attachments=[("invoice.pdf", "application/pdf", b"%PDF")])
    page = web(acme.agent).get(f"/acme/quarantine/{held.pk}/").content.decode()
    assert "eve@evil.test" in page and "invoice 1" in page and held.reason in page
    assert f'src="/acme/quarantine/{held.pk}/body/"' in page
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert "invoice.pdf" in page
    assert "<script>alert" not in page and "pay</b>" not in page  # the body is not in the page


def test_the_held_body_is_sanitized_under_the_bodys_strict_policy(acme, inbox, web):
    held = hold(inbox, html=HOSTILE)
    response = web(acme.agent).get(f"/acme/quarantine/{held.pk}/body/")
    body = response.content.decode()
    assert "<b>pay</b>" in body
    for bad in ("<script", "onclick", "onerror", "javascript:", "tracker.evil.test"):
        assert bad not in body, bad
    policy = response["Content-Security-Policy"]
    assert "sandbox allow-popups" in policy and "default-src 'none'" in policy
    assert "https:" not in policy  # no remote images for held mail
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_unreadable_bytes_say_so_rather_than_break_the_page(acme, inbox, web):
    held = hold(inbox)
    InboundMail.objects.filter(pk=held.pk).update(raw_data=b"\xff\xfe\x00garbage")
    assert web(acme.agent).get(f"/acme/quarantine/{held.pk}/").status_code == 200


def test_viewers_do_not_read_and_agents_read_held_mail_only(acme, inbox, web):
    held = hold(inbox)
    assert web(acme.viewer).get(f"/acme/quarantine/{held.pk}/").status_code == 403
    accepted = deliver(make_mail(to=inbox.address, message_id="<fine@client.test>")).inbound
    assert web(acme.agent).get(f"/acme/quarantine/{accepted.pk}/").status_code == 404
    assert web(acme.admin).get(f"/acme/quarantine/{accepted.pk}/").status_code == 200


def test_a_supervisor_blocks_the_sender_from_the_page(acme, inbox, web):
    held = hold(inbox)
    page = web(acme.supervisor).get(f"/acme/quarantine/{held.pk}/").content.decode()
    assert "Block sender" in page and "Always allow" in page
    response = web(acme.supervisor).post(
        f"/acme/quarantine/{held.pk}/block/", {"scope": "domain", "action": "refuse"}, follow=True
    )
    assert "Blocked @evil.test: their mail is refused" in response.content.decode()
    rule = SenderRule.objects.get(organization=acme.org)
    assert (rule.kind, rule.pattern, rule.action) == ("block", "@evil.test", "refuse")
    assert InboundMail.objects.get(pk=held.pk).status == "discarded"


def test_agents_decide_on_the_mail_but_make_no_rule(acme, inbox, web):
    held = hold(inbox)
    page = web(acme.agent).get(f"/acme/quarantine/{held.pk}/").content.decode()
    assert "Release" in page and "Block sender" not in page
    assert web(acme.agent).post(f"/acme/quarantine/{held.pk}/block/").status_code == 403
    assert web(acme.agent).post(f"/acme/quarantine/{held.pk}/allow/").status_code == 403
    assert web(acme.agent).get("/acme/quarantine/rules/").status_code == 403
    assert not SenderRule.objects.exists()


def test_a_supervisor_always_allows_the_sender_and_the_mail_goes_in(acme, inbox, web):
    held = hold(inbox)
    response = web(acme.supervisor).post(
        f"/acme/quarantine/{held.pk}/allow/", {"scope": "address"}, follow=True
    )
    assert "no longer held" in response.content.decode()
    assert InboundMail.objects.get(pk=held.pk).status == "accepted"
    assert SenderRule.objects.get(organization=acme.org).pattern == "eve@evil.test"


def test_a_members_unauthenticated_mail_offers_no_allowance(acme, inbox, web):
    held = hold(inbox, sender=acme.agent.user.email)
    client = web(acme.admin)
    page = client.get(f"/acme/quarantine/{held.pk}/").content.decode()
    assert "no rule can skip that check" in page
    response = client.post(f"/acme/quarantine/{held.pk}/allow/", follow=True)
    assert "no rule can skip that check" in response.content.decode()
    assert InboundMail.objects.get(pk=held.pk).status == "quarantined"


def test_the_rules_list_adds_shows_and_removes_rules(acme, globex, web):
    sender_rules.sender_rule_set(
        organization=globex.org, kind="block", pattern="@theirs.test", actor=None
    )
    client = web(acme.supervisor)
    response = client.post(
        "/acme/quarantine/rules/",
        {"pattern": "spam.test", "kind": "block", "action": "refuse", "note": "invoices scam"},
        follow=True,
    )
    page = response.content.decode()
    assert "anyone at spam.test" in page and "invoices scam" in page and "refused" in page
    assert "theirs.test" not in page
    bad = client.post("/acme/quarantine/rules/", {"pattern": "not a domain", "kind": "block"})
    assert bad.status_code == 400 and "neither an address nor a domain" in bad.content.decode()
    assert 'value="not a domain"' in bad.content.decode()  # what was typed is kept
    rule = SenderRule.objects.get(organization=acme.org)
    client.post(f"/acme/quarantine/rules/{rule.pk}/remove/")
    assert not SenderRule.objects.filter(organization=acme.org).exists()


def test_the_rules_list_takes_the_same_queries_for_few_or_many(acme, web):
    client = web(acme.supervisor)
    sender_rules.sender_rule_set(
        organization=acme.org, kind="allow", pattern="a0@x.test", actor=acme.admin
    )
    client.get("/acme/quarantine/rules/")
    with CaptureQueriesContext(connection) as few:
        client.get("/acme/quarantine/rules/")
    for n in range(1, 12):
        sender_rules.sender_rule_set(
            organization=acme.org, kind="block", pattern=f"a{n}@x.test", actor=acme.supervisor
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get("/acme/quarantine/rules/").content.decode().count("Remove<") == 12
    assert len(many) == len(few)


def test_another_organizations_held_mail_and_rules_are_not_found(acme, globex, globex_inbox, web):
    theirs = hold(globex_inbox)
    rule = sender_rules.sender_rule_set(
        organization=globex.org, kind="block", pattern="@theirs.test", actor=None
    )
    client = web(acme.admin)
    for path in ("", "body/"):
        assert client.get(f"/acme/quarantine/{theirs.pk}/{path}").status_code == 404
    for path in ("block/", "allow/"):
        assert client.post(f"/acme/quarantine/{theirs.pk}/{path}").status_code == 404
    assert client.post(f"/acme/quarantine/rules/{rule.pk}/remove/").status_code == 404
    assert SenderRule.objects.filter(pk=rule.pk).exists()
    assert InboundMail.objects.get(pk=theirs.pk).status == "quarantined"
