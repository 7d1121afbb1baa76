"""Search over what was written in a conversation: its mails' words and its ticket's notes,
who wrote its mails and whom they were sent to.

Each conversation keeps one document (`ThreadSearch`), appended to as mails and
notes are stored, in the writer's transaction. The text is folded in Python
(`tisket.lib.search_query.fold`: accents dropped, case folded) before it is stored
and before it is looked for, so PostgreSQL and SQLite agree on what matches
without `unaccent` in the index: an expression index needs an immutable function,
and folding once on write is cheaper than unaccenting every candidate on read.

On PostgreSQL a GIN index on `to_tsvector('simple', text)` (migration 0023) serves
whole words and phrases, and trigram indexes on the senders and the recipients
(migration 0025) serve `from:` and `to:` with any part of a name or an address;
on SQLite, the embedded default, a substring match on the folded text.

Senders and recipients are kept as entries, `name <address>` each, once per
conversation: a whole address is looked for with its brackets (itself, never a
longer one that ends with it), anything else as a part of any entry.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, Value

from threads.models import Message, ThreadSearch
from tisket.lib.addresses import address_is_valid
from tisket.lib.search_query import fold

# A document stops growing here (a tsvector holds at most 1 MB): a conversation's
# first 200,000 characters are what search knows of it.
DOCUMENT_MAX = 200_000
PIECE_MAX = 20_000
ADDRESSES_MAX = 20_000  # the senders, and the recipients, of a conversation


# A document's row, inserted or appended to: text after a space, and a sender or recipient
# entry only when the document does not hold it yet. 200000: DOCUMENT_MAX; 20000: ADDRESSES_MAX.
APPEND = (
    "INSERT INTO threads_threadsearch (thread_id, organization_id, text, senders, recipients) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (thread_id) DO UPDATE SET "
    "text = CASE WHEN excluded.text = '' THEN threads_threadsearch.text "
    "ELSE substr(threads_threadsearch.text || ' ' || excluded.text, 1, 200000) END, "
    "senders = CASE WHEN strpos(threads_threadsearch.senders, excluded.senders) > 0 "
    "THEN threads_threadsearch.senders "
    "ELSE substr(threads_threadsearch.senders || excluded.senders, 1, 20000) END, "
    "recipients = CASE WHEN strpos(threads_threadsearch.recipients, excluded.recipients) > 0 "
    "THEN threads_threadsearch.recipients "
    "ELSE substr(threads_threadsearch.recipients || excluded.recipients, 1, 20000) END"
)


@dataclass(frozen=True)
class SearchPiece:
    """What one mail or note adds to its conversation's document."""

    organization_id: int
    thread_id: int
    text: str = ""
    senders: tuple[tuple[str, str], ...] = ()  # (name, address) each
    recipients: tuple[tuple[str, str], ...] = ()


class _TextMatches(Func):
    """`to_tsvector('simple', text) @@ websearch_to_tsquery('simple', query)`: the vector
    written exactly as migration 0021 indexed it, or the index is not used."""

    arg_joiner = ") @@ websearch_to_tsquery('simple'::regconfig, "
    template = "(to_tsvector('simple'::regconfig, %(expressions)s))"
    output_field = BooleanField()


def message_search_text(message: Message) -> str:
    """What a mail adds to its conversation's document: who wrote it and its new words."""
    body = message.visible_text or message.text
    return " ".join(
        part
        for part in (message.from_name, message.from_email, message.subject, body[:PIECE_MAX])
        if part
    )


def message_search_piece(message: Message, *, delivered_to: str = "") -> SearchPiece:
    """A mail's words, its sender, and whom it went to: its To, and the inbox it was
    delivered to (`delivered_to`), which a Bcc or a forward leaves out of To."""
    recipients = [(r.get("name") or "", r.get("email") or "") for r in message.to or []]
    if delivered_to and delivered_to.lower() not in {e.lower() for _, e in recipients}:
        recipients.append(("", delivered_to))
    return SearchPiece(
        organization_id=message.organization_id,
        thread_id=message.thread_id,
        text=message_search_text(message),
        senders=((message.from_name, message.from_email),) if message.from_email else (),
        recipients=tuple(recipients),
    )


def _entries(people: Iterable[tuple[str, str]]) -> list[str]:
    """`name <address>`, folded, once each; an entry without an address is no entry."""
    entries: list[str] = []
    for name, address in people:
        if address := fold(address).replace(" ", ""):
            name = fold(name).replace("<", "").replace(">", "")[:200]  # no address of its own
            entry = f"{name} <{address}>".lstrip()
            if entry not in entries:
                entries.append(entry)
    return entries


def thread_search_append(*, pieces: Iterable[SearchPiece]) -> None:
    """Add text, senders and recipients to conversations' documents.

    One upsert a conversation; a row lock per document, taken in thread order, so
    two writers appending to the same conversations never wait on each other in a circle.
    Senders and recipients already in the document are not added again.
    """
    merged: dict[int, tuple[int, list[str], list[tuple[str, str]], list[tuple[str, str]]]] = {}
    for piece in pieces:
        _, texts, senders, recipients = merged.setdefault(
            piece.thread_id, (piece.organization_id, [], [], [])
        )
        if folded := fold(piece.text[:PIECE_MAX]):
            texts.append(folded)
        senders += piece.senders
        recipients += piece.recipients
    rows = []
    for thread_id, (organization_id, texts, senders, recipients) in sorted(merged.items()):
        people = [
            "".join(f" {e}" for e in _entries(p))[:ADDRESSES_MAX] for p in (senders, recipients)
        ]
        if texts or any(people):
            rows.append((thread_id, organization_id, " ".join(texts)[:DOCUMENT_MAX], *people))
    if not rows:
        return
    # strpos is instr on SQLite: the one word the two databases spell differently here.
    sql = APPEND.replace("strpos(", "strpos(" if connection.vendor == "postgresql" else "instr(")
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def messages_search_append(messages: Iterable[Message]) -> None:
    thread_search_append(pieces=(message_search_piece(m) for m in messages))


def _websearch(words: tuple[str, ...], phrases: tuple[str, ...]) -> str:
    # websearch_to_tsquery never fails on what it is given; quotes inside a
    # phrase were taken out by the parser.
    return " ".join([*words, *(f'"{p.replace(chr(34), " ")}"' for p in phrases)])


def address_needle(value: str) -> str:
    """What `from:` or `to:` looks for: a whole address as a whole entry (`<ana@x.test>`,
    never `<diana@x.test>`), anything else (`dana`, `acme.test`, `ana@`) as it is; folded."""
    folded = fold(value)
    whole = address_is_valid(folded) and "." in folded.rpartition("@")[2]
    return f"<{folded}>" if whole else folded


SEARCH_HITS_READ_FIRST = 5000


def document_matches(
    *,
    organization_id: int,
    words: tuple[str, ...] = (),
    phrases: tuple[str, ...] = (),
    senders: tuple[str, ...] = (),
    recipients: tuple[str, ...] = (),
) -> Q:
    """Conversations whose document holds every word and phrase (folded already), a sender
    like each of `senders` and a recipient like each of `recipients`: one semi-join."""
    documents = ThreadSearch.objects.filter(organization_id=organization_id)
    if words or phrases:
        if connection.vendor == "postgresql":
            documents = documents.filter(_TextMatches(F("text"), Value(_websearch(words, phrases))))
        else:
            for text in (*words, *phrases):
                documents = documents.filter(text__contains=text)
    for sender in senders:
        documents = documents.filter(senders__contains=address_needle(sender))
    for recipient in recipients:
        documents = documents.filter(recipients__contains=address_needle(recipient))
    # The matches are read first, from the documents' indexes, while they are few: left
    # to a semi-join under the queue's ORDER BY … LIMIT, PostgreSQL walks the threads in
    # activity order and tests each one's document, since it cannot tell that a rare
    # word ("Question 434343") matches one conversation of a million (22 s measured).
    # Many matches are found soon enough in that walk.
    hits = list(documents.values_list("thread_id", flat=True)[: SEARCH_HITS_READ_FIRST + 1])
    if len(hits) <= SEARCH_HITS_READ_FIRST:
        return Q(pk__in=hits)
    return Q(pk__in=documents.values("thread_id"))
