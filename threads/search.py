"""Search over what was written in a conversation: its mails' words and its ticket's notes.

Each conversation keeps one document (`ThreadSearch.text`), appended to as mails and
notes are stored, in the writer's transaction. The text is folded in Python
(`tisket.lib.search_query.fold`: accents dropped, case folded) before it is stored
and before it is looked for, so PostgreSQL and SQLite agree on what matches
without `unaccent` in the index: an expression index needs an immutable function,
and folding once on write is cheaper than unaccenting every candidate on read.

On PostgreSQL a GIN index on `to_tsvector('simple', text)` (migration 0021) serves
whole words and phrases; on SQLite, the embedded default, a substring match on the
folded text.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, Value

from threads.models import Message, ThreadSearch
from tisket.lib.search_query import fold

# A document stops growing here (a tsvector holds at most 1 MB): a conversation's
# first 200,000 characters are what search knows of it.
DOCUMENT_MAX = 200_000
PIECE_MAX = 20_000


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


def thread_search_append(*, pieces: Iterable[tuple[int, int, str]]) -> None:
    """Add text to conversations' documents: (organization id, thread id, text) each.

    One upsert a conversation; a row lock per document, taken in thread order, so
    two writers appending to the same conversations never wait on each other in a circle.
    """
    merged: dict[int, tuple[int, list[str]]] = {}
    for organization_id, thread_id, text in pieces:
        if folded := fold(text[:PIECE_MAX]):
            merged.setdefault(thread_id, (organization_id, []))[1].append(folded)
    if not merged:
        return
    sql = (  # 200000: DOCUMENT_MAX
        "INSERT INTO threads_threadsearch (thread_id, organization_id, text) VALUES (%s, %s, %s) "
        "ON CONFLICT (thread_id) DO UPDATE SET text = "
        "substr(threads_threadsearch.text || ' ' || excluded.text, 1, 200000)"
    )
    rows = [
        (thread_id, organization_id, " ".join(parts)[:DOCUMENT_MAX])
        for thread_id, (organization_id, parts) in sorted(merged.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def messages_search_append(messages: Iterable[Message]) -> None:
    thread_search_append(
        pieces=((m.organization_id, m.thread_id, message_search_text(m)) for m in messages)
    )


def _websearch(words: tuple[str, ...], phrases: tuple[str, ...]) -> str:
    # websearch_to_tsquery never fails on what it is given; quotes inside a
    # phrase were taken out by the parser.
    return " ".join([*words, *(f'"{p.replace(chr(34), " ")}"' for p in phrases)])


def document_matches(
    *, organization_id: int, words: tuple[str, ...], phrases: tuple[str, ...]
) -> Q:
    """Conversations whose document holds every word and phrase (folded already)."""
    if connection.vendor == "postgresql":
        condition = _TextMatches(F("text"), Value(_websearch(words, phrases)))
        documents = ThreadSearch.objects.filter(condition, organization_id=organization_id)
    else:
        documents = ThreadSearch.objects.filter(organization_id=organization_id)
        for text in (*words, *phrases):
            documents = documents.filter(text__contains=text)
    return Q(pk__in=documents.values("thread_id"))
