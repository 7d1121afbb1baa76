"""The conversation page in a real browser: reading, replying, notes, macros, the side panel,
two agents on one thread, and a new conversation."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from tests.tickets.conversation_seed import inline_image_mail, name_the_cast, seed_conversation
from threads.models import Message, OutboundMail, Thread
from tickets.models import Note, Ticket

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
BLANK_GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def htmx_settled(page) -> None:
    """Wait until htmx has swapped, settled and wired up new content (a swapped-in
    form listens for `change` only once htmx has processed it)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    page.wait_for_timeout(50)


def thread_url(conv) -> str:
    return f"/acme/threads/{conv.thread.reference}/"


def full_shot(page, name: str) -> None:
    """A screenshot of the whole page with every frame painted (frames off-screen are not)."""
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(300)
    shot(page, name)
    page.set_viewport_size(size)


def host(url: str) -> str:
    found = re.match(r"^[a-z]+://\[?([^/:\]]+)", url)
    return found.group(1) if found else url.split(":", 1)[0]


def block_the_internet(context, requested: list[str]) -> None:
    """Record every request, and let none leave this machine: outside hosts get a blank GIF."""

    def handle(route):
        requested.append(route.request.url)
        if host(route.request.url) in LOCAL_HOSTS | {"data"}:
            route.continue_()
        else:
            route.fulfill(status=200, content_type="image/gif", body=BLANK_GIF)

    context.route("**/*", handle)


def test_an_agent_works_a_conversation(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    deliver(inline_image_mail(in_reply_to="<first@client.test>"))
    page = login(acme.agent)
    requested: list[str] = []
    block_the_internet(page.context, requested)
    page.goto(thread_url(conv))
    expect(page.locator("h1")).to_have_text("Cannot log in since this morning")
    first = page.frame_locator(f"#message-{conv.first.pk} iframe")
    expect(first.locator("b")).to_have_text("my session expired")
    expect(page.locator(f"#note-{conv.note.pk}")).to_contain_text("Internal note")
    expect(page.locator(".msg.is-failed")).to_contain_text("Not delivered.")
    expect(page.locator("#side-panel")).to_contain_text("Next response")
    # The inline image shows; remote images wait for the agent's click.
    inline = page.frame_locator("iframe.msg-frame").last.locator("img")
    expect(inline).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert not [url for url in requested if "tracker.example" in url]
    full_shot(page, "conversation")

    # Remote images: only after "Show remote images", and then from the frame only.
    with page.expect_request(re.compile(r"^https://tracker\.example/pixel\.gif$")):
        page.locator(f"#message-{conv.first.pk} .show-remote").click()
    expect(first.locator("img")).to_have_attribute("src", "https://tracker.example/pixel.gif")
    assert any("tracker.example/pixel.gif" in url for url in requested)

    # A reply, in Markdown.
    page.fill("#reply-body", "Please update the app to **4.2** and try again.")
    page.set_input_files(
        "#pane-reply input[type=file]",
        files=[{"name": "steps.txt", "mimeType": "text/plain", "buffer": b"1. Update\n"}],
    )
    expect(page.locator("[data-files]")).to_have_text("steps.txt")
    page.click("#pane-reply [data-send]")
    page.wait_for_url(re.compile(r"#message-\d+$"))
    reply = Message.objects.filter(thread=conv.thread).latest("id")
    assert reply.text == "Please update the app to **4.2** and try again."
    assert OutboundMail.objects.filter(message=reply, kind="reply").exists()
    assert list(reply.attachments.values_list("filename", flat=True)) == ["steps.txt"]
    expect(page.locator(f"#message-{reply.pk} .attachments")).to_contain_text("steps.txt")
    expect(page.frame_locator(f"#message-{reply.pk} iframe").locator("strong")).to_have_text("4.2")
    expect(page.locator(".messages")).to_contain_text("Reply sent.")

    # A note, from the keyboard: n opens the note tab, Ctrl+Enter adds it.
    page.locator("h1").click()
    page.keyboard.press("n")
    expect(page.locator("#note-body")).to_be_focused()
    page.keyboard.type("Checked the SSO logs: nothing there.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"#note-\d+$"))
    note = Note.objects.latest("id")
    assert note.body == "Checked the SSO logs: nothing there."
    expect(page.locator(f"#note-{note.pk}")).to_contain_text("Checked the SSO logs")

    # A macro: its text goes into the reply box; its actions wait for the reply to be sent.
    page.locator("h1").click()
    page.keyboard.press("r")
    expect(page.locator("#reply-body")).to_be_focused()
    page.select_option("#macro-select", str(conv.macro.pk))
    page.click("[data-macro=insert]")
    expect(page.locator("#reply-body")).to_have_value(re.compile(r"^Hello Jane Client,"))
    page.fill("#reply-body", "")
    page.select_option("#macro-select", str(conv.macro.pk))
    page.click("[data-macro=apply]")
    expect(page.locator("#reply-body")).to_have_value(re.compile("Which version of the app"))
    expect(page.locator("#reply-body")).to_have_value(re.compile("Alex Martin$"))
    expect(page.locator("[data-macro-pending]")).to_contain_text(
        "On send: status Waiting on customer · tags +needs-info"
    )
    expect(page.locator("#side-panel .side-title .status")).not_to_have_text("Waiting on customer")
    assert Ticket.objects.get(pk=conv.ticket.pk).status != Ticket.Status.WAITING_ON_CUSTOMER
    page.click("#pane-reply [data-send]")
    page.wait_for_url(re.compile(r"#message-\d+$"))
    expect(page.locator("#side-panel .side-title .status")).to_have_text("Waiting on customer")
    expect(page.locator("#f-tags")).to_have_value("login, needs-info")

    # The side panel: status, then assignee.
    htmx_settled(page)
    with page.expect_response(re.compile(r"/update/$")):
        page.select_option("#f-status", "in_progress")
    expect(page.locator("#side-panel .side-title .status")).to_have_text("In progress")
    htmx_settled(page)
    with page.expect_response(re.compile(r"/update/$")):
        page.select_option("#f-assignee", str(acme.agent2.pk))
    expect(page.locator("#f-assignee")).to_have_value(str(acme.agent2.pk))
    ticket = Ticket.objects.get(pk=conv.ticket.pk)
    assert ticket.status == Ticket.Status.IN_PROGRESS
    assert ticket.assignee == acme.agent2
    htmx_settled(page)
    with page.expect_response(re.compile(r"/update/$")):
        page.fill("#f-tags", "login, needs-info, VIP")
        page.keyboard.press("Enter")
    expect(page.locator("#f-tags")).to_have_value("login, needs-info, vip")

    page.locator("summary", has_text="Timeline").click()
    expect(page.locator(".events")).to_contain_text("assigned it to agent2@acme.test")
    assert {host(url) for url in requested} <= LOCAL_HOSTS | {"tracker.example"}, requested
    assert page.errors == [] and page.dialogs == []


def test_two_agents_on_one_thread_see_each_other_and_no_reply_skips_new_mail(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    # The pages' clocks are the test's: a heartbeat comes when the test moves time on.
    alex = login(acme.agent)
    alex.clock.install()
    with alex.expect_response(re.compile(r"/presence/$")):
        alex.goto(thread_url(conv))
    sam = login(acme.agent2)
    sam.clock.install()
    sam.goto(thread_url(conv))
    expect(sam.locator("#presence")).to_have_text("Alex Martin is viewing")
    # Alex's page learns it at its next heartbeat (every 10 s).
    with alex.expect_response(re.compile(r"/presence/$")):
        alex.clock.run_for(10_000)
    expect(alex.locator("#presence")).to_have_text("Sam Rivera is viewing")

    # Alex starts writing: Sam is told at his page's next heartbeat.
    with alex.expect_response(re.compile(r"/presence/$")):
        alex.fill("#reply-body", "Try the new version, please.")
    with sam.expect_response(re.compile(r"/presence/$")):
        sam.clock.run_for(10_000)
    expect(sam.locator("#presence")).to_have_text("Alex Martin is replying")
    expect(sam.locator(".presence-chip.is-typing")).to_be_visible()

    # Jane writes again before Alex sends: his reply waits until he has read it.
    news = deliver(
        make_mail(
            subject=f"Re: [{conv.thread.reference}] Cannot log in",
            body="Update: it also fails on my laptop.",
        )
    ).message
    sent = Message.objects.count()
    alex.click("#pane-reply [data-send]")
    expect(alex.locator(".alert-warn")).to_contain_text(
        "A new message arrived; read it before sending"
    )
    expect(alex.locator(f"#message-{news.pk}")).to_contain_text("it also fails on my laptop")
    expect(alex.locator(f"#message-{news.pk}")).to_have_class(re.compile("is-new"))
    expect(alex.locator("#reply-body")).to_have_value("Try the new version, please.")
    assert Message.objects.count() == sent
    shot(alex, "conversation-new-message-warning")
    alex.click("#pane-reply [data-send]")
    alex.wait_for_url(re.compile(r"#message-\d+$"))
    assert Message.objects.filter(thread=conv.thread).latest("id").text == (
        "Try the new version, please."
    )
    # The held reply's page came back as 409 Conflict, which the browser notes; nothing else.
    conflict = "Failed to load resource: the server responded with a status of 409 (Conflict)"
    assert own_errors(alex) == [conflict] and alex.dialogs == []
    assert own_errors(sam) == [] and sam.dialogs == []


def own_errors(page) -> list[str]:
    """The page's errors but the test clock's own script, which the mails' sandboxed
    frames refuse to run (as they refuse every script)."""
    return [
        e
        for e in page.errors
        if not re.match(r"Blocked script execution in '[^']*/messages/\d+/body/'", e)
    ]


def test_a_viewer_reads_without_a_reply_box(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    page = login(acme.viewer)
    page.goto(thread_url(conv))
    expect(page.locator("h1")).to_have_text("Cannot log in since this morning")
    expect(page.locator("#reply")).to_have_count(0)
    expect(page.locator("#side-panel select")).to_have_count(0)
    page.keyboard.press("r")
    assert page.errors == [] and page.dialogs == []


def test_the_conversation_fits_a_phone(acme, inbox, login):
    conv = seed_conversation(acme, inbox)
    page = login(acme.agent)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(thread_url(conv))
    expect(page.locator("#reply-body")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "conversation-phone")
    assert page.errors == [] and page.dialogs == []


def test_an_agent_starts_a_new_conversation(acme, inbox, login):
    name_the_cast(acme)
    page = login(acme.agent)
    page.goto("/acme/")
    page.click("nav.mainnav >> text=New conversation")
    expect(page.locator("h1")).to_have_text("New conversation")
    expect(page.locator("#new-inbox")).to_have_value(str(inbox.pk))
    page.fill("#new-to", "maria@client.test")
    page.fill("#new-cc", "finance@client.test")
    page.fill("#new-subject", "Your invoice for March")
    page.fill(
        "#new-body", "Hello Maria,\n\nyour invoice for March is **attached** to your account."
    )
    shot(page, "new-conversation")
    page.locator("#new-body").press("Control+Enter")
    page.wait_for_url(re.compile(r"/acme/threads/THD-ACME-\d+/$"))
    thread = Thread.objects.get(subject="Your invoice for March")
    expect(page.locator("h1")).to_have_text("Your invoice for March")
    expect(page.locator(".messages")).to_contain_text(f"Conversation {thread.reference} started")
    message = thread.messages.get()
    assert OutboundMail.objects.filter(message=message, to=["maria@client.test"]).exists()
    assert page.errors == [] and page.dialogs == []


def test_an_agent_sends_a_failed_reply_again(acme, inbox, login):
    from threads.outbound import reply_send_skipping_ticket

    conv = seed_conversation(acme, inbox)
    message, row = reply_send_skipping_ticket(
        thread=conv.thread, author=acme.agent, body="Your account is back."
    )
    OutboundMail.objects.filter(pk=row.pk).update(
        status=OutboundMail.Status.FAILED, attempts=1, last_error="550 5.2.2 Mailbox full"
    )
    page = login(acme.agent)
    page.goto(thread_url(conv))
    failed = page.locator(f"#message-{message.pk} .delivery")
    expect(failed).to_contain_text("Not delivered. 550 5.2.2 Mailbox full")
    failed.scroll_into_view_if_needed()
    shot(page, "conversation-send-again")

    failed.get_by_role("button", name="Send again").click()

    expect(page.locator(".messages")).to_contain_text("Queued to be sent again.")
    expect(page.locator(f"#message-{message.pk} .delivery")).to_contain_text("Sent")
    row.refresh_from_db()
    assert row.status == OutboundMail.Status.SENT
    assert page.errors == [] and page.dialogs == []


def test_a_sender_taken_from_reply_to_is_tagged_and_fits_a_phone(acme, inbox, login):
    raw = make_mail(
        subject="Imprimante en panne depuis ce matin",
        body="Bonjour, l'imprimante du deuxième étage ne répond plus.",
        headers={"Reply-To": "Jeanne-Marie de la Fontaine-Dubois <jeanne@client.test>"},
    )
    raw = b"\n".join(line for line in raw.split(b"\n") if not line.startswith(b"From:"))
    thread = deliver(raw, recipient=inbox.address).thread
    page = login(acme.agent)
    for width, height, name in ((1440, 900, "sender-note-wide"), (390, 844, "sender-note-phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/acme/threads/{thread.reference}/")
        tag = page.get_by_text("Sender repaired")
        expect(tag).to_be_visible()
        assert "Reply-To" in tag.get_attribute("title")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, name)
    assert page.errors == [] and page.dialogs == []
