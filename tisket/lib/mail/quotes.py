"""The visible part of an email reply: the new text, with quoted history and signature cut.

Pure stdlib, line based. Regexes are anchored and only run on single short lines or on
windows of at most three joined lines, so no input can make them backtrack badly.
"""

import re
from html.parser import HTMLParser

MAX_LINE = 1000  # longer lines are never headers, separators or signatures
MAX_WINDOW = 400  # longest joined "On ... wrote:" window that is tried
COLONS = (":", "\uff1a")  # ASCII and full-width (CJK)

# Verbs that close an attribution ("… wrote:"), in the languages mail programs are written in.
_VERBS = (
    r"wrote|writes|schrieb|geschrieben|a\s+écrit|escribió|escribio|schreef|geschreven|skrev"
    r"|ha\s+scritto|escreveu|napisał(?:\(a\)|a)?|pisze|napsal(?:\(a\))?|napsala|napísal"
    r"|kirjoitti|írta|yazd\u0131|пишет|написал(?:\(\u0430\)|\u0430)?|пише|написав(?:\(ла\))?"
    r"|έγραψε"
    r"|a\s+scris|đã\s+viết|menulis|va\s+escriure|escrigué|skrifaði|rakstīja|rašė|kirjutas"
    r"|napisao|je\s+napisal|написа|כתב|كتب|نوشت"
)
_VERBS_UNSPACED = r"เขียนว่า|写道|寫道|작성|が書きました|のメッセージ|のメール"  # no word boundary
_VERB_END = re.compile(
    rf"(?:(?:.*?\b)?(?:{_VERBS})|.*?(?:{_VERBS_UNSPACED}))(?:\s*\([^()]{{0,40}}\))?\s*[:\uff1a]?",
    re.IGNORECASE,
)
_QUOTE_HEADER = re.compile(
    r"(?:-++\s*+)?(?:"
    r"on\s.{1,250}?\b(?:wrote|writes)"  # en
    r"|am\s.{1,250}?\bschrieb\b.{0,150}?"  # de
    r"|le\s.{1,250}?\ba\s+écrit"  # fr
    r"|el\s.{1,250}?\bescribió"  # es
    r"|op\s.{1,250}?\bschreef\b.{0,150}?"  # nl
    r"|den\s.{1,250}?\bskrev\b.{0,150}?"  # da, no, sv
    r"|(?:w dniu|dnia)\s.{1,250}?\b(?:pisze|napisał(?:\(a\)|a)?)"  # pl
    r"|il\s.{1,250}?\bha\s+scritto"  # it
    r"|em\s.{1,250}?\bescreveu"  # pt
    r"|.{1,250}?\b(?:пишет|написал(?:\(\u0430\)|\u0430)?)"  # ru: "пишет", "написал", "написала"
    r"|\d{4}年\d{1,2}月\d{1,2}日.{0,250}?"  # ja (Gmail puts only date, name and address)
    r"|.{1,250}?(?:が書きました|のメッセージ|のメール|写道|寫道|작성)"  # ja, zh, ko
    # Any language once an address is there: "ons 4 dec. 2024 kl. 20:42 skrev B <b@x.se>:"
    rf"|(?=[^@]*+@).{{1,250}}?(?:\b(?:{_VERBS}|said)\b|{_VERBS_UNSPACED}).{{0,150}}?"
    r")\s*[:\uff1a]\s*",  # an ASCII or a full-width colon
    re.IGNORECASE,
)
# Zoho Mail: "---- On Mon, 06 Jan 2025 10:15:00 +0100 Ann <a@b.c> wrote ----".
_ZOHO = re.compile(r"-{2,}\s*(.{1,380}?)\s*-{2,}")
# A date or a time: what an attribution has and a sentence ending in a colon seldom has.
_DATE = re.compile(
    r"\d{1,2}[:.]\d\d(?!\d)|\b(?:19|20)\d\d\b|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}年|\d{4}년"
)
_SEPARATOR_WORDS = (
    r"original message|reply message|antwort nachricht|ursprüngliche nachricht|original-nachricht"
    r"|originalnachricht|message d['\u2019]origine|message original|oorspronkelijk bericht"
    r"|opprinnelig melding|oprindelig meddelelse|oprindelig besked|ursprungligt meddelande"
    r"|originalmeddelande|mensaje original|messaggio originale|mensagem original"
    r"|missatge original|wiadomość oryginalna|oryginalna wiadomość|původní zpráva"
    r"|pôvodná správa|eredeti üzenet|orijinal mesaj|özgün ileti|alkuperäinen viesti"
    r"|upprunaleg skilaboð|algne kiri|pradinis laiškas|sākotnējā ziņa|izvorna poruka"
    r"|izvirno sporočilo|оригинално съобщение|исходное сообщение|исходное письмо"
    r"|початкове повідомлення|вихідне повідомлення|αρχικό μήνυμα|mesaj original|mesaj inițial"
    r"|הודעה מקורית|الرسالة الأصلية|tin nhắn gốc|thư gốc|pesan asli|ข้อความต้นฉบับ"
    r"|原始邮件|原始郵件|原始信件|元のメッセージ|원본 메시지"
)
_SEPARATOR = re.compile(rf"-{{2,}}+\s*+(?:{_SEPARATOR_WORDS})\s*-{{2,}}", re.IGNORECASE)
# Any other "----- Words -----" line is a separator when a header block follows it.
_DASHED_TITLE = re.compile(r"-{2,}+\s*+[^\W\d_](?:[^\W\d_]|['\u2019 .-]){0,40}?\s*-{2,}")
_FORWARD = re.compile(
    r"(?:-{2,}+\s*+(?:forwarded message|weitergeleitete nachricht|message transféré"
    r"|doorgestuurd bericht|videresendt (?:melding|meddelelse|besked)|vidarebefordrat meddelande"
    r"|mensaje reenviado|messaggio inoltrato|mensagem encaminhada|wiadomość przekazana"
    r"|přeposlaná zpráva|továbbított üzenet|iletilen ileti|välitetty viesti"
    r"|пересылаемое сообщение|пересланное сообщение|переслане повідомлення"
    r"|προωθημένο μήνυμα|mesaj redirecționat|missatge reenviat|转发的邮件|轉寄的郵件"
    r"|転送されたメッセージ|전달된 메시지|begin pgp [a-z ]+|end pgp [a-z ]+)\s*-{2,}"
    r"|(?:begin forwarded message|anfang der weitergeleiteten nachricht"
    r"|début du message réexpédié|inicio del mensaje reenviado|inizio messaggio inoltrato"
    r"|início da mensagem reencaminhada|begin doorgestuurd bericht)\s*:)",
    re.IGNORECASE,
)
# GroupWise: ">>> Ann <a@b.c> 06.01.2025 10:15 >>>" above the unquoted original.
_GROUPWISE = re.compile(r">>>\s.{1,300}?\s>>>")
_RULE = re.compile(r"[-_=*\u2013\u2014]{5,}")
_SENT_FROM = re.compile(
    r"(?:(?:sent from (?:my |(?=(?:mail|outlook|yahoo|samsung|iphone|ipad|android|blackberry"
    r"|gmail|aol|proton|windows)\b))|sent with |get outlook for |envoyé (?:de|depuis) mon "
    r"|envoyé (?:à partir )?de |obtenir outlook pour |télécharger outlook pour "
    r"|holen sie sich outlook für |obtener outlook para |scarica outlook per "
    r"|baixe o outlook para |obter o outlook para |skaffa outlook för |hent outlook til "
    r"|få outlook til |pobierz aplikację outlook dla |pobierz outlook dla |hanki outlook "
    r"|получите outlook для |verzonden (?:vanaf|met) (?:mijn )?|skickat från (?:min )?"
    r"|sendt fra (?:min )?|enviado desde (?:mi )?|enviado do (?:meu )?"
    r"|enviado a partir do (?:meu )?|inviato da (?:il mio )?|wysłane z (?:mojego )?"
    r"|odesláno z (?:mého )?|odoslané z (?:môjho )?"
    r"|gesendet von (?:meinem )?|στάλθηκε από (?:το )?|trimis de pe |trimis de pe (?:un )?"
    r"|отправлено \u0441 (?:моего )?|надіслано з (?:мого )?|lähetetty (?=\S+(?:sta|stä)\b)"
    r")[\w.'\u2019-]+(?: [\w.'\u2019-]+){0,4}"
    r"|von (?:meinem )?[\w.-]+(?: [\w.-]+){0,3} gesendet|\w+から送信"
    r"|[\w.'\u2019-]+(?:-ról|-ről|'umdan|'dan|'den|'tan|'ten|'imden|'\u0131mdan)"
    r" (?:küldve|gönderildi)"
    r"|发自我的\s?[\w ]{1,20}|從我的\s?[\w ]{1,20}傳送|나의 [\w ]{1,20}에서 보냄"
    r"|[\w ]{1,20}에서 보냄|通过[\w ]{1,20}发送)"
    r"\s*(?:[<(]\S*[>)])?\s*\.?",
    re.IGNORECASE,
)
_FROM_KEYS = (
    "from|von|de|van|fra|från|od|от|da|差出人|发件人|寄件者|보낸 사람|lähettäjä|feladó|kimden"
    "|від|από|de la|من|מאת|từ|dari|šalje|saatja|siuntėjas|sūtītājs|frá|pengirim"
)
_HEADER_KEY = re.compile(
    r"[*_]{0,2}("
    + _FROM_KEYS
    + r"|sent|date|to|cc|bcc|subject|reply-to|gesendet|datum|an|betreff|envoyé|à|objet"
    r"|verzonden|verstuurd|aan|onderwerp|sendt|til|emne|skickat|till|ämne|dato|wysłano|data|do"
    r"|temat|отправлено|дата|кому|тема|копия|enviado|enviada|fecha|para|asunto|inviato|a"
    r"|oggetto|assunto|送信日時|宛先|件名|日付|发送时间|收件人|主题|抄送|日期|寄件日期|收件者|主旨"
    r"|副本|날짜|받는 사람|보낸 날짜|제목|참조|lähetetty|vastaanottaja|aihe|kopio|päivämäärä"
    r"|elküldve|címzett|tárgy|másolatot kap|dátum|gönderildi|kime|konu|bilgi|tarih|надіслано"
    r"|копія|στάλθηκε|προς|θέμα|κοιν|ημερομηνία|trimis|către|subiect|تاريخ الإرسال|إلى"
    r"|الموضوع|نسخة|التاريخ|נשלח|אל|נושא|עותק|תאריך|đã gửi|đến|chủ đề|ngày|dikirim|kepada"
    r"|subjek|tanggal|enviat|per a|tema|odesláno|komu|předmět|kopie|odoslané|predmet"
    r"|poslano|prima|za|zadeva|saadetud|adressaat|teema|išsiųsta|kam|tema|nosūtīts|kam|temats"
    r"|изпратено|до|относно|sendt|sent at"
    r")[*_]{0,2}\s?[:\uff1a]",
    re.IGNORECASE,
)
_FROM_KEY_SET = frozenset(_FROM_KEYS.split("|"))
_TIME = re.compile(r"\d:\d\d")
# Invisible marks that right-to-left mail programs put around names and addresses.
_BIDI_MARKS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
)
_BLOCK_TAGS = (
    "address article aside blockquote center dd div dl dt fieldset figcaption figure footer form"
    " h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul"
)


def split_reply(text: str) -> tuple[str, str]:
    """Split a plain-text reply into (visible new text, cut quotes/headers/signature).

    The visible text is never empty when the mail has text: a mail that is all
    quotes (a forward of a quote, a reply typed inside the quote) shows everything.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    marks = [line.translate(_BIDI_MARKS) for line in lines]  # what the rules read
    kinds = _classify(marks)
    start = _strip_leading(marks, kinds)
    end = _strip_signature(marks, kinds, start, _find_cut(marks, kinds, start))
    head = "\n".join(lines[:start]).strip("\n")
    tail = "\n".join(lines[end:]).strip("\n")
    visible = "\n".join(lines[start:end]).rstrip().lstrip("\n")
    if not visible.strip():
        return text.strip("\n").rstrip(), ""
    return visible, "\n\n".join(p for p in (head, tail) if p)


def visible_text(text: str) -> str:
    """The new text of a plain-text reply, without quoted history or signature."""
    return split_reply(text)[0]


def visible_html_text(html: str) -> str:
    """The new text of an HTML reply, as plain text."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = parser.finish()
    kinds = _classify(lines)
    for cut, needs_headers in parser.markers:
        first = _skip_blank(kinds, cut)
        if first < len(lines) and _FORWARD.fullmatch(lines[first].strip()):
            continue  # Gmail and Apple Mail wrap forwards in the same markup as quotes
        if needs_headers and not _header_block(lines, kinds, first, need=2):
            continue
        visible = visible_text("\n".join(lines[:cut]))
        if visible:
            return visible
        break  # the quote is on top (bottom-posting): let the text rules find the reply
    return visible_text("\n".join(lines))


# Line kinds: "q" quoted with ">", "e" blank, "t" text.
def _classify(lines: list[str]) -> list[str]:
    kinds: list[str] = []
    previous = ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            kinds.append("e")
        elif (
            stripped.startswith(">>>")
            and len(stripped) <= MAX_LINE
            and _GROUPWISE.fullmatch(stripped)
        ):
            kinds.append("t")
        elif stripped.startswith(">") or (kinds and kinds[-1] == "q" and _soft_break(previous)):
            kinds.append("q")
        else:
            kinds.append("t")
        previous = line
    return kinds


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
        zoho = _ZOHO.fullmatch(window)
        if zoho:
            window = zoho.group(1)
        elif not window.endswith(COLONS) and not _VERB_END.fullmatch(window):
            continue
        below = _skip_blank(kinds, last + 1)
        quoted = below < len(lines) and kinds[below] == "q"
        evidence = "@" in window or bool(_DATE.search(window))
        if quoted and (evidence or _VERB_END.fullmatch(window)):
            return n
        if evidence and ((zoho and _VERB_END.fullmatch(window)) or _quote_wording(window)):
            return n
    return 0


def _quote_wording(window: str) -> bool:
    if not any(c.isdigit() for c in window):
        return False
    if not window.endswith(COLONS):
        window += ":"
    return bool(_QUOTE_HEADER.fullmatch(window))


def _header_start(lines: list[str], kinds: list[str], i: int) -> int:
    """Like _quote_header, but 0 when the header really starts on the next line."""
    n = _quote_header(lines, kinds, i)
    if n > 1 and _DATE.search(lines[i + 1]) and _quote_header(lines, kinds, i + 1):
        return 0
    return n


def _header_key(line: str) -> str | None:
    if len(line) > MAX_LINE:
        return None
    match = _HEADER_KEY.match(line.lstrip())
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
    return end if len(keys) >= need and keys & _FROM_KEY_SET else 0


def _is_delimiter(line: str) -> bool:
    """The RFC 3676 signature delimiter "-- " (or "--" whose space was trimmed)."""
    return line.rstrip() == "--"


def _is_signature_line(line: str) -> bool:
    return _is_delimiter(line) or (
        len(line) <= MAX_LINE and bool(_SENT_FROM.fullmatch(line.strip()))
    )


def _is_trailing(lines: list[str], kinds: list[str], j: int) -> bool:
    """Nothing after index j but blank lines, a signature, or a footer under a "____" rule."""
    k = _skip_blank(kinds, j)
    if k == len(lines):
        return True
    line = lines[k]
    return kinds[k] == "t" and (_is_signature_line(line) or bool(_RULE.fullmatch(line.strip())))


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
        if _FORWARD.fullmatch(stripped):
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
        if _RULE.fullmatch(stripped) and _header_block(lines, kinds, _skip_blank(kinds, i + 1), 2):
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
        return bool(_GROUPWISE.fullmatch(stripped) and ("@" in stripped or _DATE.search(stripped)))
    if not stripped.startswith("--"):
        return False
    if _SEPARATOR.fullmatch(stripped):
        return True
    return bool(
        _DASHED_TITLE.fullmatch(stripped)
        and _header_block(lines, kinds, _skip_blank(kinds, i + 1), need=2)
    )


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
        if "@" in window or _TIME.search(window):
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


class _LenientHTMLParser(HTMLParser):
    """HTMLParser that reads "<![" without a name as browsers do, as a bogus comment.

    Python's parser raises AssertionError there ("expected name token"), and a
    mail's HTML is whatever its sender wrote.
    """

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return len(self.rawdata) if end < 0 else end + 1


class _HTMLText(_LenientHTMLParser):
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
