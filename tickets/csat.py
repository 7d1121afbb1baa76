"""Client satisfaction: a signed link per resolution, and one rating per resolution."""

from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction

from tickets import events, notifications
from tickets.models import Rating, Ticket
from tisket.errors import ConflictError, TisketError
from tisket.models import Notification
from tisket.notifications.matrix import Event

SALT = "tisket.csat"
LINK_LIFETIME = timedelta(days=30)


class RatingLinkError(TisketError):
    pass


def csat_token(*, ticket: Ticket) -> str:
    """The token of the rating link for the ticket's current resolution."""
    return signing.TimestampSigner(salt=SALT).sign(f"{ticket.pk}.{ticket.reopen_count}")


def csat_ticket(*, token: str) -> tuple[Ticket, int]:
    """The ticket and resolution a token rates; a clear error when it cannot."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=LINK_LIFETIME)
    except signing.SignatureExpired:
        raise RatingLinkError("This rating link has expired.") from None
    except signing.BadSignature:
        raise RatingLinkError("This rating link is not valid.") from None
    ticket_id, resolution = (int(part) for part in value.split("."))
    ticket = Ticket.objects.filter(pk=ticket_id).select_related("organization").first()
    if ticket is None:
        raise RatingLinkError("This rating link is not valid.")
    if ticket.reopen_count != resolution or ticket.status not in (
        Ticket.Status.RESOLVED,
        Ticket.Status.CLOSED,
    ):
        raise RatingLinkError(
            "This conversation was reopened since; it can be rated once resolved."
        )
    return ticket, resolution


@transaction.atomic
def csat_record(*, token: str, score: int, comment: str = "") -> Rating:
    """Record the client's rating of a resolution, once."""
    if not 1 <= score <= 5:
        raise TisketError("A rating is a whole number from 1 to 5.")
    ticket, resolution = csat_ticket(token=token)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                ticket=ticket, resolution=resolution, score=score, comment=comment.strip()[:5000]
            )
    except IntegrityError:
        raise ConflictError("This resolution was rated already; thank you.") from None
    events.ticket_rated_event(ticket=ticket, score=score)
    notifications.ticket_notify(
        event=Event.RATING,
        ticket=ticket,
        kind=Notification.Kind.RATING,
        title=f"{notifications.conversation_reference(ticket)} rated {score}/5",
        body=rating.comment[:500],
    )
    return rating
