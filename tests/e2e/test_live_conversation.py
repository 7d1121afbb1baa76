"""An open conversation in a real browser: what others do appears without a reload, the reply
being typed is untouched and kept as a draft, and the agent's signature goes under the reply."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from tests.tickets.conversation_seed import seed_conversation
from threads.models import Message
from tickets import services
from tickets.models import ReplyDraft
from tisket.models import User

LIVE = re.compile(r"/live/\?")


def test_a_conversation_stays_current_while_the_agent_writes_and_keeps_the_draft(
    acme, inbox, login
):
    conv = seed_conversation(acme, inbox)
    User.objects.filter(pk=acme.agent.user_id).update(signature="Alex Martin\nAcme support")
    url = f"/acme/threads/{conv.thread.reference}/"
    for width, height, name in ((1440, 900, "desktop"), (390, 844, "phone")):
        alex = login(acme.agent, viewport={"width": width, "height": height})
        alex.clock.install()
        alex.goto(url)
        expect(alex.locator("[data-signature]")).to_contain_text("Your signature goes under")
        # Nothing changed yet: the page's poll answers 304 and the page stays as it is.
        with alex.expect_response(LIVE) as first:
            alex.clock.run_for(10_000)
        assert first.value.status == 304
        typed = f"Half a reply on the {name}"
        alex.fill("#reply-body", typed)
        with alex.expect_response(re.compile(r"/draft/$")) as saved:
            alex.clock.run_for(2_000)
        assert saved.value.ok
        expect(alex.locator("[data-draft-state]")).to_contain_text("Draft saved")
        assert ReplyDraft.objects.get(owner=acme.agent).body == typed

        # Meanwhile: the client writes, a colleague notes and moves the ticket on.
        news = deliver(
            make_mail(
                sender="Jane Client <jane@client.test>",
                subject=f"Re: [{conv.thread.reference}] Cannot log in",
                body=f"Still failing ({name}).",
            )
        ).message
        note = services.ticket_note_add(
            ticket=conv.ticket, body=f"Looking at the SSO ({name}).", actor=acme.agent2
        )
        status = "in_progress" if name == "desktop" else "open"
        services.ticket_set_status(ticket=conv.ticket, status=status, actor=acme.agent2)
        alex.locator("#reply-body").focus()
        with alex.expect_response(LIVE) as changed:
            alex.clock.run_for(10_000)
        assert changed.value.status == 200
        expect(alex.locator(f"#message-{news.pk}")).to_contain_text(f"Still failing ({name})")
        expect(alex.locator(f"#message-{news.pk}")).to_have_class(re.compile("is-new"))
        expect(alex.locator(f"#note-{note.pk}")).to_contain_text("Looking at the SSO")
        expect(alex.locator("#f-status")).to_have_value(status)
        expect(alex.locator("[data-live-notice]")).to_be_visible()
        # The reply being typed is as it was, focus included.
        expect(alex.locator("#reply-body")).to_have_value(typed)
        expect(alex.locator("#reply-body")).to_be_focused()
        shot(alex, f"conversation-live-{name}")

        # Opened again elsewhere (or later): the draft is in the reply box.
        other = alex.context.new_page()
        other.goto(url)
        expect(other.locator("#reply-body")).to_have_value(typed)
        shot(other, f"conversation-draft-restored-{name}")
        other.close()
        # Sent from the live page: the new message was shown, so nothing holds the reply back;
        # signed once.
        alex.click("#pane-reply [data-send]")
        alex.wait_for_url(re.compile(r"#message-\d+$"))
        sent = Message.objects.filter(thread=conv.thread).latest("id")
        assert sent.text == f"{typed}\n\n-- \nAlex Martin\nAcme support"
        assert not ReplyDraft.objects.filter(owner=acme.agent).exists()
        assert own_errors(alex) == [] and alex.dialogs == []
        alex.context.close()


def own_errors(page) -> list[str]:
    """The page's errors but the test clock's own script, which the mails' sandboxed frames
    refuse to run (as they refuse every script)."""
    return [
        e
        for e in page.errors
        if not re.match(r"Blocked script execution in '[^']*/messages/\d+/body/'", e)
    ]
