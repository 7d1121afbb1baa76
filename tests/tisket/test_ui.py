from django.urls import reverse

from tests.factories import PASSWORD, UserFactory


def test_the_login_page_logs_in_with_email_and_lands_in_the_organization(client, acme):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'type="email"' in page.content
    response = client.post(
        "/accounts/login/", {"username": "Agent@Acme.test", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/acme/"
    assert b"Acme" in response.content


def test_a_wrong_password_says_so_and_logs_nobody_in(client, acme):
    response = client.post("/accounts/login/", {"username": "agent@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert b"do not match an active account" in response.content
    assert client.get("/acme/").status_code == 302


def test_pages_need_a_login(client, acme):
    response = client.get("/acme/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_switcher_lists_only_the_users_organizations(web, acme, globex):
    from tests.factories import MembershipFactory

    MembershipFactory(user=acme.agent.user, organization=globex.org)
    client = web(acme.agent)
    page = client.get("/acme/").content.decode()
    assert "/globex/" in page
    assert "/acme/" in page
    other = web(acme.agent2).get("/acme/").content.decode()
    assert "/globex/" not in other


def test_home_remembers_the_last_organization(web, acme, globex):
    from tests.factories import MembershipFactory

    MembershipFactory(user=acme.agent.user, organization=globex.org)
    client = web(acme.agent)
    client.get("/globex/")
    assert client.get("/")["Location"] == "/globex/"


def test_a_user_without_organization_is_told_so(client, db):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert b"not a member of any organization" in response.content


def test_another_organizations_pages_are_404(web, acme, globex):
    client = web(acme.owner)
    assert client.get("/globex/").status_code == 404
    assert client.get("/globex/members/").status_code == 404
    assert client.get("/no-such-org/").status_code == 404


def test_members_page_lists_only_this_organization(web, acme, globex):
    page = web(acme.viewer).get(reverse("org:members", args=["acme"])).content.decode()
    assert "agent@acme.test" in page
    assert "globex.test" not in page


def test_logout_is_a_post(web, acme):
    client = web(acme.agent)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/acme/").status_code == 302


def test_the_api_docs_and_schema_are_served(client, db):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/members/" in paths
    assert "tokenAuth" in schema.json()["components"]["securitySchemes"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_the_organization_home_is_the_queue_and_the_bar_counts_held_mail(web, acme, inbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inboxes.services import inbox_create
    from tests.mail import deliver, make_mail

    deliver(make_mail())
    deliver(make_mail(sender="eve@evil.test", subject="Re: [THD-ACME-001] x"))
    client = web(acme.agent)
    client.get("/acme/")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/acme/").content.decode()
    assert 'id="queue-rows"' in page and "THD-ACME-001" in page
    assert 'Quarantine <span class="count">1</span>' in page
    for n in range(4):
        inbox_create(
            organization=acme.org,
            name=f"team{n}",
            extra_addresses=[f"t{n}@acme.test"],
            outside_domain_allowed=True,
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/acme/")
    assert len(many) == len(few)
