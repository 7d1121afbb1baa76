"""Keys for messages stored before they existed: each mail's content key and parent key,
and its addresses in the case the mail wrote them, read again from its raw bytes.

Safe to run twice and to stop at any point: a message is done once its content key
is written, and each batch commits on its own.
"""

from dataclasses import dataclass

from django.db import transaction

from threads.models import InboundMail, Message
from threads.services import message_id_key
from tisket.lib.addresses import address_normalize
from tisket.lib.mail.headers import message_ids
from tisket.lib.mail.parse import ParsedMail, parse_mail

BATCH_SIZE = 200
FIELDS = ["content_key", "parent_key", "from_email", "to", "cc"]


@dataclass
class BackfillCounts:
    messages: int = 0  # given their keys
    without_raw: int = 0  # parent key only: the raw mail could not be read
    addresses: int = 0  # whose addresses got their case back


def message_keys_backfill(*, batch_size: int = BATCH_SIZE) -> BackfillCounts:
    """Give every stored mail without a content key its keys, a batch at a time."""
    counts = BackfillCounts()
    after = 0
    while True:
        with transaction.atomic():
            rows = list(
                InboundMail.objects.select_related("message")
                .filter(
                    status=InboundMail.Status.ACCEPTED,
                    message__content_key="",
                    message_id__gt=after,
                )
                .order_by("message_id", "id")[:batch_size]
            )
            if not rows:
                return counts
            after = rows[-1].message_id
            done: dict[int, Message] = {}
            for row in rows:
                if row.message_id not in done:
                    done[row.message_id] = _message_keyed(row, counts)
            Message.objects.bulk_update(done.values(), FIELDS)
            counts.messages += len(done)


def _message_keyed(row: InboundMail, counts: BackfillCounts) -> Message:
    message = row.message
    try:
        parsed = parse_mail(row.raw_bytes())
    except Exception:  # a raw file gone from storage: what the row says is enough
        counts.without_raw += 1
        ids = message_ids(message.in_reply_to)
        message.parent_key = message_id_key(ids[0]) if ids else ""
        return message
    message.content_key = parsed.content_key
    message.parent_key = message_id_key(parsed.in_reply_to[0]) if parsed.in_reply_to else ""
    if _case_restored(message, parsed):
        counts.addresses += 1
    return message


def _case_restored(message: Message, parsed: ParsedMail) -> bool:
    """The stored addresses as the mail wrote them, where they are the same addresses."""
    before = (message.from_email, message.to, message.cc)
    if address_normalize(parsed.from_email) == address_normalize(message.from_email):
        message.from_email = parsed.from_email
    written = {address_normalize(e): e for _, e in [*parsed.to, *parsed.cc]}
    for field in ("to", "cc"):
        setattr(message, field, [_as_written(p, written) for p in getattr(message, field)])
    return (message.from_email, message.to, message.cc) != before


def _as_written(person: object, written: dict[str, str]) -> object:
    if not isinstance(person, dict) or not isinstance(person.get("email"), str):
        return person
    return person | {"email": written.get(address_normalize(person["email"]), person["email"])}
