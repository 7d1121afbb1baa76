"""One-click unsubscribe (RFC 8058): categories of optional mail, signed links, headers.

A link names an organization, an address and a category, signed; it never
expires, since a mail read a year later must still be able to stop the next.
Replies in a conversation and critical mail (security, password, an SLA
breach to its assignee) carry no link and are never held back.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "tisket.unsubscribe"

NOTIFICATIONS = "notifications"
DIGEST = "digest"
CONVERSATION_UPDATES = "conversation_updates"

CATEGORIES = {
    NOTIFICATIONS: "Notifications about your work, by email",
    DIGEST: "Digests of your work, by email",
    CONVERSATION_UPDATES: "Updates on your requests (resolved, waiting on you, reopened) "
    "and invitations to rate our help",
}


class UnsubscribeLinkError(ValueError):
    pass


@dataclass(frozen=True)
class Subscription:
    """Who, for which organization, wants or no longer wants a category of mail."""

    organization_id: int
    address: str
    category: str

    @property
    def label(self) -> str:
        return CATEGORIES[self.category]


def unsubscribe_token(*, organization_id: int, address: str, category: str) -> str:
    """The signed token of an unsubscribe link."""
    if category not in CATEGORIES:
        raise ValueError(f"Unknown mail category {category!r}.")
    value = {"o": organization_id, "a": address.strip().lower(), "c": category}
    return signing.dumps(value, salt=SALT, compress=True)


def unsubscribe_token_read(token: str) -> Subscription:
    """What a token names; UnsubscribeLinkError when it was not signed by us."""
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise UnsubscribeLinkError("This unsubscribe link is not valid.") from None
    try:
        found = Subscription(int(value["o"]), str(value["a"]), str(value["c"]))
    except (KeyError, TypeError, ValueError):
        raise UnsubscribeLinkError("This unsubscribe link is not valid.") from None
    if found.category not in CATEGORIES:
        raise UnsubscribeLinkError("This unsubscribe link is not valid.")
    return found


def unsubscribe_url(*, organization_id: int, address: str, category: str) -> str:
    """The absolute URL of the unsubscribe page for this address and category."""
    token = unsubscribe_token(organization_id=organization_id, address=address, category=category)
    path = reverse("unsubscribe:page", kwargs={"token": token})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058's pair: the link, and the promise that a POST to it is all it takes."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_footer(*, url: str, category: str) -> tuple[str, str]:
    """The footer of a mail that may be unsubscribed from, as text and as HTML."""
    what = CATEGORIES[category][0].lower() + CATEGORIES[category][1:]
    text = f"\n\n--\nYou receive this as one of: {what}.\nUnsubscribe: {url}\n"
    html = (
        '<hr><p style="font-size:12px;color:#666">You receive this as one of: '
        f'{_escape(what)}. <a href="{_escape(url)}">Unsubscribe</a></p>'
    )
    return text, html


def _escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
