"""What each mail type says in the branding editor's preview and its test mail: made-up
content, of the length and shape of the real mail."""

from django.conf import settings

from tisket.lib.markdown_text import markdown_html
from tisket.lib.unsubscribe import CONVERSATION_UPDATES, DIGEST, NOTIFICATIONS, unsubscribe_url

_SITE = "https://desk.example"
_LINK = f"View this conversation online: {_SITE}/c/…"

SAMPLES: dict[str, tuple[str, str, bool]] = {
    # type: (subject, text, written in Markdown)
    "acknowledgement": (
        "[THD-ACME-042] Re: Printer on floor 3 is offline",
        "Hello Jane,\n\nWe received your message and will answer as soon as we can. Your "
        "reference is THD-ACME-042; keep it in the subject if you write again.\n\nSupport\n\n"
        + _LINK,
        True,
    ),
    "reply": (
        "[THD-ACME-042] Re: Printer on floor 3 is offline",
        "Hello Jane,\n\nThanks for the details. Please update the driver to **4.2** and try "
        "again:\n\n1. Open *Settings*\n2. Choose **Printers**\n3. Click *Update*\n\n"
        "Tell me if it still fails.\n\nSam\n\n" + _LINK,
        True,
    ),
    "status_resolved": (
        "[THD-ACME-042] Re: Printer on floor 3 is offline",
        "Your request is resolved: the printer's driver was out of date.\n\nHow did we do? "
        "[Very poor](#) · [Poor](#) · [Fair](#) · [Good](#) · [Excellent](#)\n\n" + _LINK,
        True,
    ),
    "status_waiting": (
        "[THD-ACME-042] Re: Printer on floor 3 is offline",
        "We need a word from you before we go on: which model is the printer?\n\n" + _LINK,
        True,
    ),
    "status_reopened": (
        "[THD-ACME-042] Re: Printer on floor 3 is offline",
        "We opened your request again and are on it.\n\n" + _LINK,
        True,
    ),
    "notification": (
        "THD-ACME-042: Jane Client replied",
        "Jane Client replied on THD-ACME-042 (Printer on floor 3 is offline):\n\n"
        "“It still fails after the update.”\n\n" + _SITE + "/acme/conversations/42/",
        False,
    ),
    "digest": (
        "Your digest: 3 conversations",
        "3 unread notifications.\n\nTHD-ACME-042 (breached): Jane Client replied\n"
        "THD-ACME-051 (at risk): assigned to you\nTHD-ACME-057: a note mentions you\n\n"
        + _SITE
        + "/acme/notifications/",
        False,
    ),
    "invitation": (
        "You are invited to join Acme on Tisket",
        "Sam Agent invites you to join Acme as an agent.\n\nAccept the invitation: "
        + _SITE
        + "/accounts/invitations/…/\n\nThe link works for 7 days.",
        False,
    ),
    "sign_in": (
        "Your sign-in link",
        "Sign in to Acme Help: " + _SITE + "/portal/acme/sign-in/…/\n\n"
        "The link works once, for 15 minutes. If you did not ask for it, ignore this mail.",
        False,
    ),
    "password_reset": (
        "Reset your password",
        "Someone asked to reset the password of your account.\n\nChoose a new password: "
        + _SITE
        + "/accounts/reset/…/\n\nThe link works for 60 minutes. If it was not you, ignore "
        "this mail.",
        False,
    ),
}
_CATEGORIES = {
    "notification": NOTIFICATIONS,
    "digest": DIGEST,
    "status_resolved": CONVERSATION_UPDATES,
    "status_waiting": CONVERSATION_UPDATES,
    "status_reopened": CONVERSATION_UPDATES,
}


def sample_mail(*, kind: str, organization_id: int, recipient: str) -> dict:
    """A made-up mail of this type, as the frame takes it: subject, text, html, unsubscribe."""
    subject, text, markdown = SAMPLES[kind]
    unsubscribe = ""
    if kind in _CATEGORIES:
        unsubscribe = unsubscribe_url(
            organization_id=organization_id, address=recipient, category=_CATEGORIES[kind]
        )
        what = "one of the mails you may turn off"
        text += f"\n\n--\nYou receive this as {what}.\nUnsubscribe: {unsubscribe}\n"
    html = markdown_html(text.rpartition("\n\n--\n")[0] if unsubscribe else text)
    return {
        "subject": subject,
        "text": text.replace(_SITE, settings.SITE_URL.rstrip("/")),
        "html": html.replace(_SITE, settings.SITE_URL.rstrip("/")) if markdown else "",
        "unsubscribe_url": unsubscribe,
    }
