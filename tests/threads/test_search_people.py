"""The senders and recipients of each conversation's search document: written once each as
mail comes and goes, and given by migration 0024 to the mail stored before them."""

import importlib

from django.apps import apps
from django.db import connection

from tests.mail import deliver, make_mail
from threads.models import ThreadSearch
from threads.search import SearchPiece, address_needle, thread_search_append
from tickets import services

backfill = importlib.import_module("threads.migrations.0024_thread_search_people")


class _Editor:
    connection = connection


def test_senders_and_recipients_are_kept_once_each_folded(acme, inbox):
    first = deliver(
        make_mail(
            sender="Renée Dupont <Renee@Client.test>", cc="boss@client.test", message_id="<a@x>"
        )
    )
    deliver(
        make_mail(
            sender="Renée Dupont <renee@client.test>",
            subject="Re: Cannot log in",
            in_reply_to="<a@x>",
            message_id="<b@x>",
        )
    )
    document = ThreadSearch.objects.get(thread=first.thread)
    assert document.senders == " renee dupont <renee@client.test>"
    assert document.recipients == f" <{inbox.address}>"
    thread_search_append(pieces=[SearchPiece(acme.org.pk, first.thread.pk, "a note")])
    document.refresh_from_db()
    assert document.senders == " renee dupont <renee@client.test>"  # a note names nobody
    assert document.text.endswith(" a note")


def test_a_name_cannot_pass_for_an_address():
    assert address_needle("Ana@Example.com") == "<ana@example.com>"
    assert address_needle("ana@example") == "ana@example"  # no dot: a part, as typed
    assert address_needle("Núñez") == "nunez"
    thread_search_append(pieces=[])  # nothing to write: no statement


def test_the_migration_gives_earlier_mail_the_same_senders_and_recipients(acme, inbox, monkeypatch):
    monkeypatch.setattr(backfill, "BATCH", 2)  # two batches and a half
    for n in range(5):
        deliver(make_mail(sender=f"Client {n} <c{n}@client.test>", message_id=f"<m{n}@x>"))
    thread = ThreadSearch.objects.order_by("pk").first().thread
    services.thread_reply_send(thread=thread, author=acme.agent, body="On it.")
    written = dict(ThreadSearch.objects.values_list("pk", "senders"))
    sent_to = dict(ThreadSearch.objects.values_list("pk", "recipients"))
    # The desk's answer is from the inbox, to the client.
    assert f"<{inbox.address}>" in written[thread.pk] and "<c0@client.test>" in sent_to[thread.pk]
    ThreadSearch.objects.update(senders="", recipients="")  # as the mail stored before them
    backfill.backfill(apps, _Editor)
    assert dict(ThreadSearch.objects.values_list("pk", "senders")) == written
    assert dict(ThreadSearch.objects.values_list("pk", "recipients")) == sent_to
    backfill.backfill(apps, _Editor)  # again: the same
    assert dict(ThreadSearch.objects.values_list("pk", "senders")) == written
