"""Hostile mail in a real browser: every body is rendered in the conversation page, and nothing
runs, nothing pops up, nothing is fetched from another host.

The mails: the XSS corpus of the sanitizer's tests (OWASP filter evasion, html5sec, mutation
XSS, webmail exploits), a few crafted here (script, event handlers, javascript: links, SVG,
CSS expressions, meta refresh, frames, forms, hostile headers and file names), and the real
HTML mails of the corpus in tests/corpus/.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_conversation import LOCAL_HOSTS, block_the_internet, host
from tests.lib.test_html import XSS_CORPUS
from tests.mail import CORPUS, deliver, make_mail
from threads.models import InboundMail, Thread

CRAFTED = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click me</a>',
    '<a href=" JaVaScRiPt:alert(1)">spaced</a><a href="java&#x09;script:alert(1)">tab</a>',
    "<svg onload=alert(1)><circle r=10></circle></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text y="20">svg link</text></a></svg>',
    '<div style="width: expression(alert(1)); background: url(javascript:alert(1))">css</div>',
    '<div style="background-image: url(https://evil.example/bg.png)">background</div>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">refresh',
    '<iframe src="https://evil.example/"></iframe><iframe srcdoc="<script>alert(1)</script>">',
    '<form action="https://evil.example/"><input name="q" autofocus onfocus="alert(1)">'
    "<button>Go</button></form>",
    '<base href="https://evil.example/"><a href="/relative">relative link</a>',
    '<link rel="stylesheet" href="https://evil.example/x.css"><p>link tag</p>',
    "<style>@import url(https://evil.example/x.css); body { background: red }</style>styled",
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x">',
    '<img src="https://evil.example/track.gif" width="1" height="1"> tracked',
    '<img srcset="https://evil.example/a.png 1x" src="data:image/png;base64,iVBORw0KGgo=">',
    "<video src=x onerror=alert(1)></video><audio src=x onerror=alert(1)></audio>",
    "<details open ontoggle=alert(1)><summary>toggle</summary></details>",
    '<body onload="alert(1)"><p>body onload</p></body>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="https://example.com/" target="_top" style="position:fixed;inset:0">overlay</a>',
    '<p style="margin-top:-9999px">negative margin</p>',
    "<isindex action=javascript:alert(1) type=image>",
]

CRAFTED_TEXT = [
    "<script>alert('text')</script>",
    '"><img src=x onerror=alert(1)> javascript:alert(1)',
    "Visit https://example.com/?q=<script>alert(1)</script> now",
]

# The corpus' real mails that carry HTML: the ones whose bodies go to the frame.
CORPUS_HTML = sorted(
    entry["file"]
    for entry in json.loads((CORPUS / "expected.json").read_text())
    if entry["file"].endswith((".eml", ".txt"))
    and re.search(rb"text/html", (CORPUS / entry["file"]).read_bytes(), re.IGNORECASE)
)

FRAME_CHECK = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['script', 'iframe', 'frame', 'object', 'embed', 'form', 'input', 'button', 'meta',
         'base', 'link', 'svg', 'math', 'style'].includes(tag) && !el.closest('head')) {
      bad.push('<' + tag + '>');
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(tag + '[' + name + ']');
      if (/^(java|vb)script:/.test(value)) bad.push(tag + '[' + name + '=' + value + ']');
      if (name === 'srcdoc' || name === 'srcset' || name === 'action') bad.push(name);
    }
  }
  const head = document.head;
  const heads = head ? head.querySelectorAll('script, base, link, meta[http-equiv]') : [];
  if (heads.length) bad.push('head: ' + heads.length);
  return bad;
}"""

PAGE_CHECK = """() => {
  const bad = [];
  for (const s of document.querySelectorAll('script')) {
    // A JSON data block (json_script) runs nothing, as long as nothing in it broke out.
    if (s.type === 'application/json' && !s.src && !s.textContent.includes('<')) continue;
    if (!s.src || !new URL(s.src).pathname.startsWith('/static/')) {
      bad.push('script ' + s.outerHTML.slice(0, 80));
    }
  }
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith('on')) bad.push(el.tagName + '[' + attr.name + ']');
    }
  }
  for (const frame of document.querySelectorAll('iframe')) {
    const sandbox = frame.getAttribute('sandbox');
    if (sandbox !== 'allow-popups allow-popups-to-escape-sandbox') bad.push('sandbox ' + sandbox);
  }
  return bad;
}"""


def deliver_thread(inbox, bodies: list[str], *, html: bool, subject: str) -> Thread:
    """One conversation of hostile mails from one client, each body its own message."""
    thread = None
    for number, body in enumerate(bodies):
        prefix = f"Re: [{thread.reference}] " if thread else ""
        mail = make_mail(
            sender='"<img src=x onerror=alert(9)>" <jane@client.test>',
            to=inbox.address,
            subject=f"{prefix}{subject}",
            body=body if not html else f"(text part {number})",
            html=body if html else "",
            attachments=[
                ('"><img src=x onerror=alert(8)>.html', "text/html", b"<script>x</script>")
            ]
            if number == 0
            else (),
        )
        result = deliver(mail)
        assert result.inbound.status == InboundMail.Status.ACCEPTED, result.inbound.reason
        thread = result.thread
    return thread


def render_safely(page, requested: list[str], reference: str) -> int:
    """Open a conversation, unfold every quoted part, load every frame; check the whole of it.

    Returns how many messages the page shows."""
    page.goto(f"/acme/threads/{reference}/")
    page.evaluate(
        "() => { document.querySelectorAll('details').forEach(d => d.open = true);"
        " document.querySelectorAll('iframe[loading]').forEach(f => f.loading = 'eager'); }"
    )
    expect(page.locator("h1")).to_be_visible()
    frames = page.locator("iframe.msg-frame").element_handles()
    for element in frames:
        frame = element.content_frame()
        frame.wait_for_url(re.compile(r"/messages/\d+/body/$"))
        frame.wait_for_load_state("load")
        assert frame.evaluate(FRAME_CHECK) == [], (reference, frame.url)
    assert len(page.frames) == len(frames) + 1  # no frame of a mail's own
    assert page.evaluate(PAGE_CHECK) == [], reference
    page.wait_for_timeout(200)  # a late timer or a refresh would show here
    assert page.url.endswith(f"/acme/threads/{reference}/")
    outside = {host(url) for url in requested} - LOCAL_HOSTS - {"data"}
    assert not outside, [url for url in requested if host(url) in outside]
    return page.locator(".msg").count()


@pytest.fixture
def browse(acme, login):
    page = login(acme.agent)
    requested: list[str] = []
    block_the_internet(page.context, requested)

    def check(reference: str) -> int:
        return render_safely(page, requested, reference)

    yield check
    assert page.dialogs == [], page.dialogs
    assert page.errors == [], page.errors


def test_the_sanitizers_xss_corpus_and_crafted_mail_run_nothing(acme, inbox, browse):
    snippets = CRAFTED + XSS_CORPUS
    shown = 0
    for start in range(0, len(snippets), 40):
        chunk = snippets[start : start + 40]
        thread = deliver_thread(
            inbox, chunk, html=True, subject=f"<script>alert('subject')</script> part {start}"
        )
        shown += browse(thread.reference)
    assert shown == len(snippets)


def test_hostile_plain_text_is_shown_as_text(acme, inbox, browse, login):
    thread = deliver_thread(inbox, CRAFTED_TEXT, html=False, subject="<b>plain</b>")
    assert browse(thread.reference) == len(CRAFTED_TEXT)
    page = login(acme.agent)
    page.goto(f"/acme/threads/{thread.reference}/")
    expect(page.locator(".msg-text").first).to_contain_text("<script>alert('text')</script>")
    expect(page.locator("h1")).to_have_text("<b>plain</b>")
    expect(page.locator(".msg .who-line strong").first).to_have_text("<img src=x onerror=alert(9)>")


def test_the_real_html_mails_of_the_corpus_render_safely(acme, inbox, browse):
    assert len(CORPUS_HTML) >= 10
    references = set()
    for name in CORPUS_HTML:
        result = deliver((CORPUS / name).read_bytes(), recipient=inbox.address)
        if result.inbound.status == InboundMail.Status.ACCEPTED:
            references.add(result.thread.reference)
    assert len(references) >= 8
    assert sum(browse(reference) for reference in sorted(references)) >= len(references)
