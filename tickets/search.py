"""Search as the queue, the thread API and the MCP server read it: words and operators.

`tisket.lib.search_query` reads the text; this turns it into conditions on
conversations, each one served by an index: the words, `from:` and `to:` by the search
documents (threads.search: full text, and trigrams of senders and recipients), the
other operators by the columns and semi-joins the queue already uses. The caller's
scope (tenant, agent group) is applied by the caller, before: nothing here widens it.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from inboxes.models import Inbox
from threads.models import Attachment, Thread
from threads.search import document_matches
from threads.selectors import thread_text_matches
from tickets.models import Ticket, TicketThread
from tisket.errors import TisketError
from tisket.lib.search_query import ParsedSearch, SearchSyntaxError, search_parse
from tisket.models import Organization

UNRESOLVED = ("new", "open", "in_progress", "waiting_on_customer")
STATUS_WORDS = {
    **{value: (value,) for value in Ticket.Status.values},
    "waiting": ("waiting_on_customer",),
    "pending": ("waiting_on_customer",),
    "unresolved": UNRESOLVED,
    "all": (),
}
HELP = (
    "Words and “exact phrases” are looked for in the subject, the client, every mail and "
    "every note, accents and case aside. Operators: from:, to: (a whole address, or any part "
    "of a name or an address), status:, tag:, inbox:, before:YYYY-MM-DD, after:YYYY-MM-DD "
    "(last activity), has:attachment."
)


class SearchError(TisketError):
    pass


def search_read(text: str) -> ParsedSearch:
    """The parsed search, or a SearchError (a 400, a message on the page) saying what is wrong."""
    try:
        parsed = search_parse(text)
    except SearchSyntaxError as error:
        raise SearchError(str(error)) from None
    for word in parsed.statuses:
        if word not in STATUS_WORDS:
            known = ", ".join(sorted(STATUS_WORDS))
            raise SearchError(f"status:{word} is unknown: use one of {known}.")
    return parsed


def search_statuses(parsed: ParsedSearch) -> tuple[str, ...] | None:
    """The ticket statuses that `status:` asks for (several: any of them); None: not asked."""
    if not parsed.statuses:
        return None
    wanted: list[str] = []
    for word in parsed.statuses:
        if not STATUS_WORDS[word]:
            return ()  # status:all
        wanted += [s for s in STATUS_WORDS[word] if s not in wanted]
    return tuple(wanted)


def _day_start(day: date, organization: Organization) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(organization.timezone))


def search_filter(
    threads: QuerySet[Thread], *, organization: Organization, parsed: ParsedSearch
) -> QuerySet[Thread]:
    """Narrow conversations to what the search asks, every operator but `status:`."""
    org = organization.pk
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    if parsed.has_text:
        raw = parsed.raw_text.strip()
        single = " " not in raw and not parsed.phrases
        if single and raw.upper().startswith("TKT-"):
            threads = threads.filter(
                pk__in=TicketThread.objects.filter(
                    ticket__organization_id=org, ticket__reference=raw.upper()
                ).values("thread_id")
            )
        elif single and (raw.upper().startswith("THD-") or "@" in raw):
            # A reference, or a client's address (whole, or part: "ana@"), by the thread's
            # own indexed columns.
            threads = threads.filter(thread_text_matches(raw))
        else:
            # Subjects, clients' names and addresses are in the documents too (each mail
            # adds its sender and subject): one index answers, never an OR of two.
            words, phrases = parsed.words, parsed.phrases
    if words or phrases or parsed.senders or parsed.recipients:
        # from: and to: read the same documents' senders and recipients (any part of a name
        # or an address, a whole address whole): one semi-join with the words.
        threads = threads.filter(
            document_matches(
                organization_id=org,
                words=words,
                phrases=phrases,
                senders=parsed.senders,
                recipients=parsed.recipients,
            )
        )
    for tag in parsed.tags:
        threads = threads.filter(
            pk__in=TicketThread.objects.filter(
                ticket__organization_id=org, ticket__tags__name=tag
            ).values("thread_id")
        )
    if parsed.inboxes:
        named = Q()
        for name in parsed.inboxes:
            named |= Q(name__iexact=name) | Q(address__iexact=name)
        threads = threads.filter(
            inbox_id__in=Inbox.objects.filter(named, organization_id=org).values("pk")
        )
    if parsed.after:
        threads = threads.filter(updated_at__gte=_day_start(parsed.after, organization))
    if parsed.before:
        threads = threads.filter(updated_at__lt=_day_start(parsed.before, organization))
    if parsed.has_attachment:
        files = Attachment.objects.filter(organization_id=org, is_inline=False)
        threads = threads.filter(pk__in=files.values("message__thread_id"))
    return threads


def threads_search(
    threads: QuerySet[Thread], *, organization: Organization, text: str
) -> QuerySet[Thread]:
    """The thread API's `q`: the queue's search, `status:` on the ticket's status (or on a
    conversation's own, without a ticket)."""
    parsed = search_read(text)
    if statuses := search_statuses(parsed):
        threads = threads.filter(
            Q(ticket_link__ticket__status__in=statuses)
            | Q(ticket_link__isnull=True, status__in=statuses)
        )
    return search_filter(threads, organization=organization, parsed=parsed)
