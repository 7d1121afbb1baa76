"""What a request says about where it came from."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address the request came from; behind our proxy, the one it saw connect to it."""
    if settings.TISKET_BEHIND_PROXY:
        # Only the last hop is our proxy's word; anything before it the client wrote.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def address_block(address: str) -> str:
    """What a limit per client address counts by: an IPv4 address, or an IPv6 address's /64.

    One host is handed a whole /64 (RFC 4291's interface identifiers): counted by its
    single addresses, it would be counted never.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))
