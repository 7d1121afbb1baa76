"""Settings: queues (members, inboxes, round-robin) and macros."""

from inboxes.services import inbox_create
from tickets import macros, queues
from tickets import services as ticket_services
from tickets.models import Macro, Queue

# --- Queues ----------------------------------------------------------------------------------


def test_an_admin_creates_a_queue_with_agents_inboxes_and_round_robin(acme, inbox, web):
    response = web(acme.admin).post(
        "/acme/settings/queues/new/",
        {
            "name": "Support",
            "members": [acme.agent.pk, acme.agent2.pk],
            "inboxes": [inbox.pk],
            "auto_assign": "on",
            "open_ticket_cap": "5",
        },
        follow=True,
    )
    assert b"Queue Support created." in response.content
    queue = Queue.objects.get(name="Support")
    assert set(queue.members.all()) == {acme.agent, acme.agent2}
    assert list(queue.inboxes.all()) == [inbox]
    assert (queue.auto_assign, queue.open_ticket_cap) == (True, 5)


def test_an_admin_edits_a_queue(acme, inbox, web):
    queue = queues.queue_create(
        organization=acme.org, name="Support", actor=None, members=[acme.agent]
    )
    web(acme.admin).post(
        f"/acme/settings/queues/{queue.pk}/",
        {"name": "Front line", "members": [acme.agent2.pk], "open_ticket_cap": ""},
    )
    queue.refresh_from_db()
    assert queue.name == "Front line"
    assert list(queue.members.all()) == [acme.agent2]
    assert (queue.auto_assign, queue.open_ticket_cap) == (False, None)


def test_another_organizations_member_or_inbox_cannot_join_a_queue(acme, globex, globex_inbox, web):
    response = web(acme.admin).post(
        "/acme/settings/queues/new/",
        {"name": "Sneaky", "members": [globex.agent.pk], "inboxes": [globex_inbox.pk]},
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not Queue.objects.filter(name="Sneaky").exists()


def test_an_inbox_feeds_one_queue_only(acme, inbox, web):
    queues.queue_create(organization=acme.org, name="First", actor=None, inboxes=[inbox])
    response = web(acme.admin).post(
        "/acme/settings/queues/new/", {"name": "Second", "inboxes": [inbox.pk]}
    )
    assert response.status_code == 200
    assert b"already feeds the queue First" in response.content
    assert not Queue.objects.filter(name="Second").exists()


def test_a_duplicate_name_or_a_zero_cap_is_refused(acme, web):
    queue = queues.queue_create(organization=acme.org, name="Support", actor=None)
    other = queues.queue_create(organization=acme.org, name="Billing", actor=None)
    client = web(acme.admin)
    clash = client.post(f"/acme/settings/queues/{other.pk}/", {"name": "Support"})
    assert clash.status_code == 200 and b"exists already" in clash.content
    zero = client.post(f"/acme/settings/queues/{queue.pk}/", {"name": "S", "open_ticket_cap": 0})
    assert zero.status_code == 200
    assert sorted(Queue.objects.values_list("name", flat=True)) == ["Billing", "Support"]


def test_a_failed_edit_changes_nothing_at_all(acme, inbox, web):
    fed = queues.queue_create(organization=acme.org, name="Fed", actor=None)
    queues.queue_create(organization=acme.org, name="Owner", actor=None, inboxes=[inbox])
    web(acme.admin).post(
        f"/acme/settings/queues/{fed.pk}/",
        {"name": "Fed", "members": [acme.agent.pk], "inboxes": [inbox.pk]},
    )
    assert not fed.members.exists()  # the members step ran first, and was rolled back


def test_an_admin_deletes_a_queue(acme, web):
    queue = queues.queue_create(organization=acme.org, name="Old", actor=None)
    response = web(acme.admin).post(f"/acme/settings/queues/{queue.pk}/delete/", follow=True)
    assert b"Queue Old deleted" in response.content
    assert not Queue.objects.filter(pk=queue.pk).exists()


def test_another_organizations_queue_is_404(acme, globex, web):
    queue = queues.queue_create(organization=globex.org, name="Theirs", actor=None)
    client = web(acme.admin)
    assert client.get(f"/acme/settings/queues/{queue.pk}/").status_code == 404
    assert client.post(f"/acme/settings/queues/{queue.pk}/", {"name": "Mine"}).status_code == 404
    assert client.post(f"/acme/settings/queues/{queue.pk}/delete/").status_code == 404
    queue.refresh_from_db()
    assert queue.name == "Theirs"


# --- Macros ----------------------------------------------------------------------------------


def test_an_admin_creates_a_macro_with_actions(acme, web):
    queue = queues.queue_create(organization=acme.org, name="Billing", actor=None)
    response = web(acme.admin).post(
        "/acme/settings/macros/new/",
        {
            "name": "Refund",
            "body": "Hello {{ client_name }}, your refund is on its way.",
            "status": "waiting_on_customer",
            "priority": "high",
            "queue": queue.pk,
            "assignee": str(acme.agent.pk),
            "tags_add": "billing, refund",
            "tags_remove": "new",
        },
        follow=True,
    )
    assert b"Macro Refund created." in response.content
    macro = Macro.objects.get(name="Refund")
    assert macro.actions == {
        "status": "waiting_on_customer",
        "priority": "high",
        "queue": queue.pk,
        "assignee": acme.agent.pk,
        "tags_add": ["billing", "refund"],
        "tags_remove": ["new"],
    }
    assert b"queue: Billing" in web(acme.admin).get("/acme/settings/macros/").content


def test_a_macro_that_unassigns_and_one_that_changes_nothing(acme, web):
    client = web(acme.admin)
    client.post("/acme/settings/macros/new/", {"name": "Drop", "assignee": "none"})
    client.post("/acme/settings/macros/new/", {"name": "Plain", "body": "Hi"})
    assert Macro.objects.get(name="Drop").actions == {"assignee": None}
    assert Macro.objects.get(name="Plain").actions == {}


def test_a_macro_whose_text_has_a_tag_is_refused(acme, web):
    response = web(acme.admin).post(
        "/acme/settings/macros/new/", {"name": "Broken", "body": "Hello {% if %}"}
    )
    assert response.status_code == 200
    assert b"tags are not allowed" in response.content
    assert not Macro.objects.exists()


def test_an_admin_edits_a_macro_and_the_form_shows_its_actions(acme, web):
    macro = macros.macro_save(
        organization=acme.org,
        actor=None,
        name="Close",
        body="Bye",
        actions={"status": "closed", "tags_add": ["done"]},
    )
    client = web(acme.admin)
    page = client.get(f"/acme/settings/macros/{macro.pk}/").content.decode()
    assert 'value="closed" selected' in page and 'value="done"' in page
    client.post(
        f"/acme/settings/macros/{macro.pk}/",
        {"name": "Close politely", "body": "Goodbye", "status": "resolved"},
    )
    macro.refresh_from_db()
    assert (macro.name, macro.body, macro.actions) == (
        "Close politely",
        "Goodbye",
        {"status": "resolved"},
    )


def test_a_duplicate_macro_name_is_refused(acme, web):
    macros.macro_save(organization=acme.org, actor=None, name="Thanks")
    response = web(acme.admin).post("/acme/settings/macros/new/", {"name": "Thanks"})
    assert response.status_code == 200 and b"exists already" in response.content
    assert Macro.objects.count() == 1


def test_another_organizations_queue_or_member_cannot_be_a_macros_target(acme, globex, web):
    theirs = queues.queue_create(organization=globex.org, name="Theirs", actor=None)
    response = web(acme.admin).post(
        "/acme/settings/macros/new/",
        {"name": "Sneaky", "queue": theirs.pk, "assignee": str(globex.agent.pk)},
    )
    assert response.status_code == 200
    assert not Macro.objects.exists()


def test_an_admin_deletes_a_macro_but_not_another_organizations(acme, globex, web):
    mine = macros.macro_save(organization=acme.org, actor=None, name="Mine")
    theirs = macros.macro_save(organization=globex.org, actor=None, name="Theirs")
    client = web(acme.admin)
    assert client.post(f"/acme/settings/macros/{theirs.pk}/delete/").status_code == 404
    assert client.get(f"/acme/settings/macros/{theirs.pk}/").status_code == 404
    client.post(f"/acme/settings/macros/{mine.pk}/delete/")
    assert list(Macro.objects.values_list("name", flat=True)) == ["Theirs"]


def test_the_queue_list_counts_open_tickets(acme, web):
    queue = queues.queue_create(organization=acme.org, name="Support", actor=None)
    for n in range(3):
        ticket_services.ticket_create(
            organization=acme.org, subject=f"t{n}", actor=None, queue=queue
        )
    inbox_create(organization=acme.org, name="other")
    page = web(acme.admin).get("/acme/settings/queues/").content.decode()
    assert '<td class="num hide-sm">3</td>' in page


def test_a_cap_beyond_the_columns_range_is_a_form_error_not_a_500(acme, web):
    response = web(acme.admin).post(
        "/acme/settings/queues/new/", {"name": "Support", "open_ticket_cap": str(2**40)}
    )
    assert response.status_code == 200
    assert not Queue.objects.filter(name="Support").exists()
