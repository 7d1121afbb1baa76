"""Mentions in a note: @first-name, @first.last, the address's first part or the address."""

import pytest

from tests.tickets.conversation_seed import name_the_cast
from tickets import services
from tickets.notifications import member_handle, mentioned_members
from tisket.models import Notification


@pytest.fixture
def named(acme):
    name_the_cast(acme)  # Alex Martin (agent), Sam Rivera (agent2), Dana Lee, Vic Viewer
    for membership, name in ((acme.owner, "Olga Owner"), (acme.admin, "Ada Admin")):
        membership.user.full_name = name  # not a random name that could be another Alex
        membership.user.save(update_fields=["full_name"])
    return acme


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("@alex can you look?", {"agent"}),
        ("@Alex.Martin can you look?", {"agent"}),
        ("ask @agent2 and @dana", {"agent2", "supervisor"}),
        ("mail @agent@acme.test.", {"agent"}),
        ("nobody@client.test is not a mention", set()),
        ("@alexander is someone else", set()),
    ],
)
def test_a_mention_matches_a_members_name_or_address(named, text, who):
    found = {m.user.email.split("@")[0] for m in mentioned_members(named.org.pk, text)}
    assert found == who


def test_a_first_name_two_members_share_names_neither(named):
    named.agent2.user.full_name = "Alex Rivera"
    named.agent2.user.save(update_fields=["full_name"])
    assert mentioned_members(named.org.pk, "@alex") == []
    assert mentioned_members(named.org.pk, "@alex.rivera") == [named.agent2]


def test_the_handle_is_the_name_joined_by_dots_or_the_address(named, acme):
    assert member_handle(named.agent) == "alex.martin"
    acme.owner.user.full_name = ""
    assert member_handle(acme.owner) == "owner"


def test_a_note_notifies_the_members_it_mentions_and_no_other_organization(named, globex):
    ticket = services.ticket_create(organization=named.org, subject="Printer", actor=None)
    services.ticket_note_add(
        ticket=ticket, body="@alex and @sam.rivera: see this", actor=named.admin
    )
    notified = Notification.objects.filter(kind=Notification.Kind.MENTIONED)
    assert {n.recipient for n in notified} == {named.agent, named.agent2}
    assert not Notification.objects.filter(organization=globex.org).exists()


def test_the_note_box_offers_the_members_to_mention(named, inbox, web):
    from tests.mail import deliver, make_mail

    thread = deliver(make_mail()).thread
    html = web(named.agent).get(f"/acme/threads/{thread.reference}/").content.decode()
    assert 'id="mention-people"' in html
    assert '"handle": "sam.rivera", "name": "Sam Rivera"' in html
