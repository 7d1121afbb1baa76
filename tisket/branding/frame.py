"""The one frame of every mail we send: an HTML part and a text part from the same base
templates (emails/frame.html, frame.txt), the organization's branding around the content,
the CSS inlined when the mail is built.

An agent's reply keeps looking like a person's mail: its text part is what they wrote,
and its HTML part gets a thin footer, not a banner.
"""

import re
from dataclasses import dataclass, field

import css_inline
from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

from tisket.branding.types import mail_type, wording_render

DEFAULT_COLOUR = "#2f6fde"
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")
# The separator the unsubscribe footer of a text part starts with (tisket.lib.unsubscribe).
_SIGNATURE = "\n\n--\n"

# Rules inside @media (narrow screens, dark mode) stay in a <style>; the rest is inlined,
# so that the core look needs no <style> at all. Nothing is fetched from anywhere.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Brand:
    """How one organization's mail looks (or the installation's, for mail of no organization)."""

    name: str
    colour: str = DEFAULT_COLOUR
    logo_url: str = ""
    postal_address: str = ""
    wording: dict[str, str] = field(default_factory=dict)
    organization_name: str = ""

    @property
    def on_colour(self) -> str:
        """Text on the brand colour: light on a dark colour, dark on a light one."""
        red, green, blue = (int(self.safe_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
        return "#1b1f27" if luminance > 0.6 else "#fbfbfc"

    @property
    def safe_colour(self) -> str:
        return self.colour if COLOUR_RE.fullmatch(self.colour or "") else DEFAULT_COLOUR


def installation_brand() -> Brand:
    """The brand of mail that belongs to no organization (a password reset)."""
    return Brand(name="Tisket", organization_name="Tisket")


def _split_unsubscribe(text: str, unsubscribe_url: str) -> tuple[str, str]:
    """The text, and its unsubscribe footer (which the HTML part shows in its own footer)."""
    if unsubscribe_url:
        head, sep, tail = text.rpartition(_SIGNATURE)
        if sep and unsubscribe_url in tail:
            return head, sep + tail
    return text, ""


def text_as_html(text: str) -> str:
    """Plain text (our own templates' mail) as HTML: escaped, paragraphs kept, links clickable."""
    return linebreaks(urlize(text.strip(), autoescape=True), autoescape=False)


def mail_framed(
    *,
    brand: Brand,
    kind: str,
    subject: str,
    text: str,
    html: str = "",
    recipient: str = "",
    unsubscribe_url: str = "",
) -> tuple[str, str]:
    """A mail's text and HTML parts in the organization's frame, the CSS inlined.

    `html` is already safe (sanitized Markdown, or ours); without it, the text is shown.
    """
    typ = mail_type(kind)
    source = brand.wording.get(typ.key)
    wording = wording_render(
        typ.default if source is None else source,
        organization_name=brand.organization_name or brand.name,
        sender_name=brand.name,
        recipient=recipient,
    )
    body_text, unsubscribe_text = _split_unsubscribe(text, unsubscribe_url)
    reply = typ.key == "reply"
    context = {
        "brand": brand,
        "colour": brand.safe_colour,
        "on_colour": brand.on_colour,
        "subject": subject,
        "heading": "" if reply else wording,
        "footer_note": wording if reply else "",
        "body": mark_safe(html or text_as_html(body_text)),  # noqa: S308 (sanitized or escaped)
        "text": body_text.strip(),
        "unsubscribe_url": unsubscribe_url,
        "unsubscribe_text": unsubscribe_text.strip(),
        "address_lines": [line for line in brand.postal_address.splitlines() if line.strip()],
    }
    template = "emails/frame_reply.html" if reply else "emails/frame.html"
    framed_html = _INLINER.inline(render_to_string(template, context))
    # An agent's reply is sent as written; every other mail gets its heading and footer.
    framed_text = text if reply else render_to_string("emails/frame.txt", context).strip() + "\n"
    return framed_text, framed_html
