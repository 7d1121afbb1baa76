"""The client panel: a client's page, the client companies, a company's page."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from inboxes.services import inbox_create
from sla import services as sla_services
from tests.mail import deliver, make_mail
from tickets import queues
from tisket.models import Organization


def _conversation(inbox, sender: str, subject: str):
    return deliver(make_mail(to=inbox.address, sender=sender, subject=subject)).thread


def _company(acme, name: str = "Initech", domains: tuple[str, ...] = ("initech.test",)):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    policy = sla_services.policy_create(organization=acme.org, name="Enterprise", calendar=calendar)
    return sla_services.customer_save(
        organization=acme.org, name=name, policy=policy, domains=list(domains)
    )


def test_the_clients_name_in_a_conversation_opens_their_page(acme, inbox, web):
    thread = _conversation(inbox, "Peter Gibbons <peter@initech.test>", "TPS reports")
    _conversation(inbox, "Peter Gibbons <peter@initech.test>", "Stapler")
    _conversation(inbox, "Milton <milton@initech.test>", "Not his")
    company = _company(acme)
    client = web(acme.agent)
    page = client.get(f"/acme/threads/{thread.reference}/").content.decode()
    assert 'href="/acme/clients/peter@initech.test/"' in page
    profile = client.get("/acme/clients/peter@initech.test/").content.decode()
    assert "Peter Gibbons" in profile
    assert "TPS reports" in profile and "Stapler" in profile and "Not his" not in profile
    assert f'href="/acme/clients/companies/{company.pk}/"' in profile and "Enterprise" in profile


def test_an_address_with_no_conversation_here_is_404(acme, inbox, web):
    assert web(acme.agent).get("/acme/clients/nobody@nowhere.test/").status_code == 404


def test_a_company_page_shows_its_conversations_tier_and_people(acme, inbox, web):
    company = _company(acme)
    _conversation(inbox, "Peter <peter@initech.test>", "TPS reports")
    _conversation(inbox, "Milton <MILTON@Initech.test>", "My stapler")
    _conversation(inbox, "Jane <jane@client.test>", "Someone else's")
    page = web(acme.agent).get(f"/acme/clients/companies/{company.pk}/").content.decode()
    assert "TPS reports" in page and "My stapler" in page and "Someone else" not in page
    assert 'id="company-tier"><strong>Enterprise</strong>' in page
    assert "peter@initech.test" in page and "initech.test</code>" in page
    listing = web(acme.agent).get("/acme/clients/").content.decode()
    assert f'href="/acme/clients/companies/{company.pk}/"' in listing


def test_a_company_without_a_tier_shows_the_default_policy(acme, inbox, web):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    sla_services.policy_create(
        organization=acme.org, name="Standard", calendar=calendar, is_default=True
    )
    company = sla_services.customer_save(
        organization=acme.org, name="Hooli", policy=None, domains=["hooli.test"]
    )
    page = web(acme.agent).get(f"/acme/clients/companies/{company.pk}/").content.decode()
    assert "<strong>Standard</strong>" in page and "the default policy" in page


def test_a_grouped_agent_sees_only_the_conversations_of_their_queues(acme, inbox, web):
    other = inbox_create(organization=acme.org, name="billing", auto_ack_enabled=False)
    queues.queue_create(
        organization=acme.org, name="Support", actor=None, members=[acme.agent], inboxes=[inbox]
    )
    queues.queue_create(
        organization=acme.org, name="Billing", actor=None, members=[acme.agent2], inboxes=[other]
    )
    _conversation(inbox, "Peter <peter@initech.test>", "Seen by agent")
    _conversation(other, "Peter <peter@initech.test>", "Billing only")
    only_billing = _conversation(other, "Bill <bill@initech.test>", "Bill's invoice")
    Organization.objects.filter(pk=acme.org.pk).update(restrict_agents_to_queues=True)
    company = _company(acme)
    page = web(acme.agent).get("/acme/clients/peter@initech.test/").content.decode()
    assert "Seen by agent" in page and "Billing only" not in page
    assert web(acme.agent).get("/acme/clients/bill@initech.test/").status_code == 404
    assert only_billing.client_email == "bill@initech.test"
    company_page = web(acme.agent).get(f"/acme/clients/companies/{company.pk}/").content.decode()
    assert "Seen by agent" in company_page and "Bill's invoice" not in company_page
    everything = web(acme.supervisor).get(f"/acme/clients/companies/{company.pk}/")
    assert "Bill&#x27;s invoice" in everything.content.decode()


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_client_and_company_pages_take_the_same_queries_for_few_or_many(acme, inbox, web):
    company = _company(acme)
    _conversation(inbox, "Peter <peter@initech.test>", "First")
    client = web(acme.agent)
    urls = ["/acme/clients/peter@initech.test/", f"/acme/clients/companies/{company.pk}/"]
    few = [_queries(client, url) for url in urls]
    for n in range(8):
        _conversation(inbox, "Peter <peter@initech.test>", f"More {n}")
        _conversation(inbox, f"P{n} <p{n}@initech.test>", f"Others {n}")
    assert [_queries(client, url) for url in urls] == few
