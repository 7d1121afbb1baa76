"""Email HTML: a strict sanitizer for display, a plain-text rendering, and header value cleaning.

Inbound HTML is hostile. `sanitize_html` keeps a small allow-list of tags and attributes and
rewrites remote image sources to the inert `tisket-remote:` scheme so that displaying a stored
message loads nothing from the network (no tracking pixels) until an agent asks for it.
"""

import functools
import re
import unicodedata

import nh3

from tisket.lib.lenient_html import LenientHTMLParser

REMOTE_IMAGE_PREFIX = "tisket-remote:"

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "div", "span", "a", "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup",
        "small", "big", "font", "blockquote", "pre", "code", "hr",
        "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
        "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col",
        "img", "center", "abbr", "cite", "q", "address",
    }
)  # fmt: skip

# Tags removed with everything inside them; any other unknown tag is unwrapped (text kept).
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "svg", "math", "iframe", "frame", "frameset", "object", "embed",
        "applet", "form", "input", "button", "select", "textarea", "template", "noscript",
        "title", "head", "meta", "link", "base",
    }
)  # fmt: skip

_CELL_ATTRS = {"align", "valign", "width", "height", "colspan", "rowspan", "bgcolor", "nowrap"}
_ATTRIBUTES = {
    "*": {"dir", "lang", "title", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border", "align", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "table": {"align", "width", "height", "border", "cellpadding", "cellspacing", "bgcolor"},
    "tr": {"align", "valign", "height", "bgcolor"},
    "td": _CELL_ATTRS,
    "th": _CELL_ATTRS | {"scope", "abbr"},
    "thead": {"align", "valign"},
    "tbody": {"align", "valign"},
    "tfoot": {"align", "valign"},
    "col": {"span", "width", "align", "valign"},
    "colgroup": {"span", "width", "align", "valign"},
    "caption": {"align"},
    "p": {"align"},
    "div": {"align"},
    "h1": {"align"},
    "h2": {"align"},
    "h3": {"align"},
    "h4": {"align"},
    "h5": {"align"},
    "h6": {"align"},
    "hr": {"align", "width", "size", "noshade", "color"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value", "type"},
}

# A second line of defence: nh3 drops URLs with other schemes before our attribute filter runs.
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data", REMOTE_IMAGE_PREFIX[:-1]}
_LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|jpg|pjpeg|webp|bmp)[;,]", re.IGNORECASE)
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))

_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color",
        "font", "font-family", "font-size", "font-style", "font-variant", "font-weight",
        "font-stretch",
        "text-align", "text-decoration", "text-decoration-color", "text-decoration-line",
        "text-decoration-style", "text-indent", "text-transform", "text-shadow", "text-overflow",
        "line-height", "letter-spacing", "word-spacing",
        "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
        "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
        "border", "border-color", "border-style", "border-width", "border-radius",
        "border-top", "border-right", "border-bottom", "border-left",
        "border-top-color", "border-right-color", "border-bottom-color", "border-left-color",
        "border-top-style", "border-right-style", "border-bottom-style", "border-left-style",
        "border-top-width", "border-right-width", "border-bottom-width", "border-left-width",
        "border-top-left-radius", "border-top-right-radius", "border-bottom-left-radius",
        "border-bottom-right-radius", "border-collapse", "border-spacing",
        "width", "height", "max-width", "min-width",
        "vertical-align", "white-space", "display", "float", "clear", "direction",
        "list-style-type", "table-layout",
    }
)  # fmt: skip
_CSS_COLOR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\([^()]*\)", re.IGNORECASE)
# With every function but colours refused, url(), expression() and image-set() cannot appear;
# backslashes (CSS escapes) and comments could spell them past a naive check.
_CSS_FORBIDDEN = re.compile(r"[()\\<>{}@]|/\*")

# Control characters that reorder or hide text: bidi embeddings/overrides/isolates and marks.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def sanitize_html(html: str) -> str:
    """Return email HTML reduced to a safe allow-list, with remote images neutralized."""
    return _clean(html, show_remote_images=False)


def restore_remote_images(html: str) -> str:
    """Re-sanitize stored HTML, turning `tisket-remote:` image sources back into their URLs."""
    return _clean(html, show_remote_images=True)


def has_remote_images(html: str) -> bool:
    """Tell whether the HTML has an image loaded from the network, neutralized or not."""
    finder = _RemoteImageFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def _clean(html: str, *, show_remote_images: bool) -> str:
    return _cleaner(show_remote_images).clean(html)


@functools.cache
def _cleaner(show_remote_images: bool) -> nh3.Cleaner:
    """The sanitizer, built once per mode: building it cost twice what cleaning a mail does."""

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "style":
            return _filter_style(value)
        if tag == "a" and attribute == "href":
            return _filter_link(value)
        if tag == "img" and attribute == "src":
            return _filter_image_source(value, show_remote=show_remote_images)
        return value

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
        generic_attribute_prefixes=set(),
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes=set(_URL_SCHEMES),
        filter_style_properties=set(_STYLE_PROPERTIES),
    )


def sanitize_article_html(html: str, *, local_prefix: str) -> str:
    """Knowledge-base HTML through the mail allow-list, but serving its own files.

    Images load only from `local_prefix` (the organization's help-centre files) or inline
    data; links may also be relative to this site. Everything else is as for mail.
    """
    return _article_cleaner(local_prefix).clean(html)


@functools.lru_cache(maxsize=64)
def _article_cleaner(local_prefix: str) -> nh3.Cleaner:
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "style":
            return _filter_style(value)
        if tag == "a" and attribute == "href":
            url, scheme = _normalize_url(value)
            if scheme is None and url.startswith(("/", "#")) and not url.startswith("//"):
                return url
            return _filter_link(value)
        if tag == "img" and attribute == "src":
            url, scheme = _normalize_url(value)
            if scheme is None and url.startswith(local_prefix) and ".." not in url:
                return url
            if scheme == "data":
                return url if _DATA_IMAGE.match(url) else None
            return None
        return value

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()}
        | {"h2": {"align", "id"}, "h3": {"align", "id"}},
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
        generic_attribute_prefixes=set(),
        url_schemes=set(_URL_SCHEMES),
        filter_style_properties=set(_STYLE_PROPERTIES),
    )


def _normalize_url(value: str) -> tuple[str, str | None]:
    """The URL as a browser reads it, and its lower-cased scheme (None when relative)."""
    # Browsers ignore leading/trailing C0 controls and spaces and every tab or newline inside.
    url = re.sub(r"[\t\n\r]", "", value).strip(_C0_AND_SPACE)
    match = _SCHEME.match(url)
    return url, match.group(1).lower() if match else None


def _filter_link(value: str) -> str | None:
    url, scheme = _normalize_url(value)
    return url if scheme in _LINK_SCHEMES else None


def _filter_image_source(value: str, *, show_remote: bool) -> str | None:
    url, scheme = _normalize_url(value)
    if scheme == "cid":
        return url
    if scheme == "data":
        return url if _DATA_IMAGE.match(url) else None
    if scheme == REMOTE_IMAGE_PREFIX[:-1]:
        url, scheme = _normalize_url(url[len(REMOTE_IMAGE_PREFIX) :])
    if scheme in ("http", "https") or (scheme is None and url.startswith("//")):
        return url if show_remote else REMOTE_IMAGE_PREFIX + url
    # Relative sources would be requested from our own origin; anything else is not an image.
    return None


def _filter_style(value: str) -> str | None:
    kept = []
    for declaration in value.split(";"):
        name, _, css = declaration.partition(":")
        name, css = name.strip().lower(), css.strip()
        if name == "background":
            # Outlook writes cell colours as the shorthand; with url() refused below, what is
            # left is at most a colour (anything else is an invalid background-color, ignored).
            name = "background-color"
        if name not in _STYLE_PROPERTIES or not css:
            continue
        if _CSS_FORBIDDEN.search(_CSS_COLOR_FUNCTION.sub("", css)):
            continue
        if css.count('"') % 2 or css.count("'") % 2:
            continue
        # Negative margins let a message draw itself over the interface around it.
        if name.startswith("margin") and "-" in css:
            continue
        kept.append(f"{name}:{css}")
    return ";".join(kept) or None


class _RemoteImageFinder(LenientHTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img" or self.found:
            return
        for name, value in attrs:
            if name == "src" and value:
                url, scheme = _normalize_url(value)
                remote = scheme in ("http", "https") or (scheme is None and url.startswith("//"))
                if remote or url.lower().startswith(REMOTE_IMAGE_PREFIX):
                    self.found = True


# --- Plain text --------------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "dl", "hr"}
)
_LINE_TAGS = frozenset(
    {
        "div", "address", "article", "aside", "center", "caption", "dd", "details", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "header", "main", "nav",
        "section", "summary", "tr", "tbody", "thead", "tfoot",
    }
)  # fmt: skip
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
# Zero-width characters that marketing mail pads preview text with.
_INVISIBLE = str.maketrans("", "", "\u00ad\u034f\u200b\u200c\u200d\u2060\ufeff")
_TEXT_LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel", "ftp"})


def html_to_text(html: str) -> str:
    """Render email HTML as readable plain text (used when a mail has no text part)."""
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()


class _TextRenderer(LenientHTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line = ""  # the line being written, prefix included
        self.line_has_content = False
        self.breaks = 0  # line breaks owed before the next content
        self.marker = ""  # list item marker owed before the next content
        self.quote_depth = 0
        self.list_depth = 0
        self.pre_depth = 0
        self.skipping: list[str] = []
        self.links: list[tuple[str, list[str]]] = []

    # Structure

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skipping.clear()  # a document whose <head> was never closed
        if tag in _SKIPPED_TAGS:
            self.skipping.append(tag)
        if self.skipping:
            return
        if tag == "br":
            self.breaks += 1
        elif tag in ("ul", "ol"):
            self._block(1 if self.list_depth else 2)
            self.list_depth += 1
        elif tag == "li":
            self._block(1)
            self.marker = "  " * max(self.list_depth - 1, 0) + "- "
        elif tag == "blockquote":
            self._block(2)
            self.quote_depth += 1
        elif tag == "pre":
            self._block(2)
            self.pre_depth += 1
        elif tag in _PARAGRAPH_TAGS:
            self._block(2)
        elif tag in _LINE_TAGS:
            self._block(1)
        elif tag in ("td", "th"):
            self._space()
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", []))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.skipping:
            while self.skipping.pop() != tag:
                pass
            return
        if self.skipping:
            return
        if tag in ("ul", "ol"):
            self.list_depth = max(self.list_depth - 1, 0)
            self._block(1 if self.list_depth else 2)
        elif tag == "li":
            self._block(1)
        elif tag == "blockquote":
            self._block(2)
            self.quote_depth = max(self.quote_depth - 1, 0)
        elif tag == "pre":
            self._block(2)
            self.pre_depth = max(self.pre_depth - 1, 0)
        elif tag in _PARAGRAPH_TAGS:
            self._block(2)
        elif tag in _LINE_TAGS:
            self._block(1)
        elif tag == "a" and self.links:
            href, parts = self.links.pop()
            self._end_link(href, _HTML_SPACE.sub(" ", "".join(parts)).strip())

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = data.translate(_INVISIBLE)
        if self.pre_depth:
            for number, part in enumerate(data.split("\n")):
                if number:
                    self.breaks += 1
                if part:
                    self._write(part.replace("\xa0", " "))
            return
        text = _HTML_SPACE.sub(" ", data)
        if self.breaks or not self.line_has_content or self.line.endswith(" "):
            text = text.lstrip(" ")
        if text:
            self._write(text.replace("\xa0", " "))

    def _end_link(self, href: str, label: str) -> None:
        url, scheme = _normalize_url(href)
        if scheme not in _TEXT_LINK_SCHEMES:
            return
        if not label:
            self._space()
            self._write(url)
        elif _comparable_url(label) != _comparable_url(url):
            self._space()
            self._write(f"({url})")

    # Output

    def _block(self, breaks: int) -> None:
        self.breaks = max(self.breaks, breaks)
        self.marker = ""

    def _space(self) -> None:
        if self.line_has_content and not self.breaks and not self.line.endswith(" "):
            self.line += " "

    def _write(self, text: str) -> None:
        if self.breaks:
            if self.line_has_content or self.lines:
                self._end_line()
                self.lines.extend([""] * (self.breaks - 1))
            self.breaks = 0
        if not self.line_has_content:
            self.line = "> " * self.quote_depth + self.marker
            self.marker = ""
            self.line_has_content = True
        self.line += text
        for _, parts in self.links:
            parts.append(text)

    def _end_line(self) -> None:
        self.lines.append(self.line)
        self.line = ""
        self.line_has_content = False

    def text(self) -> str:
        lines = [line.rstrip() for line in [*self.lines, self.line]]
        collapsed: list[str] = []
        for line in lines:
            if line or (collapsed and collapsed[-1]):
                collapsed.append(line)
        return "\n".join(collapsed).strip("\n")


def _comparable_url(url: str) -> str:
    url = url.strip().lower()
    for prefix in ("mailto:", "tel:", "https://", "http://"):
        url = url.removeprefix(prefix)
    return url.rstrip("/")


# --- Headers -----------------------------------------------------------------------------------


def clean_header_value(value: str, max_length: int = 998) -> str:
    """Make a decoded header value one safe line: controls removed, whitespace collapsed, capped."""
    value = "".join(" " if _is_unsafe_char(char) else char for char in value)
    return " ".join(value.split())[:max_length].rstrip()


def _is_unsafe_char(char: str) -> bool:
    return char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc"
