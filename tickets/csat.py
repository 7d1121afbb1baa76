"""Client satisfaction: a signed link per resolution, and one rating per resolution."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from tickets import events, notifications
from tickets.models import Rating, Ticket
from tisket.errors import ConflictError, TisketError
from tisket.models import Membership, Notification, Role
from tisket.notifications.matrix import Event

SALT = "tisket.csat"
LINK_LIFETIME = timedelta(days=30)
SCORES = ((1, "Poor"), (2, "Fair"), (3, "Good"), (4, "Very good"), (5, "Excellent"))
LOW_SCORE = 2  # and below: the assignee and the supervisors hear of it


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
    if score <= LOW_SCORE:
        # A low rating reaches the assignee and the supervisors, whatever their matrix says.
        _low_rating_notify(ticket=ticket, rating=rating)
    else:
        notifications.ticket_notify(
            event=Event.RATING,
            ticket=ticket,
            kind=Notification.Kind.RATING,
            title=f"{notifications.conversation_reference(ticket)} rated {score}/5",
            body=rating.comment[:500],
        )
    return rating


@transaction.atomic
def csat_comment(*, token: str, comment: str) -> Rating:
    """Add the client's comment to the rating their click recorded; once, never rewritten."""
    ticket, resolution = csat_ticket(token=token)
    comment = comment.strip()[:5000]
    if not comment:
        raise TisketError("Write a comment, or just close this page.")
    rating = Rating.objects.select_for_update().filter(ticket=ticket, resolution=resolution).first()
    if rating is None:
        raise TisketError("Choose a rating first.")
    if rating.comment:
        raise ConflictError("Your comment is recorded already; thank you.")
    rating.comment = comment
    rating.save(update_fields=["comment"])
    return rating


def csat_rating_urls(*, ticket: Ticket) -> list[tuple[int, str, str]]:
    """The five one-click links of a resolved mail: score, word, absolute URL."""
    token = csat_token(ticket=ticket)
    site = settings.SITE_URL.rstrip("/")
    return [
        (score, word, site + reverse("rating:rate", kwargs={"token": token, "score": score}))
        for score, word in SCORES
    ]


def _low_rating_notify(*, ticket: Ticket, rating: Rating) -> None:
    """A low rating tells the ticket's assignee and the organization's supervisors."""
    people = {
        m.pk: m
        for m in Membership.objects.filter(
            organization_id=ticket.organization_id,
            role__in=[Role.SUPERVISOR, Role.ADMIN, Role.OWNER],
            user__is_active=True,
        ).select_related("user", "organization")
    }
    if ticket.assignee_id is not None and ticket.assignee.user.is_active:
        people.setdefault(ticket.assignee_id, ticket.assignee)
    reference = notifications.conversation_reference(ticket)
    notifications.notify_all(
        [
            notifications.Notice(
                recipient=member,
                kind=Notification.Kind.LOW_RATING,
                title=f"{reference} rated {rating.score} out of 5 by the client",
                body=f"{ticket.subject}\nAssignee: "
                + (ticket.assignee.user.email if ticket.assignee_id else "nobody"),
                url=notifications.ticket_url(ticket),
            )
            for member in people.values()
        ]
    )
