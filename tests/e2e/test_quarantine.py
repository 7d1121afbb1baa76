"""A supervisor reads a held mail in the browser, sanitized in its sandboxed frame, blocks its
sender's domain, and finds the rule in the list; on a desktop and on a 390 px phone."""

from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.mail import deliver, make_mail
from threads.models import InboundMail, SenderRule

HOSTILE = (
    "<h2>Your invoice is overdue</h2><p>Please <b>pay</b> today.</p>"
    "<script>alert('script ran')</script>"
    "<img src=x onerror=\"alert('onerror ran')\">"
)


def _overflows(page) -> bool:
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return width > inner


def test_a_supervisor_reads_a_held_mail_and_blocks_its_senders_domain(acme, inbox, login):
    first = deliver(make_mail(to=inbox.address, message_id="<q@client.test>"))
    held = deliver(
        make_mail(
            to=inbox.address,
            sender="Mallory <mallory@evil-billing.test>",
            subject=f"Re: [{first.thread.reference}] Overdue invoice " + "x" * 120,
            message_id="<held@evil-billing.test>",
            html=HOSTILE,
            attachments=[("invoice.pdf.exe", "application/octet-stream", b"MZ")],
        )
    ).inbound
    assert held.status == "quarantined"

    page = login(acme.supervisor, viewport={"width": 1440, "height": 900})
    page.goto("/acme/quarantine/")
    page.click(f"#held-{held.pk} a:has-text('Overdue invoice')")
    expect(page.locator("h1")).to_contain_text("Overdue invoice")
    expect(page.locator(".held-why")).to_contain_text("neither a participant")
    body = page.frame_locator("iframe.msg-frame")
    expect(body.locator("b")).to_have_text("pay")
    expect(body.locator("h2")).to_have_text("Your invoice is overdue")
    expect(page.locator(".attachments")).to_contain_text("invoice.pdf.exe")
    assert not _overflows(page)
    shot(page, "quarantine-read-1440")

    page.set_viewport_size({"width": 390, "height": 900})
    page.reload()
    expect(body.locator("b")).to_have_text("pay")
    assert not _overflows(page)
    shot(page, "quarantine-read-390")

    block = page.locator("form[action$='/block/']")
    block.locator("input[value=domain]").check()
    block.locator("select[name=action]").select_option("refuse")
    block.locator("button:has-text('Block')").click()
    expect(page.locator(".messages")).to_contain_text("Blocked @evil-billing.test")
    assert InboundMail.objects.get(pk=held.pk).status == "discarded"
    rule = SenderRule.objects.get(organization=acme.org)
    assert (rule.kind, rule.pattern, rule.action) == ("block", "@evil-billing.test", "refuse")

    page.click("text=Blocked and allowed senders")
    expect(page.locator(f"#rule-{rule.pk}")).to_contain_text("anyone at evil-billing.test")
    assert not _overflows(page)
    shot(page, "sender-rules-390")
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, "sender-rules-1440")

    # The next mail from that domain is refused, with the reason in the inbound log.
    refused = deliver(make_mail(to=inbox.address, sender="bob@evil-billing.test")).inbound
    assert refused.status == "rejected"
    admin = login(acme.admin, viewport={"width": 1440, "height": 900})
    admin.goto("/acme/settings/inbound/?status=rejected")
    expect(admin.locator(f"#inbound-{refused.pk}")).to_contain_text("blocks mail from the domain")
    shot(admin, "inbound-log-1440")
    assert page.errors == [] and page.dialogs == []  # nothing in the mail ran
