"""The visible part of an email reply: the new text, with quoted history and signature cut.

Pure stdlib, line based; the wording looked for is in quote_rules, the reading of HTML in
quote_html. Regexes are anchored and only run on single short lines or on windows of at
most three joined lines, so no input can make them backtrack badly.
"""

from tisket.lib.mail.quote_html import HTMLText
from tisket.lib.mail.quote_rules import (
    BIDI_MARKS,
    COLONS,
    DASHED_TITLE,
    DATE,
    DATE_ADDRESS,
    FOOTER_RULE,
    FORWARD,
    FROM_KEY_SET,
    GROUPWISE,
    HEADER_KEY,
    QUOTE_HEADER,
    RULE,
    RUN_IN_ATTRIBUTION,
    SENT_FROM,
    SEPARATOR,
    SHORT_RULE,
    TIME,
    VERB_END,
    ZOHO,
)

MAX_LINE = 1000  # longer lines are never headers, separators or signatures
MAX_WINDOW = 400  # longest joined "On ... wrote:" window that is tried
MAX_BELOW_LINES = 4  # text under an attributed quote kept as new: a sign-off's size
MAX_BELOW_CHARS = 300
# Places in one line where a run-in attribution is looked for: each is a whole attribution
# match of up to MAX_WINDOW characters, and a line of "x -- On 1@" has dozens.
MAX_RUN_IN_TRIES = 3


def split_reply(text: str) -> tuple[str, str]:
    """Split a plain-text reply into (visible new text, cut quotes/headers/signature).

    The visible text is never empty when the mail has text: a mail that is all
    quotes (a forward of a quote, a reply typed inside the quote) shows everything.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    marks = [line.translate(BIDI_MARKS) for line in lines]  # what the rules read
    kinds = _classify(marks)
    lines, marks = _run_in_attributions_split(lines, marks, kinds)
    if len(marks) != len(kinds):
        kinds = _classify(marks)
    start = _strip_leading(marks, kinds)
    cut = _find_cut(marks, kinds, start)
    end = _strip_signature(marks, kinds, start, cut)
    resume = _text_below_quote(marks, kinds, cut)
    below_end = resume and _strip_signature(marks, kinds, resume, _find_cut(marks, kinds, resume))
    head = "\n".join(lines[:start]).strip("\n")
    visible = "\n".join(lines[start:end]).rstrip().lstrip("\n")
    if not visible.strip():
        return text.strip("\n").rstrip(), ""
    if resume:
        # Text written under the quote it answers (a sign-off, a last word) is new text too.
        below = "\n".join(lines[resume:below_end]).strip("\n").rstrip()
        visible += "\n\n" + below
        quote = "\n".join(lines[end:resume]).strip("\n")
        tail = "\n".join(lines[below_end:]).strip("\n")
        return visible, "\n\n".join(p for p in (head, quote, tail) if p)
    tail = "\n".join(lines[end:]).strip("\n")
    return visible, "\n\n".join(p for p in (head, tail) if p)


def visible_text(text: str) -> str:
    """The new text of a plain-text reply, without quoted history or signature."""
    return split_reply(text)[0]


def visible_html_text(html: str) -> str:
    """The new text of an HTML reply, as plain text."""
    parser = HTMLText()
    parser.feed(html)
    parser.close()
    lines = parser.finish()
    kinds = _classify(lines)
    for cut, needs_headers in parser.markers:
        first = _skip_blank(kinds, cut)
        if first < len(lines) and FORWARD.fullmatch(lines[first].strip()):
            continue  # Gmail and Apple Mail wrap forwards in the same markup as quotes
        if needs_headers and not _header_block(lines, kinds, first, need=2):
            continue
        visible = visible_text("\n".join(lines[:cut]))
        if visible:
            return visible
        break  # the quote is on top (bottom-posting): let the text rules find the reply
    return visible_text("\n".join(lines))


def _run_in_attributions_split(
    lines: list[str], marks: list[str], kinds: list[str]
) -> tuple[list[str], list[str]]:
    """Lines of text that run into the attribution of the quote below them, split in two.

    When HTML becomes text the break before "On …, Name <a@b.c> wrote:" is sometimes lost:
    the attribution is then the end of the reply's last line.
    """
    out_lines: list[str] = []
    out_marks: list[str] = []
    for i, (line, mark) in enumerate(zip(lines, marks, strict=True)):
        below = _skip_blank(kinds, i + 1)
        split = 0
        if (
            kinds[i] == "t"
            and below < len(kinds)
            and kinds[below] == "q"
            and len(mark) <= MAX_WINDOW
            and mark.rstrip().endswith(COLONS)
        ):
            match, tries = RUN_IN_ATTRIBUTION.search(mark), 0
            while match and not split and tries < MAX_RUN_IN_TRIES:
                suffix = mark[match.start() :].strip()
                if "@" not in suffix and not DATE.search(suffix):
                    break  # nor has a later place, a part of this suffix
                tries += 1
                if _quote_wording(suffix):
                    split = match.start()
                match = RUN_IN_ATTRIBUTION.search(mark, match.end())
        if split and len(mark) == len(line):
            out_lines += [line[:split].rstrip(), line[split:].strip()]
            out_marks += [mark[:split].rstrip(), mark[split:].strip()]
        else:
            out_lines.append(line)
            out_marks.append(mark)
    return out_lines, out_marks


# Line kinds: "q" quoted with ">", "e" blank, "t" text.
def _classify(lines: list[str]) -> list[str]:
    kinds: list[str] = []
    previous = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            kinds.append("e")
        elif (
            stripped.startswith(">>>")
            and len(stripped) <= MAX_LINE
            and GROUPWISE.fullmatch(stripped)
        ):
            kinds.append("t")
        elif stripped.startswith(">") or (
            kinds
            and kinds[-1] == "q"
            and (_soft_break(previous) or _wrapped_link(previous, stripped, lines, i))
        ):
            kinds.append("q")
        else:
            kinds.append("t")
        previous = line
    return kinds


def _wrapped_link(previous: str, stripped: str, lines: list[str], i: int) -> bool:
    """A link of a quote wrapped onto a line without '>', with more of the quote below.

    One token and nothing else: the rest of a link whose '(' opened on the quoted line
    above, or a whole "(http://…)" a mail program set apart.
    """
    if len(stripped) > MAX_LINE or i + 1 >= len(lines):
        return False
    if not lines[i + 1].lstrip().startswith(">"):
        return False
    token = stripped.removesuffix(">").strip()
    if not token or any(c.isspace() for c in token):
        return False
    if token.startswith("(") and token.endswith(")") and "://" in token:
        # A link's text runs on to it; under a question or a sentence it is an answer.
        return not previous.rstrip().endswith((".", "?", "!", ":"))
    return token.endswith(")") and previous.count("(") > previous.count(")")


def _soft_break(line: str) -> bool:
    """A full-length line ending in "=": quoted-printable left undecoded broke it ("pleas=")."""
    return len(line) >= 70 and line.endswith("=")


def _skip_blank(kinds: list[str], i: int) -> int:
    while i < len(kinds) and kinds[i] == "e":
        i += 1
    return i


def _quote_run_end(kinds: list[str], i: int) -> int:
    """End of the block of quoted lines at i (blank lines inside it included)."""
    end = i
    while i < len(kinds) and kinds[i] in "qe":
        if kinds[i] == "q":
            end = i + 1
        i += 1
    return end


def _quote_header(lines: list[str], kinds: list[str], i: int) -> int:
    """Number of lines (1-3) of an "On <date>, <name> wrote:" header starting at i, or 0.

    Over a quote ("> " lines) any line ending in a colon or a verb of writing that
    has a date, a time or an address is an attribution, whatever its language.
    Over unquoted history, the wording must be one that mail programs write.
    """
    for n in range(1, 4):
        last = i + n - 1
        if last >= len(lines) or kinds[last] != "t" or len(lines[last]) > MAX_LINE:
            return 0
        window = " ".join(" ".join(lines[i : last + 1]).split())
        if len(window) > MAX_WINDOW:
            return 0
        below = _skip_blank(kinds, last + 1)
        quoted = below < len(lines) and kinds[below] == "q"
        zoho = ZOHO.fullmatch(window)
        if zoho:
            window = zoho.group(1)
        elif quoted and DATE_ADDRESS.fullmatch(window):
            return n
        elif not window.endswith(COLONS) and not VERB_END.fullmatch(window):
            continue
        evidence = "@" in window or bool(DATE.search(window))
        if quoted and (evidence or VERB_END.fullmatch(window)):
            return n
        if evidence and ((zoho and VERB_END.fullmatch(window)) or _quote_wording(window)):
            return n
    return 0


def _quote_wording(window: str) -> bool:
    if not any(c.isdigit() for c in window):
        return False
    if not window.endswith(COLONS):
        window += ":"
    return bool(QUOTE_HEADER.fullmatch(window))


def _header_start(lines: list[str], kinds: list[str], i: int) -> int:
    """Like _quote_header, but 0 when the header really starts on a later line of its window."""
    n = _quote_header(lines, kinds, i)
    for k in range(i + 1, i + n):
        if DATE.search(lines[k]) and _quote_header(lines, kinds, k):
            return 0  # text run into an attribution with no blank line: the text stays
    return n


def _header_key(line: str) -> str | None:
    if len(line) > MAX_LINE:
        return None
    match = HEADER_KEY.match(line.lstrip())
    return match.group(1).lower() if match else None


def _header_block(lines: list[str], kinds: list[str], i: int, need: int = 3) -> int:
    """End index of an Outlook-style From:/Sent:/To:/Subject: block starting at i, or 0."""
    if i >= len(lines) or not _header_key(lines[i]):
        return 0
    keys: set[str] = set()
    end = j = i
    while j < len(lines) and j < i + 12 and kinds[j] == "t" and j - end < 2:
        key = _header_key(lines[j])
        if key:
            keys.add(key)
            end = j + 1
        j += 1
    return end if len(keys) >= need and keys & FROM_KEY_SET else 0


def _is_delimiter(line: str) -> bool:
    """The RFC 3676 signature delimiter "-- " (or "--" whose space was trimmed)."""
    return line.rstrip() == "--"


def _is_signature_line(line: str) -> bool:
    return _is_delimiter(line) or (
        len(line) <= MAX_LINE and bool(SENT_FROM.fullmatch(line.strip()))
    )


def _is_trailing(lines: list[str], kinds: list[str], j: int) -> bool:
    """Nothing after index j but blank lines, a signature, or a footer under a "____" rule."""
    k = _skip_blank(kinds, j)
    if k == len(lines):
        return True
    line = lines[k]
    return kinds[k] == "t" and (_is_signature_line(line) or bool(RULE.fullmatch(line.strip())))


def _interleaved(lines: list[str], kinds: list[str], j: int) -> bool:
    """After the quote ending at j: new text, then more of the same quote (an inline reply)."""
    for k in range(_skip_blank(kinds, j), len(lines)):
        line = lines[k]
        if kinds[k] == "q":
            return True
        if kinds[k] == "t" and len(line) <= MAX_LINE:
            if _is_separator(lines, kinds, k) or _is_delimiter(line):
                return False
            if _header_start(lines, kinds, k) or _header_block(lines, kinds, k):
                return False  # the next quote has its own header: it is history
    return False


def _strip_leading(lines: list[str], kinds: list[str]) -> int:
    """Index where the new text starts, past a header block or a quote above it."""
    start = _skip_blank(kinds, 0)
    # "Od:/Wysłano:/Temat:" above the body: the reply's own headers (mail-parser-reply).
    end = _header_block(lines, kinds, start)
    if end:
        while end < len(lines) and end < start + 15 and kinds[end] == "t":
            end += 1  # a wrapped Subject: runs on to the blank line
        start = _skip_blank(kinds, end)
    while start < len(lines):
        n = _header_start(lines, kinds, start) if kinds[start] == "t" else 0
        quote = _skip_blank(kinds, start + n)
        if not n and kinds[start] != "q":
            break
        if quote == len(lines) or kinds[quote] != "q":
            return len(lines) if n else start  # only history under the header
        end = _quote_run_end(kinds, quote)
        if _interleaved(lines, kinds, end):
            break  # an inline reply reads only with its quotes: keep them
        start = _skip_blank(kinds, end)  # bottom-posting: the reply is under the quote
    return start


def _find_cut(lines: list[str], kinds: list[str], start: int) -> int:
    """Index of the first line of quoted history or signature at or after start."""
    i = start
    while i < len(lines):
        kind, line = kinds[i], lines[i]
        if kind == "e" or len(line) > MAX_LINE:
            i += 1
            continue
        if kind == "q":
            end = _quote_run_end(kinds, i)
            if _is_trailing(lines, kinds, end):
                return _attribution_start(lines, kinds, start, i)
            i = end
            continue
        stripped = line.strip()
        if FORWARD.fullmatch(stripped):
            # A forwarded message is content: step over its header block.
            i = _header_block(lines, kinds, _skip_blank(kinds, i + 1), need=2) or i + 1
            continue
        if _is_separator(lines, kinds, i) or _is_delimiter(line):
            return i
        n = _header_start(lines, kinds, i)
        if n:
            quote = _skip_blank(kinds, i + n)
            if quote < len(lines) and kinds[quote] == "q":
                end = _quote_run_end(kinds, quote)
                if _interleaved(lines, kinds, end):
                    i = end
                    continue
            return i
        if _header_block(lines, kinds, i):
            return i
        # "_____" or "-----" above a From: block is part of the quote: two fields suffice.
        if SHORT_RULE.fullmatch(stripped) and _header_block(
            lines, kinds, _skip_blank(kinds, i + 1), 2
        ):
            return i
        i += 1
    return len(lines)


def _is_separator(lines: list[str], kinds: list[str], i: int) -> bool:
    """ "-----Original Message-----" in a known language, or any "----- Words -----" line
    with a header block under it."""
    stripped = lines[i].strip()
    if len(stripped) > MAX_LINE:
        return False
    if stripped.startswith(">>>"):
        return bool(GROUPWISE.fullmatch(stripped) and ("@" in stripped or DATE.search(stripped)))
    if not stripped.startswith("--"):
        return False
    if SEPARATOR.fullmatch(stripped):
        return True
    return bool(
        DASHED_TITLE.fullmatch(stripped)
        and _header_block(lines, kinds, _skip_blank(kinds, i + 1), need=2)
    )


def _text_below_quote(lines: list[str], kinds: list[str], cut: int) -> int:
    """Where new text resumes under the attributed quote cut at `cut`, or 0.

    Only a paragraph of its own (a blank line under the quote: a wrapped quoted line
    that lost its '>' is no new text), with no further quote, and not a signature or a
    list footer.
    """
    if cut >= len(lines) or kinds[cut] != "t":
        return 0
    n = _header_start(lines, kinds, cut)
    quote = _skip_blank(kinds, cut + n) if n else len(lines)
    if quote >= len(lines) or kinds[quote] != "q":
        return 0
    end = _quote_run_end(kinds, quote)
    if end >= len(lines) or kinds[end] != "e":
        return 0
    k = _skip_blank(kinds, end)
    if k >= len(lines) or _is_trailing(lines, kinds, k) or FOOTER_RULE.fullmatch(lines[k].strip()):
        return 0
    stop = _find_cut(lines, kinds, k)
    if stop == k or any(kinds[j] == "q" for j in range(k, stop)):
        return 0
    # A few short lines (a sign-off, a last word): a longer text down there is most often
    # a disclaimer the sender's server added under the whole mail.
    below = [lines[j] for j in range(k, stop) if kinds[j] == "t"]
    if len(below) > MAX_BELOW_LINES or sum(map(len, below)) > MAX_BELOW_CHARS:
        return 0
    return k


def _attribution_start(lines: list[str], kinds: list[str], start: int, quote: int) -> int:
    """Include the line(s) introducing a trailing quote ("… <a@b.c>:") in the cut."""
    k = quote - 1
    while k >= start and quote - k <= 3 and kinds[k] == "e":
        k -= 1
    if k < start or kinds[k] != "t" or not lines[k].rstrip().endswith(COLONS):
        return quote
    for top in range(k, max(start, k - 2) - 1, -1):
        if kinds[top] != "t":
            break
        window = " ".join(" ".join(lines[top : k + 1]).split())
        if len(window) > MAX_WINDOW:
            break
        if "@" in window or TIME.search(window):
            return top
    return quote


def _strip_signature(lines: list[str], kinds: list[str], start: int, end: int) -> int:
    """Cut a "Sent from my iPhone" line among the last three lines of the new text."""
    cut, seen = end, 0
    for k in range(end - 1, start - 1, -1):
        if kinds[k] != "e" and seen < 3:
            seen += 1
            if kinds[k] == "t" and _is_signature_line(lines[k]):
                cut = k
    return cut
