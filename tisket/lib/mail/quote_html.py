"""An HTML reply as text lines: blockquotes as "> " lines, quote markers recorded for the cut."""

import re

from tisket.lib.lenient_html import LenientHTMLParser

_BLOCK_TAGS = (
    "address article aside blockquote center dd div dl dt fieldset figcaption figure footer form"
    " h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul"
)


class HTMLText(LenientHTMLParser):
    """HTML to text lines; blockquotes become "> " lines; quote markers are recorded."""

    BLOCK = frozenset(_BLOCK_TAGS.split())
    SKIP = frozenset(("head", "style", "script", "title", "template"))
    QUOTE_IDS = ("divrplyfwdmsg", "olk_src_body_section", "appendonsend")
    QUOTE_CLASSES = frozenset(
        ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "zmail_extra", "protonmail_quote")
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.depth = 0  # blockquote nesting
        self.skip = 0
        self.pre = 0
        self.markers: list[tuple[int, bool]] = []  # (line index, needs a From: block below)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
            return
        if tag == "body":
            self.skip = 0  # a <head> that was never closed
        if tag == "br":
            self._line(force=True)
            return
        if tag in self.BLOCK:
            self._line()
        marker = self._marker(tag, dict(attrs))
        if marker is not None:
            self._line()
            self.markers.append((len(self.lines), marker))
        if tag == "blockquote":
            self.depth += 1
        elif tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag in self.BLOCK:
            self._line()
        if tag == "blockquote":
            self.depth = max(0, self.depth - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            self.parts.append(re.sub(r"\s+", " ", data))
            return
        first, *more = data.split("\n")
        self.parts.append(first)
        for piece in more:
            self._line(force=True)
            self.parts.append(piece)

    def _marker(self, tag: str, attrs: dict[str, str | None]) -> bool | None:
        """None, or whether this quote marker must be followed by a From: block to count."""
        ident = (attrs.get("id") or "").lower()
        classes = set((attrs.get("class") or "").split())
        style = re.sub(r"\s+", "", attrs.get("style") or "").lower()
        if tag == "blockquote" and (attrs.get("type") or "").lower() == "cite":
            return False
        # Yahoo prefixes its ids and classes when a reply quotes a reply: "ydp5e6fyahoo_quoted".
        if ident.endswith(self.QUOTE_IDS) or "yahoo_quoted" in ident:
            return False
        if classes & self.QUOTE_CLASSES or any(c.endswith("yahoo_quoted") for c in classes):
            return False
        # Outlook 2007+ and Windows Mail draw a rule above the From: block.
        if tag == "hr" or "border-top:solid#" in style or "rgb(229,229,229)" in style:
            return True
        return None

    def _line(self, force: bool = False) -> None:
        text = "".join(self.parts)
        text = text.rstrip() if self.pre else text.strip()
        self.parts = []
        if text or force:
            self.lines.append(("> " * self.depth + text).rstrip())

    def finish(self) -> list[str]:
        self._line()
        return self.lines
