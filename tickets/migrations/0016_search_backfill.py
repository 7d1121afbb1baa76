"""Conversations stored before search: their documents, their client's latest mail, and
whether the client wrote last, from the messages and notes already stored.

A thousand conversations at a time, so the memory it takes stays flat however many
there are; run again, it writes the same documents.
"""

from collections import defaultdict

from django.db import migrations

from tisket.lib.search_query import fold

BATCH = 1000
DOCUMENT_MAX = 200_000


def backfill(apps, schema_editor):
    Thread = apps.get_model("threads", "Thread")
    Message = apps.get_model("threads", "Message")
    ThreadSearch = apps.get_model("threads", "ThreadSearch")
    Note = apps.get_model("tickets", "Note")
    db = schema_editor.connection.alias
    last = 0
    while True:
        threads = list(
            Thread.objects.using(db).filter(pk__gt=last).order_by("pk")[:BATCH].only("pk")
        )
        if not threads:
            return
        last = threads[-1].pk
        ids = [t.pk for t in threads]
        texts: dict[int, list[str]] = defaultdict(list)
        organizations: dict[int, int] = {}
        latest: dict[int, tuple] = {}
        inbound: dict[int, object] = {}
        messages = Message.objects.using(db).filter(thread_id__in=ids).order_by("created_at", "id")
        for m in messages.values_list(
            "thread_id", "organization_id", "from_name", "from_email", "subject",
            "visible_text", "text", "direction", "automated_reason", "created_at",
        ):
            thread_id, org, name, email, subject, visible, text, direction, automated, at = m
            organizations[thread_id] = org
            texts[thread_id].append(" ".join(p for p in (name, email, subject, visible or text) if p))
            if not automated:
                latest[thread_id] = direction
                if direction == "inbound":
                    inbound[thread_id] = at
        notes = Note.objects.using(db).filter(ticket__thread_links__thread_id__in=ids)
        for thread_id, body in notes.values_list("ticket__thread_links__thread_id", "body"):
            texts[thread_id].append(body)
        ThreadSearch.objects.using(db).filter(thread_id__in=ids).delete()
        ThreadSearch.objects.using(db).bulk_create(
            ThreadSearch(
                thread_id=pk,
                organization_id=organizations[pk],
                text=fold(" ".join(parts))[:DOCUMENT_MAX],
            )
            for pk, parts in texts.items()
            if pk in organizations
        )
        for pk, at in inbound.items():
            Thread.objects.using(db).filter(pk=pk).update(
                last_inbound_at=at, client_replied_last=latest.get(pk) == "inbound"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0015_threadread"),
        ("threads", "0023_thread_search_index"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
