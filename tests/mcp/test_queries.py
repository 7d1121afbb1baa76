"""The list tools read a page in a constant number of queries, however many rows it holds.

The tools are called in this thread (the server runs them the same way, on a worker
thread), so the queries can be counted on this connection.
"""

import pytest

from interface.mcp import caller, tools
from tests.mail import deliver, make_mail
from tickets import queues
from tisket.services import api_token_create


@pytest.fixture
def as_agent(acme, transactional_db):
    token, _ = api_token_create(membership=acme.agent, name="assistant")
    reset = caller.current.set(caller.Caller.of(token))
    yield
    caller.current.reset(reset)


def mails(inbox, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        deliver(make_mail(to=inbox.address, subject=f"Question {n}", sender=f"c{n}@client.test"))


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        (tools.list_threads, {}),
        (tools.search_conversations, {"query": "question"}),
        (tools.list_tickets, {}),
        (tools.list_inboxes, {}),
    ],
)
def test_a_page_costs_the_same_queries_for_two_rows_as_for_twelve(
    acme, inbox, as_agent, django_assert_max_num_queries, tool, arguments
):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    mails(inbox, 2)
    with django_assert_max_num_queries(12) as few:
        tool(**arguments)
    mails(inbox, 10, start=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        answer = tool(**arguments)
    assert len(next(v for v in answer.values() if isinstance(v, list))) in (1, 12)
