"""Who wrote a conversation's mails and whom they were sent to, in its search document: the
columns, and their values for the mail stored before them.

A thousand conversations at a time, so the memory it takes stays flat however many there
are; run again, it writes the same values. An inbound mail counts as sent to the inbox
that received it, as the worker writes it from now on.
"""

from collections import defaultdict

from django.db import migrations, models

from tisket.lib.search_query import fold

BATCH = 1000
ADDRESSES_MAX = 20_000


def _column(people: list[tuple[str, str]]) -> str:
    """` name <address>` entries, once each (threads.search._entries, as of this migration)."""
    entries: list[str] = []
    for name, address in people:
        if address := fold(address or "").replace(" ", ""):
            name = fold(name or "").replace("<", "").replace(">", "")[:200]
            entry = f"{name} <{address}>".lstrip()
            if entry not in entries:
                entries.append(entry)
    return "".join(f" {e}" for e in entries)[:ADDRESSES_MAX]


def backfill(apps, schema_editor):
    Message = apps.get_model("threads", "Message")
    ThreadSearch = apps.get_model("threads", "ThreadSearch")
    db = schema_editor.connection.alias
    last = 0
    while True:
        documents = list(
            ThreadSearch.objects.using(db).filter(pk__gt=last).order_by("pk")[:BATCH].only("pk")
        )
        if not documents:
            return
        last = documents[-1].pk
        senders: dict[int, list] = defaultdict(list)
        recipients: dict[int, list] = defaultdict(list)
        messages = Message.objects.using(db).filter(thread_id__in=[d.pk for d in documents])
        for thread_id, direction, name, email, to, inbox in messages.order_by(
            "created_at", "id"
        ).values_list("thread_id", "direction", "from_name", "from_email", "to", "thread__inbox__address"):
            if email:
                senders[thread_id].append((name, email))
            sent_to = [(r.get("name") or "", r.get("email") or "") for r in to or []]
            if direction == "inbound" and inbox.lower() not in {e.lower() for _, e in sent_to}:
                sent_to.append(("", inbox))
            recipients[thread_id] += sent_to
        for document in documents:
            document.senders = _column(senders[document.pk])
            document.recipients = _column(recipients[document.pk])
        ThreadSearch.objects.using(db).bulk_update(documents, ["senders", "recipients"])


class Migration(migrations.Migration):
    # Each thousand commits on its own: at a million conversations the backfill takes
    # minutes, and one transaction would hold the documents' rows the whole time. Run
    # again after an interruption, it finishes the job.
    atomic = False

    dependencies = [
        ('threads', '0023_thread_search_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='threadsearch',
            name='recipients',
            field=models.TextField(blank=True, db_default='', default=''),
        ),
        migrations.AddField(
            model_name='threadsearch',
            name='senders',
            field=models.TextField(blank=True, db_default='', default=''),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
