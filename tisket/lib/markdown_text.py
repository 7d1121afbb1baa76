"""What agents write (replies, notes) as HTML: Markdown with tables and bare links, sanitized.

Raw HTML in the source is escaped before Markdown sees it: agents write text, not markup.
The result goes through the same nh3 allow-list as inbound mail, so a link with a
`javascript:` target or an image with an event handler cannot come out of it.
"""

import re
import xml.etree.ElementTree as etree

import markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

from tisket.lib.html import sanitize_html

# A bare web address; it stops at white space, quotes and the escaped angle brackets.
_BARE_URL = r"(?<![\w/@.:=\"'])((?:https?://|www\.)(?:(?!&lt;|&gt;)[^\s<>\"'`])+)"
_TRAILING = ".,;:!?*_~'\""


class _BareUrlProcessor(InlineProcessor):
    """`https://example.com/a` in running text becomes a link, like in every chat tool."""

    ANCESTOR_EXCLUDES = ("a",)

    def handleMatch(self, m: re.Match, data: str):
        url = m.group(1)
        end = m.end(1)
        # Punctuation after an address belongs to the sentence; a ")" only when unbalanced.
        while url and (
            url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))
        ):
            url, end = url[:-1], end - 1
        if url.endswith(("&amp;", "&lt;", "&gt;")) or len(url) < 8:
            return None, None, None
        link = etree.Element("a")
        link.set("href", url if "://" in url else f"https://{url}")
        link.text = AtomicString(url)
        return link, m.start(1), end


class _BareUrls(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After links and <autolinks> (120), before entities (80) take `&amp;` out of the text.
        md.inlinePatterns.register(_BareUrlProcessor(_BARE_URL, md), "bare_url", 85)


def markdown_html(text: str) -> str:
    """Markdown (lists, tables, bare links, line breaks kept) as sanitized HTML."""
    source = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = markdown.markdown(source, extensions=["sane_lists", "nl2br", "tables", _BareUrls()])
    return sanitize_html(html)


SIGNATURE_DELIMITER = "-- "  # RFC 3676 4.3: mail programs recognise, fold or cut what follows


def signature_append(body: str, signature: str) -> str:
    """The reply with the agent's signature under it, unless it holds that signature already
    (typed, pasted, or kept from a draft): a reply never carries it twice."""
    signature = "\n".join(line.rstrip() for line in signature.strip().splitlines()).strip()
    if not signature or " ".join(signature.split()) in " ".join(body.split()):
        return body
    return f"{body.rstrip()}\n\n{SIGNATURE_DELIMITER}\n{signature}"
