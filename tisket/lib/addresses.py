"""Email address helpers shared by routing, threading and sending."""

from email.headerregistry import Address

MAX_ADDRESS_LENGTH = 320


def address_as_written(address: str) -> str:
    """The address without brackets and blanks, its case kept: what a header shows."""
    return address.strip().strip("<>").strip()


def address_normalize(address: str) -> str:
    """The address's key: addresses compare case-insensitively, wherever they are stored."""
    return address_as_written(address).lower()


def address_split_tag(address: str) -> tuple[str, str]:
    """'support.acme+r-1a-xyz@host' -> ('support.acme@host', 'r-1a-xyz')."""
    address = address_normalize(address)
    local, at, domain = address.rpartition("@")
    if not at:
        return address, ""
    base, plus, tag = local.partition("+")
    return f"{base}@{domain}", tag if plus else ""


def address_without_tag(address: str) -> str:
    return address_split_tag(address)[0]


def address_with_tag(address: str, tag: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local}+{tag}@{domain}"


def address_is_valid(address: str) -> bool:
    """A plain addr-spec with a local part and a dotted or single-label domain, no spaces."""
    if not address or len(address) > MAX_ADDRESS_LENGTH or any(c.isspace() for c in address):
        return False
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain and "@" not in domain and ".." not in domain)


def address_format(name: str, address: str) -> str:
    """An RFC 5322 mailbox, the display name quoted or encoded as needed."""
    local, _, domain = address.rpartition("@")
    return str(Address(display_name=name or "", username=local, domain=domain))
