"""A DNS server on 127.0.0.1 as the installation's resolver, and the records an admin publishes."""

import pytest

from inboxes.models import MailDomain
from tests.dns import Zone, dns_server

MX_HOST = "mx.in.tisket.test"


@pytest.fixture
def zone(settings):
    with dns_server() as (zone, address):
        settings.TISKET_DNS_SERVERS = [address]
        settings.TISKET_DOMAIN_CHECK_DEADLINE = 3
        settings.TISKET_INBOUND_MX_HOSTS = [MX_HOST]
        settings.TISKET_SPF_INCLUDE = "spf.relay.test"
        zone.address = address
        yield zone


def publish(zone: Zone, domain: MailDomain, *, mx: bool = True) -> None:
    """Every record a careful admin publishes."""
    zone.txt[domain.ownership_record_name] = domain.ownership_record_value
    zone.txt[domain.dkim_record_name] = MailDomain.dkim_record_value(domain.dkim_public)
    zone.txt[domain.name] = "v=spf1 include:spf.relay.test ~all"
    zone.txt[f"_dmarc.{domain.name}"] = "v=DMARC1; p=quarantine; rua=mailto:d@clientcorp.com"
    if mx:
        zone.mx[domain.name] = [MX_HOST]
