"""The rating links of a resolved mail: one click on a score records it, then asks for a comment.

The link (tickets.csat) is the credential and rates one resolution once. A
click opens a page that posts the score at once (a script; without one, the
page's button), so a link scanner that only fetches the link rates nothing.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from tickets import csat
from tickets.client_brand import client_brand
from tickets.client_pages import csrf_protect_no_referrer
from tickets.models import Rating
from tisket.errors import ConflictError, TisketError

SCORE_WORDS = dict(csat.SCORES)


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _notice(request: HttpRequest, text: str, status: int = 404) -> HttpResponse:
    context = {"heading": "This rating link does not work", "text": text, "howto": False}
    return _private(render(request, "client/notice.html", context, status=status))


def _page(request: HttpRequest, token: str, *, status: int = 200, **context) -> HttpResponse:
    try:
        ticket, resolution = csat.csat_ticket(token=token)
    except csat.RatingLinkError as error:
        return _notice(request, str(error))
    rating = Rating.objects.filter(ticket=ticket, resolution=resolution).first()
    context = {
        "token": token,
        "subject": ticket.subject,
        "organization": ticket.organization,
        "brand": client_brand(organization=ticket.organization),
        "rating": rating,
        "scores": csat.SCORES,
        **context,
    }
    return _private(render(request, "client/rating.html", context, status=status))


@require_safe
def rating_choose(request: HttpRequest, token: str, score: int) -> HttpResponse:
    """The click on a score in the mail: a page that records it (GET itself changes nothing)."""
    if score not in SCORE_WORDS:
        return _notice(request, "A rating is a whole number from 1 to 5.")
    return _page(request, token, chosen=score, chosen_word=SCORE_WORDS[score])


@require_safe
def rating_page(request: HttpRequest, token: str) -> HttpResponse:
    """Where the rating stands: the score given, and the comment box while it is empty."""
    return _page(request, token)


@csrf_exempt  # checked by csrf_protect_no_referrer: the page sends no Referer
@require_POST
@csrf_protect_no_referrer
def rating_record(request: HttpRequest, token: str) -> HttpResponse:
    try:
        score = int(request.POST.get("score", ""))
    except ValueError:
        score = 0
    try:
        csat.csat_record(token=token, score=score)
    except csat.RatingLinkError as error:
        return _notice(request, str(error))
    except ConflictError:
        return _page(request, token, status=409, already=True)
    except TisketError as error:
        return _page(request, token, status=400, error=str(error))
    return redirect(reverse("rating:page", kwargs={"token": token}) + "?thanks=1")


@csrf_exempt  # checked by csrf_protect_no_referrer, as above
@require_POST
@csrf_protect_no_referrer
def rating_comment(request: HttpRequest, token: str) -> HttpResponse:
    try:
        csat.csat_comment(token=token, comment=request.POST.get("comment", ""))
    except csat.RatingLinkError as error:
        return _notice(request, str(error))
    except ConflictError:
        return _page(request, token, status=409)
    except TisketError as error:
        return _page(request, token, status=400, error=str(error))
    return redirect(reverse("rating:page", kwargs={"token": token}) + "?commented=1")


app_name = "rating"

urlpatterns = [
    path("<str:token>/", rating_page, name="page"),
    path("<str:token>/record/", rating_record, name="record"),
    path("<str:token>/comment/", rating_comment, name="comment"),
    path("<str:token>/<int:score>/", rating_choose, name="rate"),
]
