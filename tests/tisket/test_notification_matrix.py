"""The preferences matrix as pure rules: which cell applies, and whom it reaches."""

from datetime import time

import pytest

from tisket.notifications.matrix import Channel, Event, Scope, cell_resolve, quiet_now, reaches

E, C, S = Event, Channel, Scope


@pytest.mark.parametrize(
    ("event", "channel", "role", "member", "organization", "scope", "locked"),
    [
        # Built-in defaults: one's own tickets; supervisors hear of every breach.
        (E.ASSIGNED, C.EMAIL, "agent", None, None, S.MINE, False),
        (E.SLA_BREACHED, C.IN_APP, "agent", None, None, S.MINE, False),
        (E.SLA_BREACHED, C.IN_APP, "supervisor", None, None, S.ALL, False),
        (E.NEW_CONVERSATION, C.IN_APP, "agent", None, None, S.OFF, False),
        (E.RATING, C.EMAIL, "agent", None, None, S.OFF, False),
        # The organization's default replaces the built-in one, for every role.
        (E.NEW_CONVERSATION, C.IN_APP, "agent", None, ("queues", False), S.QUEUES, False),
        (E.SLA_BREACHED, C.IN_APP, "owner", None, ("mine", False), S.MINE, False),
        # The member's own choice wins over an unlocked default…
        (E.CLIENT_REPLIED, C.EMAIL, "agent", "off", ("all", False), S.OFF, False),
        # …and loses to a locked one.
        (E.CLIENT_REPLIED, C.EMAIL, "agent", "off", ("all", True), S.ALL, True),
        # No one goes below the floor: a breach of one's own ticket always mails.
        (E.SLA_BREACHED, C.EMAIL, "agent", "off", None, S.MINE, False),
        (E.SLA_BREACHED, C.EMAIL, "agent", "off", ("off", True), S.MINE, True),
        (E.SLA_BREACHED, C.EMAIL, "agent", "all", None, S.ALL, False),
        # A scope the event does not offer falls to the nearest one below it.
        (E.ASSIGNED, C.IN_APP, "agent", "all", None, S.MINE, False),
        (E.NEW_CONVERSATION, C.EMAIL, "agent", "mine", None, S.OFF, False),
    ],
)
def test_the_cell_that_applies(event, channel, role, member, organization, scope, locked):
    cell = cell_resolve(
        event=event, channel=channel, role=role, member=member, organization=organization
    )
    assert (cell.scope, cell.locked) == (scope, locked)


@pytest.mark.parametrize(
    ("scope", "relation", "told"),
    [
        (S.OFF, S.MINE, False),
        (S.MINE, S.MINE, True),
        (S.MINE, S.QUEUES, False),
        (S.QUEUES, S.MINE, True),
        (S.QUEUES, S.QUEUES, True),
        (S.QUEUES, S.ALL, False),
        (S.ALL, S.ALL, True),
    ],
)
def test_a_scope_reaches_the_narrower_relations(scope, relation, told):
    assert reaches(scope, relation) is told


@pytest.mark.parametrize(
    ("start", "end", "at", "quiet"),
    [
        (time(22), time(7), time(23, 30), True),
        (time(22), time(7), time(6, 59), True),
        (time(22), time(7), time(7), False),
        (time(22), time(7), time(12), False),
        (time(12), time(14), time(13), True),
        (time(12), time(14), time(14), False),
        (None, None, time(3), False),
        (time(9), time(9), time(9), False),
    ],
)
def test_quiet_hours_may_run_past_midnight(start, end, at, quiet):
    assert quiet_now(start, end, at) is quiet
