"""The knowledge base through the MCP server, with the SDK's own client: search and read as
the token's member may, articles as resources, the "draft a reply from the knowledge base"
prompt; nothing of another organization."""

import pytest
from mcp.shared.exceptions import MCPError

from kb.models import LedgerEntry
from tests.kb.conftest import _fresh_vectors, kb_acme, publish  # noqa: F401 (fixtures)
from tests.mail import deliver, make_mail

URI = "tisket://kb/articles/{}"


@pytest.fixture
def library(kb_acme, globex):  # noqa: F811 (the imported fixture)
    acme, articles = kb_acme
    publish(globex.org, "Reset your Globex password", "Globex secret steps.", tags=["password"])
    return acme, articles


def test_search_finds_what_the_tokens_member_may_read_and_says_what_clients_may_open(
    library, assistant
):
    acme, articles = library
    agent = assistant(acme.agent)
    found = agent.ok("search_kb", query="How do I reset my password?")["articles"]
    assert found[0]["slug"] == articles["public"].slug
    assert found[0]["for_clients"] is True
    assert found[0]["url"] == f"http://127.0.0.1:8000/hc/acme/a/{articles['public'].slug}/"
    assert all("Globex" not in a["title"] for a in found)

    [refunds] = agent.ok("search_kb", query="refund policy")["articles"]
    assert (refunds["slug"], refunds["for_clients"], refunds["url"]) == (
        articles["members"].slug, False, None
    )  # fmt: skip

    # Role-restricted and draft articles are for whom they say.
    for member, expected in ((acme.agent, set()), (acme.supervisor, {"Escalation contacts"})):
        titles = {
            a["title"] for a in assistant(member).ok("search_kb", query="escalation")["articles"]
        }
        assert titles == expected
    capped = assistant(acme.owner, role="agent")
    assert capped.ok("search_kb", query="escalation contacts")["articles"] == []
    assert capped.ok("search_kb", query="upcoming feature")["articles"] == []
    assert "query:" in agent.error("search_kb", query="?!")
    assert LedgerEntry.objects.filter(kind="search", place="api").count() >= 2


def test_an_article_is_read_by_slug_or_id_and_another_organizations_is_not_found(
    library, globex, assistant
):
    acme, articles = library
    agent = assistant(acme.agent)
    by_slug = agent.ok("get_article", article=articles["public"].slug)
    assert by_slug["body"] == "Open **Settings** and choose *Reset*."
    assert by_slug["tags"] == ["password", "login"]
    assert agent.ok("get_article", article=str(articles["members"].pk))["for_clients"] is False

    theirs = publish(globex.org, "Globex only", "Globex internal.")
    for reference in (
        theirs.slug,
        str(theirs.pk),
        articles["supervisors"].slug,
        articles["draft"].slug,
    ):
        message = agent.error("get_article", article=reference)
        assert "No article" in message and "in this organization" in message, reference
        assert "Globex internal" not in message


def test_articles_are_resources_listed_and_read_as_the_token_may(library, globex, assistant):
    acme, articles = library

    async def work(client):
        listed = (await client.list_resources()).resources
        read = await client.read_resource(URI.format(articles["members"].slug))
        try:
            await client.read_resource(URI.format("reset-your-globex-password"))
        except MCPError as error:
            refused = str(error)
        return listed, read, refused

    listed, read, refused = assistant(acme.agent).run(work)
    assert {r.title for r in listed} == {
        "Reset your password",
        "Download your invoices",
        "Refund policy for agents",
        "Server room door code",  # its category is for members
    }
    assert {str(r.uri) for r in listed} >= {URI.format(articles["public"].slug)}
    text = read.contents[0].text
    assert text.startswith("# Refund policy for agents")
    assert "internal: never quote or link it to a client" in text
    assert "Refunds up to 50 EUR." in text
    assert "No article" in refused
    assert "Globex" not in refused.replace("reset-your-globex-password", "")


def test_the_kb_reply_prompt_brings_the_conversation_and_the_matching_articles(
    library, globex, globex_inbox, inbox, assistant
):
    acme, articles = library
    thread = deliver(
        make_mail(to=inbox.address, subject="Password", body="How do I reset my password?")
    ).thread
    theirs = deliver(make_mail(to=globex_inbox.address, subject="Password")).thread

    async def work(client):
        prompt = await client.get_prompt("draft_reply_from_kb", {"reference": thread.reference})
        try:
            await client.get_prompt("draft_reply_from_kb", {"reference": theirs.reference})
        except MCPError as error:
            refused = str(error)
        return prompt, refused

    prompt, refused = assistant(acme.agent).run(work)
    text = prompt.messages[0].content.text
    assert f"draft_reply on {thread.reference}" in text
    assert "<untrusted>\nHow do I reset my password?" in text
    assert "## 1. Reset your password (for clients: http://127.0.0.1:8000/hc/acme/a/" in text
    assert "Open **Settings** and choose *Reset*." in text
    assert "Globex" not in text
    assert "Call the on-call lead" not in text  # a supervisors' article, for an agent
    assert f"No conversation '{theirs.reference}' in this organization" in refused
    shown = LedgerEntry.objects.filter(kind="shown", place="api", conversation_id=thread.pk)
    assert articles["public"].pk in {e.article_id for e in shown}
