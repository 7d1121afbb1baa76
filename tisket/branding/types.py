"""The types of mail we send, and what an admin may write for each: one line of wording,
the heading of the mail (for an agent's reply, its footer line), variables only."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from tisket.lib.templating import TemplateError, template_check, template_help, template_render

WORDING_VARIABLES = ("organization.name", "sender_name", "recipient")
WORDING_MAX_CHARS = 300


@dataclass(frozen=True)
class MailType:
    key: str
    label: str
    default: str
    # Optional mail: it carries RFC 8058's headers and an unsubscribe link in its footer.
    optional: bool = False


MAIL_TYPES: dict[str, MailType] = {
    t.key: t
    for t in (
        MailType(
            "acknowledgement", "Acknowledgement", "Thanks for writing to {{ organization.name }}"
        ),
        MailType("reply", "Agent reply", ""),
        MailType("status_resolved", "Resolved (with rating)", "Your request is resolved", True),
        MailType("status_waiting", "Waiting on you", "We need a word from you", True),
        MailType("status_reopened", "Reopened", "Your request is open again", True),
        MailType("notification", "Notification to a member", "News from your desk", True),
        MailType("digest", "Daily digest", "Your daily digest", True),
        MailType("invitation", "Invitation", "You are invited to {{ organization.name }}"),
        MailType("sign_in", "Portal sign-in link", "Your sign-in link"),
        MailType("password_reset", "Password reset", "Reset your password"),
    )
}
# Mail types with no wording of their own: the nearest one's.
FALLBACK = {"status": "notification", "test": "notification", "": "notification"}


def mail_type(key: str) -> MailType:
    return MAIL_TYPES.get(key) or MAIL_TYPES[FALLBACK.get(key, "notification")]


def wording_help() -> str:
    return template_help(variables=WORDING_VARIABLES)


def validate_wording(value: str) -> None:
    """Refuse wording that is more than one line of text and variables with known filters."""
    if len(value) > WORDING_MAX_CHARS:
        raise ValidationError(f"Keep it under {WORDING_MAX_CHARS} characters.")
    if "\n" in value or "\r" in value:
        raise ValidationError("One line only.")
    try:
        template_check(value, variables=WORDING_VARIABLES)
    except TemplateError as error:
        raise ValidationError(str(error)) from None


def wording_render(source: str, *, organization_name: str, sender_name: str, recipient: str) -> str:
    """The wording with its variables filled; a text stored past the checks renders as written."""
    return template_render(
        source,
        values={
            "organization": {"name": organization_name},
            "sender_name": sender_name,
            "recipient": recipient,
        },
    )[:WORDING_MAX_CHARS]
