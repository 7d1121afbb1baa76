"""Suggestions where a question is asked, and the signed "This answered my question" link.

The knowledge base sits below the threads app: a conversation is named here by its id only,
and resolving it is the caller's (the tickets app's client pages) to do.
"""

from django.conf import settings
from django.core import signing

from kb import search, selectors
from kb.ledger import ledger_record
from kb.models import Article, LedgerEntry, LedgerKind, LedgerPlace
from kb.selectors import Audience
from kb.services import KbError
from tisket.models import Organization

ANSWERED_SALT = "tisket.kb.answered"
CLIENT_PASS_SALT = "tisket.kb.client-pass"  # noqa: S105 - a signing namespace
MAX_SUGGESTIONS = 3


def client_pass(*, organization: Organization) -> str:
    """A signed value in our mails' article links: its holder reads as a client of the
    organization in the help centre (articles for clients), for as long as client links."""
    return signing.TimestampSigner(salt=CLIENT_PASS_SALT).sign_object(
        organization.pk, compress=True
    )


def client_pass_read(*, token: str) -> int | None:
    """The organization a valid client pass names, else None."""
    try:
        value = signing.TimestampSigner(salt=CLIENT_PASS_SALT).unsign_object(
            token, max_age=settings.TISKET_CLIENT_LINK_DAYS * 86400
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return value if isinstance(value, int) else None


def answered_token(*, conversation_id: int, article_id: int) -> str:
    return signing.TimestampSigner(salt=ANSWERED_SALT).sign_object(
        [conversation_id, article_id], compress=True
    )


def answered_read(*, token: str) -> tuple[int, int]:
    """(conversation id, article id) of a valid link; KbError otherwise."""
    try:
        value = signing.TimestampSigner(salt=ANSWERED_SALT).unsign_object(
            token, max_age=settings.TISKET_CLIENT_LINK_DAYS * 86400
        )
    except signing.SignatureExpired:
        raise KbError("This link has expired.") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise KbError("This link is not valid.") from None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise KbError("This link is not valid.")
    return value[0], value[1]


def acknowledgement_suggestions(
    *, organization: Organization, question: str, conversation_id: int
) -> list[Article]:
    """Up to three public articles for an acknowledgement mail; the ledger notes them shown."""
    centre = selectors.help_centre_for(organization=organization)
    if not centre.suggest_in_acknowledgements:
        return []
    public = Audience.public(organization)
    if not selectors.articles_visible(audience=public).exists():
        return []
    hits = search.search(audience=public, query=question, limit=MAX_SUGGESTIONS, confident=True)
    articles = [hit.article for hit in hits]
    if articles:
        ledger_record(
            organization=organization,
            kind=LedgerKind.SHOWN,
            place=LedgerPlace.ACK_MAIL,
            articles=articles,
            conversation_id=conversation_id,
        )
    return articles


def answered_link_used(*, conversation_id: int) -> bool:
    """Whether the conversation was already resolved through its "This answered my
    question" link: the link works once, not again after the client reopened it."""
    return LedgerEntry.objects.filter(
        kind=LedgerKind.RESOLVED, place=LedgerPlace.ACK_MAIL, conversation_id=conversation_id
    ).exists()


def conversation_resolved_by(
    *, organization: Organization, article_id: int, conversation_id: int
) -> Article | None:
    """Record that an article answered the client's question (the caller resolves it)."""
    article = Article.objects.filter(organization=organization, pk=article_id).first()
    ledger_record(
        organization=organization,
        kind=LedgerKind.RESOLVED,
        place=LedgerPlace.ACK_MAIL,
        articles=[article] if article else [],
        conversation_id=conversation_id,
    )
    return article


def portal_suggestions(
    *, organization: Organization, question: str, shown: set[int] = frozenset()
) -> list[Article]:
    """Up to three public articles for a client writing a new request on the portal.

    As the client types; the ledger notes an article shown once per form (the ids the
    form says it showed already are not noted again), as the help centre notes a search once.
    """
    hits = search.search(
        audience=Audience.public(organization), query=question, limit=MAX_SUGGESTIONS, prefix=True
    )
    articles = [hit.article for hit in hits]
    new = [article for article in articles if article.pk not in shown]
    if new:
        ledger_record(
            organization=organization,
            kind=LedgerKind.SHOWN,
            place=LedgerPlace.CLIENT,
            articles=new,
        )
    return articles


def portal_suggestion_opened(*, organization: Organization, article: Article) -> None:
    """A client opened an article the portal suggested."""
    ledger_record(
        organization=organization,
        kind=LedgerKind.CLICKED,
        place=LedgerPlace.CLIENT,
        articles=[article],
    )
