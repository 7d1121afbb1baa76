"""What an agent types in the search box, read into words, phrases and operators.

`from:ana@example.com status:open "refund request" before:2026-03-01 printer` is a
pure parse: nothing here touches the database. Text is folded (accents dropped,
case folded) the same way the stored search documents are, so "Éléonore" finds
"eleonore" on either database.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

OPERATORS = ("from", "to", "status", "tag", "inbox", "before", "after", "has")
HAS_VALUES = ("attachment",)
# word, "a phrase", operator:value or operator:"a value with spaces"
TOKEN = re.compile(
    r'(?:(?P<op>[A-Za-z]+):(?:"(?P<qval>[^"]*)"?|(?P<val>\S*)))|"(?P<phrase>[^"]*)"?|(?P<word>\S+)'
)


class SearchSyntaxError(ValueError):
    """A value an operator cannot take (a date that is not one); the message says which."""


def fold(text: str) -> str:
    """Lower case, accents dropped, runs of space made one: how search text is compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class ParsedSearch:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    inboxes: tuple[str, ...] = ()
    before: date | None = None
    after: date | None = None
    has_attachment: bool = False
    raw_text: str = field(default="", compare=False)  # the free text as typed (references)

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SearchSyntaxError(
            f"{name}:{value or '…'} is not a date: write it as YYYY-MM-DD, e.g. {name}:2026-03-01."
        ) from None


def search_parse(query: str) -> ParsedSearch:
    """Read a search box's text; an unknown `word:` is an ordinary word (a time, "re:")."""
    found: dict[str, list[str]] = {name: [] for name in OPERATORS}
    words: list[str] = []
    phrases: list[str] = []
    free: list[str] = []
    for match in TOKEN.finditer(query):
        op = (match["op"] or "").lower()
        if op in OPERATORS:
            value = (match["qval"] if match["qval"] is not None else match["val"]).strip()
            if not value:
                raise SearchSyntaxError(f"{op}: needs a value, e.g. {_EXAMPLES[op]}.")
            found[op].append(value)
        elif match["phrase"] is not None:
            if phrase := fold(match["phrase"]):
                phrases.append(phrase)
                free.append(match["phrase"].strip())
        else:
            text = match[0]
            if folded := fold(text):
                words.append(folded)
                free.append(text)
    for value in found["has"]:
        if value.lower() not in HAS_VALUES:
            raise SearchSyntaxError(f"has:{value} is unknown: use has:attachment.")
    before = _date("before", found["before"][-1]) if found["before"] else None
    after = _date("after", found["after"][-1]) if found["after"] else None
    if before and after and after >= before:
        raise SearchSyntaxError(f"after:{after} is not before before:{before}: nothing matches.")
    return ParsedSearch(
        words=tuple(words),
        phrases=tuple(phrases),
        senders=tuple(v.lower() for v in found["from"]),
        recipients=tuple(v.lower() for v in found["to"]),
        statuses=tuple(v.lower().replace(" ", "_") for v in found["status"]),
        tags=tuple(" ".join(v.lower().split()) for v in found["tag"]),
        inboxes=tuple(found["inbox"]),
        before=before,
        after=after,
        has_attachment=bool(found["has"]),
        raw_text=" ".join(free),
    )


_EXAMPLES = {
    "from": "from:ana@example.com",
    "to": "to:support@example.com",
    "status": "status:open",
    "tag": "tag:billing",
    "inbox": "inbox:Support",
    "before": "before:2026-03-01",
    "after": "after:2026-01-31",
    "has": "has:attachment",
}
