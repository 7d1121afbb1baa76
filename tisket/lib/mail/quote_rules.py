"""The wording mail programs put around quoted history: attributions, separators, signatures."""

import re

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
VERB_END = re.compile(
    rf"(?:(?:.*?\b)?(?:{_VERBS})|.*?(?:{_VERBS_UNSPACED}))(?:\s*\([^()]{{0,40}}\))?\s*[:\uff1a]?",
    re.IGNORECASE,
)
QUOTE_HEADER = re.compile(
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
    # No verb at all: a date and time first, then the name and its bracketed address
    # (Gmail in Russian, Yandex, Mail.ru, older Gmail: "2017-11-24 16:32 GMT+01:00 Ann <a@b.c>:").
    r"|(?=\S*?\d|\S+\s+\S*?\d)(?=(?:\S+\s+){0,8}?\S*?\d{1,2}[:.]\d\d(?!\d))"
    r".{1,250}?<[^<>\s@]{1,64}@[^<>\s@]{1,255}>"
    r")\s*[:\uff1a]\s*",  # an ASCII or a full-width colon
    re.IGNORECASE,
)
# Where an attribution that lost its line break starts inside a line of text ("Thanks On
# Mon, … wrote:", "ok--- On …"): its opening word, capitalised, after a space or dashes.
RUN_IN_ATTRIBUTION = re.compile(
    r"(?<=[^\s-])(?:\s+|\s*-{2,}\s*)(?=(?:On|Am|Le|El|Op|Den|Dnia|W dniu|Il giorno|Em)\s)"
)
# Zoho Mail: "---- On Mon, 06 Jan 2025 10:15:00 +0100 Ann <a@b.c> wrote ----".
ZOHO = re.compile(r"-{2,}\s*(.{1,380}?)\s*-{2,}")
# A date or a time: what an attribution has and a sentence ending in a colon seldom has.
DATE = re.compile(
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
SEPARATOR = re.compile(rf"-{{2,}}+\s*+(?:{_SEPARATOR_WORDS})\s*-{{2,}}", re.IGNORECASE)
# Any other "----- Words -----" line is a separator when a header block follows it.
DASHED_TITLE = re.compile(r"-{2,}+\s*+[^\W\d_](?:[^\W\d_]|['\u2019 .-]){0,40}?\s*-{2,}")
FORWARD = re.compile(
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
# Older Gmail over a quote, no colon: "2011/4/7 Ann <a@b.c>".
DATE_ADDRESS = re.compile(
    r"(?:\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})\s.{0,200}?"
    r"<[^<>\s@]{1,64}@[^<>\s@]{1,255}>"
)
# GroupWise: ">>> Ann <a@b.c> 06.01.2025 10:15 >>>" above the unquoted original.
GROUPWISE = re.compile(r">>>\s.{1,300}?\s>>>")
RULE = re.compile(r"[-_=*\u2013\u2014]{5,}")
# Under a quote even a short rule ("__") starts a footer, a mailing list's most often.
FOOTER_RULE = re.compile(r"[-_=*\u2013\u2014]{2,}")
# Above a header block a shorter rule is enough: the block says what it is.
SHORT_RULE = re.compile(r"[-_=*\u2013\u2014]{3,}")
SENT_FROM = re.compile(
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
    r"|[\w ]{1,20}에서 보냄|通过[\w ]{1,20}发送"
    # Any app that signs with its name and its link: "Sent from TypeApp<https://…>".
    r"|sent (?:from|with) [\w.'\u2019-]+(?: [\w.'\u2019-]+){0,3}\s*<https?://[^\s<>]*>)"
    r"\s*(?:[<(]\S*[>)])?\s*\.?",
    re.IGNORECASE,
)
_FROM_KEYS = (
    "from|von|de|van|fra|från|od|от|da|差出人|发件人|寄件者|보낸 사람|lähettäjä|feladó|kimden"
    "|від|από|de la|من|מאת|từ|dari|šalje|saatja|siuntėjas|sūtītājs|frá|pengirim"
)
HEADER_KEY = re.compile(
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
    r"|изпратено|до|относно|sendt|sent at|sujet|pour|copie à|message du"
    r")[*_]{0,2}\s?[:\uff1a]",
    re.IGNORECASE,
)
FROM_KEY_SET = frozenset(_FROM_KEYS.split("|"))
TIME = re.compile(r"\d:\d\d")
# Invisible marks that right-to-left mail programs put around names and addresses.
BIDI_MARKS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
)
