"""The visible part of email replies: tisket.lib.mail.quotes against the corpus and each rule."""

import ast
import email
import email.policy
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tisket.lib.mail import quote_html, quote_rules, quotes
from tisket.lib.mail.quotes import split_reply, visible_html_text, visible_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
BODY_ONLY = ("zapier-email-reply-parser/", "github-email-reply-parser/", "mail-parser-reply/")
# talon's tests/fixtures/html_replies: each must give this text (talon/*.html minus the two
# files that came from tests/fixtures itself and have their own expectations).
TALON_HTML_REPLIES = sorted(
    path.name
    for path in (CORPUS / "talon").glob("*.html")
    if path.name not in {"OLK_SRC_BODY_SECTION.html", "reply-separated-by-hr.html"}
)


def corpus_visible(name: str) -> str:
    """The visible text of a corpus file, fed the way its kind of file needs."""
    data = (CORPUS / name).read_bytes()
    if name.endswith(".html"):
        return visible_html_text(data.decode("utf-8", errors="replace"))
    if name.startswith(BODY_ONLY):
        return visible_text(data.decode("utf-8", errors="replace"))
    msg = email.message_from_bytes(data, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    if part is not None:
        return visible_text(part.get_content())
    part = msg.get_body(preferencelist=("html",))
    return visible_html_text(part.get_content()) if part is not None else ""


@dataclass
class Work:
    """What a call cost, counted rather than timed: it is the same on a busy machine."""

    lines: int = 0  # lines of the quotes module run
    chars: int = 0  # characters its regexes were handed
    longest: int = 0  # the longest string one regex call was handed


class _CountedPattern:
    """One of the module's regexes, adding what it is handed to a Work."""

    def __init__(self, pattern: re.Pattern, work: Work) -> None:
        self.pattern = pattern
        self.work = work

    def _count(self, string: str) -> None:
        self.work.chars += len(string)
        self.work.longest = max(self.work.longest, len(string))

    def match(self, string: str, *args: int) -> re.Match | None:
        self._count(string)
        return self.pattern.match(string, *args)

    def fullmatch(self, string: str, *args: int) -> re.Match | None:
        self._count(string)
        return self.pattern.fullmatch(string, *args)

    def search(self, string: str, *args: int) -> re.Match | None:
        self._count(string)
        return self.pattern.search(string, *args)


def work_of(function, text: str) -> Work:
    """The work function(text) does in the quotes module, traced through sys.settrace.

    The regexes of quote_rules are counted under the names the quotes module uses them by.
    """
    work = Work()

    def line(frame, event, arg):
        if event == "line":
            work.lines += 1
        return line

    def call(frame, event, arg):
        return line if frame.f_code.co_filename == quotes.__file__ else None

    with pytest.MonkeyPatch.context() as patch:
        for name, value in list(vars(quotes).items()):
            if isinstance(value, re.Pattern):
                patch.setattr(quotes, name, _CountedPattern(value, work))
        previous = sys.gettrace()
        sys.settrace(call)
        try:
            function(text)
        finally:
            sys.settrace(previous)
    return work


def squash(text: str) -> str:
    return " ".join(text.split())


def expected_entries() -> list[dict]:
    entries = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    return [entry for entry in entries if "visible_text_startswith" in entry]


# --- The corpus ---------------------------------------------------------------------------------


def test_the_corpus_has_the_53_expectations_the_readme_announces():
    assert len(expected_entries()) == 53


@pytest.mark.parametrize("entry", expected_entries(), ids=lambda entry: entry["file"])
def test_corpus_visible_text_starts_as_the_source_project_expects(entry):
    visible = corpus_visible(entry["file"]).lstrip()
    assert visible.startswith(entry["visible_text_startswith"])


def test_talon_has_nine_html_replies():
    assert len(TALON_HTML_REPLIES) == 9


@pytest.mark.parametrize("name", TALON_HTML_REPLIES)
def test_talon_html_reply_gives_only_the_new_text(name):
    assert squash(corpus_visible(f"talon/{name}")) == "Hi. I am fine. Thanks, Alex"


def test_outlook_olk_src_body_section_html_gives_only_the_reply():
    assert squash(corpus_visible("talon/OLK_SRC_BODY_SECTION.html")) == "Reply"


def test_html_reply_separated_by_hr_gives_only_the_text_above_the_rule():
    assert squash(corpus_visible("talon/reply-separated-by-hr.html")) == "Hi there Bob"


def test_forwarded_original_message_is_not_in_the_visible_text():
    visible = corpus_visible("django-helpdesk/forwarded-message.eml")
    assert visible == "This is email body"
    assert "Hello there!" not in visible


def test_booking_reply_loses_its_quoted_from_block():
    visible = corpus_visible("talon/reply-quotations-share-block.eml")
    assert visible.startswith("Hi Katharine.")
    assert visible.endswith("Joe XXX")
    assert "From:" not in visible


def test_thunderbird_forward_in_the_corpus_stays_visible():
    visible = corpus_visible("django-helpdesk/utf-nondecodable.eml")
    assert visible.startswith("-------- Forwarded Message --------")
    assert "Ahoj Johne," in visible


def test_talon_eml_replies_keep_nothing_but_hello():
    for name in ("android", "aol", "apple_mail", "comcast", "gmail", "outlook", "yahoo"):
        assert corpus_visible(f"talon/{name}.eml") == "Hello", name
    assert corpus_visible("talon/iphone.eml") == "Hello"  # "Sent from my iPhone" is cut


@pytest.mark.parametrize(
    "name",
    [
        "github-email-reply-parser/email_long_quote.txt",
        "zapier-email-reply-parser/pathological.txt",
    ],
)
def test_big_corpus_file_takes_bounded_work_per_line(name):
    text = (CORPUS / name).read_bytes().decode("utf-8", errors="replace")
    work = work_of(visible_text, text)
    assert work.lines <= 100 * len(text.splitlines())
    assert work.longest <= quotes.MAX_LINE  # a huge line is never handed to a regex
    assert visible_text(text).strip()


@pytest.mark.parametrize(
    "name",
    sorted(str(p.relative_to(CORPUS)) for d in BODY_ONLY for p in (CORPUS / d).glob("*.txt")),
)
def test_no_text_is_lost_between_visible_and_rest(name):
    text = (CORPUS / name).read_bytes().decode("utf-8", errors="replace")
    visible, rest = split_reply(text)
    both = visible + "\n" + rest
    for line in text.removeprefix("\ufeff").splitlines():
        assert line.strip() in both


# --- Quote headers ------------------------------------------------------------------------------

QUOTE_HEADERS = {
    "en": "On Mon, Jun 3, 2024 at 12:53 PM John Smith <john@example.com> wrote:",
    "en-apple": "On 3 Jun 2024, at 12:53, John Smith <john@example.com> wrote:",
    "en-yahoo": "--- On Mon, 6/3/24, John Smith <john@example.com> wrote:",
    "de": "Am Mo., 3. Juni 2024 um 12:53 Uhr schrieb Max Muster <max@example.com>:",
    "fr": "Le lun. 3 juin 2024 à 12:53, Jean Dupont <jean@example.fr> a écrit :",
    "es": "El lun, 3 jun 2024 a las 12:53, Juan Pérez (<juan@example.es>) escribió:",
    "nl": "Op ma 3 jun. 2024 om 12:53 schreef Jan Jansen <jan@example.nl>:",
    "da": "Den 3. jun. 2024 kl. 12.53 skrev Peter Petersen <peter@example.dk>:",
    "sv": "Den mån 3 juni 2024 12:53 skrev Sven Svensson <sven@example.se>:",
    "sv-no-den": "mån 3 juni 2024 kl. 12:53 skrev Sven Svensson <sven@example.se>:",
    "pl": "W dniu 3.06.2024 o 12:53, Jan Kowalski pisze:",
    "pl-dnia": "Dnia 3 czerwca 2024 12:53 Jan Kowalski <jan@example.pl> napisał(a):",
    "ja-gmail": "2024年6月3日(月) 12:53 山田太郎 <taro@example.jp>:",
    "ja-wrote": "2024年6月3日 12:53 山田太郎 が書きました:",
    "ja-message": "2024/06/03 12:53、山田太郎のメッセージ:",
    "ru": "3 июня 2024, в 12:53, Иван Иванов <ivan@example.ru> написал:",
    "ru-pishet": "03.06.2024 12:53, Иван Иванов пишет:",
    "it": "Il giorno lun 3 giu 2024 alle ore 12:53 Mario Rossi <mario@example.it> ha scritto:",
    "pt": "Em seg., 3 de jun. de 2024 às 12:53, João Silva <joao@example.pt> escreveu:",
    "zh": "山田 <yamada@example.cn> 在 2024年6月3日 周一 12:53 写道\uff1a",  # full-width colon
    # No verb: the date and time, then the name and its address (Gmail in Russian,
    # Yandex, Mail.ru, older Gmail in other languages).
    "ru-gmail": "пн, 3 июн. 2024 г. в 12:53, Иван Иванов <ivan@example.ru>:",  # noqa: RUF001
    "yandex": '03.06.2024, 12:53, "Ivan Ivanov" <ivan@example.ru>:',
    "iso-gmt": "2024-06-03 12:53 GMT+02:00 Max Muster <max@example.com>:",
    "mailru-en": "Monday, 3 June 2024, 12:53 +03:00 from Ivan <ivan@example.ru>:",
}


@pytest.mark.parametrize("header", QUOTE_HEADERS.values(), ids=QUOTE_HEADERS.keys())
def test_quote_header_in_each_language_is_cut_with_its_quote(header):
    visible, rest = split_reply(f"Thanks, that works.\n\n{header}\n> Hello\n> there\n")
    assert visible == "Thanks, that works."
    assert rest.startswith(header)


@pytest.mark.parametrize("header", QUOTE_HEADERS.values(), ids=QUOTE_HEADERS.keys())
def test_quote_header_cuts_unquoted_history_below_it_too(header):
    assert visible_text(f"Thanks.\n\n{header}\n\nThe old message.\n") == "Thanks."


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, Jun 3, 2024 at 12:53 PM John Smith <\njohn@example.com> wrote:",
        "On Mon, Jun 3, 2024 at 12:53 PM John Smith <john@example.com>\nwrote:",
        "On Dec 16, 2011, at 12:47 PM, Corey Donohoe\n<reply@reply.github.com>\nwrote:",
        "Am Mo., 3. Juni 2024 um 12:53 Uhr\nschrieb Max Muster <\nmax@example.com>:",
    ],
)
def test_quote_header_wrapped_over_two_or_three_lines_is_cut(header):
    assert visible_text(f"Sounds good.\n{header}\n\n> Hi\n") == "Sounds good."


def test_text_line_right_above_a_wrapped_header_is_kept():
    text = (
        "Am heutigen Tage\nAm So., 1. Jan. 2023 um 17:22 Uhr schrieb John Doe <\njd@example.com>:\n"
    )
    assert visible_text(text) == "Am heutigen Tage"


def test_sentence_with_a_time_and_an_address_is_not_a_quote_header():
    text = "Please call before 10:30 and write to Ann <ann@example.com>:\n\nher desk, room 4."
    assert visible_text(text) == text


def test_text_run_into_an_attribution_keeps_its_last_lines():
    text = (
        "First line.\nSecond line, no blank line below it.\n"
        "On Mon, Jun 3, 2024 at 12:53 PM John Smith <john@example.com> wrote:\n> Hi\n"
    )
    assert visible_text(text) == "First line.\nSecond line, no blank line below it."


def test_older_gmail_date_and_address_over_a_quote_is_an_attribution():
    assert visible_text("Fine.\n\n2014/6/3 John Smith <john@example.com>\n\n> Hi\n") == "Fine."


def test_sign_off_written_under_the_quote_is_kept():
    text = (
        "Fixed, thanks.\n\nOn Mon, Jun 3, 2024 at 12:53 PM John <john@example.com> wrote:\n"
        "> Does it work now?\n\nBest,\nAnn\n"
    )
    visible, rest = split_reply(text)
    assert visible == "Fixed, thanks.\n\nBest,\nAnn"
    assert rest.startswith("On Mon") and "> Does it work now?" in rest


def test_disclaimer_added_under_the_whole_mail_is_not_taken_for_a_sign_off():
    disclaimer = "This message and its attachments are confidential. " * 8
    text = (
        "Fixed.\n\nOn Mon, Jun 3, 2024 at 12:53 PM John <john@example.com> wrote:\n"
        f"> Hi\n\n{disclaimer}\n"
    )
    assert visible_text(text) == "Fixed."


def test_quoted_line_that_lost_its_marker_is_no_text_below_the_quote():
    text = (
        "Fixed.\n\nOn Mon, Jun 3, 2024 at 12:53 PM John <john@example.com> wrote:\n"
        "> View the ticket at (http://example.com/a\nb=1)\n"
    )
    assert visible_text(text) == "Fixed."


def test_list_footer_under_a_short_rule_below_the_quote_is_cut():
    text = (
        "Fixed.\n\nOn Mon, Jun 3, 2024 at 12:53 PM John <john@example.com> wrote:\n"
        "> Hi\n\n__\nusers mailing list\nusers@lists.example.com\n"
    )
    assert visible_text(text) == "Fixed."


@pytest.mark.parametrize("joint", [" ", "--- ", "\u00a0"])
def test_reply_line_run_into_the_attribution_is_split_from_it(joint):
    text = f"Done.{joint}On Mon, Jun 3, 2024 at 12:53 PM John <john@example.com> wrote:\n> Hi\n"
    visible, rest = split_reply(text)
    assert visible == "Done."
    assert rest.lstrip("- ").startswith("On Mon")


def test_on_inside_a_line_above_no_quote_stays_text():
    text = "We met On Mon, Jun 3, 2024 at 12:53 PM and John <john@example.com> wrote:\nfine."
    assert visible_text(text) == text


@pytest.mark.parametrize(
    "quote",
    [
        "> See the ticket (http://example.com/t/1?a=\nb&c=2)\n>\n> Bye",
        ">\n (http://example.com/track/abc) >\n> Bye",
    ],
)
def test_link_of_a_quote_wrapped_without_its_marker_stays_in_the_quote(quote):
    text = f"Thanks.\n\nOn Mon, Jun 3, 2024 at 12:53 PM John <john@example.com> wrote:\n{quote}\n"
    assert visible_text(text) == "Thanks."


def test_one_word_answer_between_quotes_is_still_an_inline_reply():
    text = "> Shall we meet (at noon)?\nYes.\n> And bring the slides?\nSure)\n"
    assert visible_text(text) == text.strip()


def test_a_link_answering_a_question_between_quotes_is_the_clients_inline_reply():
    text = "> Which page fails?\n(https://shop.example/cart/1)\n> And since when?\nSince Monday.\n"
    assert visible_text(text) == text.strip()


def test_sentence_starting_with_on_is_not_a_quote_header():
    text = "On your remote host you can run:\n\n    telnet 127.0.0.1 52698\n\nThat is all."
    assert visible_text(text) == text


def test_reply_that_is_all_history_shows_all_of_it():
    # Never an empty message: a mail of quotes only (a reply typed inside the quote,
    # a forward of a quote) is shown whole.
    text = "On Mon, Jun 3, 2024 at 12:53 PM John <john@example.com> wrote:\n> Hi\n> there\n"
    visible, rest = split_reply(text)
    assert visible == text.strip()
    assert rest == ""


def test_reply_bottom_posted_under_the_quote_keeps_the_text_below():
    text = "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\n\nHello\n\nOn a new line\n"
    assert visible_text(text) == "Hello\n\nOn a new line"


# --- Outlook separators and header blocks -------------------------------------------------------


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Oorspronkelijk bericht-----",
        "-----Opprinnelig melding-----",
        "-----Oprindelig meddelelse-----",
        "-----Ursprungligt meddelande-----",
        "-----Mensaje original-----",
    ],
)
def test_outlook_original_message_separator_is_cut(separator):
    visible, rest = split_reply(f"Fixed now.\n\n{separator}\nFrom: Someone\n\nIt is broken.")
    assert visible == "Fixed now."
    assert rest.startswith(separator)
    assert "It is broken." in rest


HEADER_BLOCKS = {
    "en": "From: Ann <ann@example.com>\nSent: Monday, June 3, 2024 12:53 PM\nTo: Bob\nSubject: Hi",
    "en-bold": "*From:* Ann <ann@example.com>\n*Sent:* Monday\n*To:* Bob\n*Subject:* Hi",
    "de": "Von: Ann\nGesendet: Montag, 3. Juni 2024 12:53\nAn: Bob\nBetreff: Hallo",
    "fr": "De : Ann\nEnvoyé : lundi 3 juin 2024 12:53\nÀ : Bob\nObjet : Salut",
    "nl": "Van: Ann\nVerzonden: maandag 3 juni 2024 12:53\nAan: Bob\nOnderwerp: Hoi",
    "da-no": "Fra: Ann\nSendt: 3. juni 2024 12:53\nTil: Bob\nEmne: Hej",
    "sv": "Från: Ann\nSkickat: den 3 juni 2024 12:53\nTill: Bob\nÄmne: Hej",
    "pl": "Od: Ann\nWysłano: poniedziałek, 3 czerwca 2024 12:53\nDo: Bob\nTemat: Cześć",
    "ru": "От: Анна\nОтправлено: 3 июня 2024 12:53\nКому: Боб\nТема: Привет",  # noqa: RUF001
    "wrapped-cc": "From: Ann\nSent: Monday\nTo: Bob\nCc: Carol <carol@example.com>; Dan <\n"
    "dan@example.com>\nSubject: Hi",
}


@pytest.mark.parametrize("block", HEADER_BLOCKS.values(), ids=HEADER_BLOCKS.keys())
def test_outlook_header_block_is_cut(block):
    visible, rest = split_reply(f"Done, see attached.\n\n{block}\n\nCan you send the file?")
    assert visible == "Done, see attached."
    assert "Can you send the file?" in rest


@pytest.mark.parametrize("rule", ["_" * 32, "-" * 30, " " + "-" * 30, "=" * 4, "---"])
def test_rule_line_above_a_header_block_is_cut_with_it(rule):
    visible, rest = split_reply(f"Done.\n{rule}\nFrom: Ann\nSent: Monday\n\nOld text")
    assert visible == "Done."
    assert rest.startswith(rule)


def test_a_lone_from_line_is_not_a_header_block():
    text = "From: the team\nWe shipped it."
    assert visible_text(text) == text


def test_header_block_above_the_body_is_the_replys_own_header():
    text = "Od: Jan\r\nWysłano: środa, 1 marca 2023 12:00\r\nTemat: Test\r\n\r\nCzesc Anno,\r\n"
    visible, rest = split_reply(text)
    assert visible == "Czesc Anno,"
    assert rest.startswith("Od: Jan")


# --- Quoted lines -------------------------------------------------------------------------------


def test_trailing_quoted_block_is_cut():
    assert visible_text("Yes, please.\n\n> Shall I order it?\n> Thanks\n") == "Yes, please."


def test_nested_quotes_are_cut():
    text = "Agreed.\n\n> Fine by me.\n>\n>> Shall we?\n>>> Maybe\n> > ok\n"
    visible, rest = split_reply(text)
    assert visible == "Agreed."
    assert ">>> Maybe" in rest


def test_line_with_address_introducing_a_trailing_quote_is_cut():
    text = 'Hi. I am fine.\n\n26.06.2014, 14:41, "Alexander L" <abc@example.com>:\n> Hello!\n'
    assert visible_text(text) == "Hi. I am fine."


def test_quote_followed_by_a_mailing_list_footer_is_cut():
    text = "I agree.\n\n> old\n\n____________\nlist mailing list\nhttp://lists.example.com"
    assert visible_text(text) == "I agree."


def test_quote_in_the_middle_of_new_text_is_kept():
    text = "About this:\n> Can it run offline?\nYes, since version 2.\n\nBest,\nAnn"
    assert visible_text(text) == text


def test_interleaved_reply_keeps_its_quotes_and_new_text():
    text = (
        "On Tue, Apr 29, 2014 at 4:22 PM, Dev <dev@example.com> wrote:\n\n"
        "> First question?\n\nFirst answer.\n\n> Second question?\n\nSecond answer.\n"
    )
    assert visible_text(text) == text.strip()


def test_inline_reply_under_a_mid_text_header_is_kept():
    text = "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Ann wrote:\n> Question?\n\nAnswer.\n\n> Bye\n"
    assert (
        visible_text(text)
        == "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Ann wrote:\n> Question?\n\nAnswer."
    )


def test_quoted_printable_soft_break_does_not_split_a_quote():
    broken = "> If you have received this message in error, please notify the sender and de=\nlete"
    assert visible_text(f"Thanks.\n\n{broken}\n> Regards\n") == "Thanks."


def test_short_quoted_line_ending_in_equals_is_not_a_soft_break():
    assert visible_text("> What is 2 + 2 =\nFour") == "Four"


# --- Signatures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", ["-- ", "--"])
def test_signature_delimiter_line_cuts_the_signature(delimiter):
    visible, rest = split_reply(f"See you.\n\n{delimiter}\nAnn Example\n+1 555 0100\n")
    assert visible == "See you."
    assert rest == f"{delimiter}\nAnn Example\n+1 555 0100".strip("\n")


def test_dashes_inside_a_line_are_not_a_signature():
    text = "Here is a fix -- this is not a signature.\n\nkthxbai"
    assert visible_text(text) == text


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from my BlackBerry",
        "Sent from my Android",
        "Sent from my mobile device",
        "Sent from my Verizon Wireless BlackBerry",
        "Sent from Mail for Windows",
        "Sent from Mail for Windows 10",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/ghei36>",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Verzonden vanaf mijn iPhone",
        "Skickat från min iPhone",
        "Sendt fra min iPhone",
    ],
)
def test_mobile_signature_line_at_the_end_is_cut(signature):
    visible, rest = split_reply(f"Here is another email\n\n{signature}\n")
    assert visible == "Here is another email"
    assert rest == signature


def test_sent_from_my_desk_in_a_sentence_is_not_a_signature():
    text = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert visible_text(text) == text


def test_sent_from_line_far_from_the_end_is_kept():
    text = "Note\nSent from my iPhone\nfirst\nsecond\nthird"
    assert visible_text(text) == text


def test_mobile_signature_above_the_quote_header_is_cut():
    text = "Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob wrote:\n> Hi"
    assert visible_text(text) == "Hello"


# --- Forwarded messages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        "---------- Forwarded message ---------",
        "-------- Forwarded Message --------",
        "Begin forwarded message:",
    ],
)
def test_forwarded_message_stays_visible(marker):
    text = (
        f"FYI, see below.\n\n{marker}\n\nFrom: Ann <ann@example.com>\n"
        "Date: Mon, Jun 3, 2024 at 12:53 PM\nSubject: Invoice\nTo: Bob <bob@example.com>\n\n"
        "The invoice is attached."
    )
    assert visible_text(text) == text


def test_forwarded_message_still_loses_its_own_quoted_history():
    text = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Ann <ann@example.com>\n"
        "Date: Mon, Jun 3, 2024\nSubject: Invoice\n\nPaid.\n\n"
        "On Sun, Jun 2, 2024 at 9:00 AM Bob <bob@example.com> wrote:\n> Is it paid?"
    )
    assert visible_text(text).endswith("Paid.")


# --- Input forms --------------------------------------------------------------------------------


def test_crlf_input_gives_the_same_result_as_lf():
    text = "Thanks!\n\nOn Mon, Jun 3, 2024 at 12:53 PM Ann <ann@example.com> wrote:\n> Hi\n"
    assert visible_text(text.replace("\n", "\r\n")) == visible_text(text) == "Thanks!"


def test_leading_bom_and_blank_lines_are_removed():
    assert visible_text("\ufeff\n\n  \nHello\n\n-- \nAnn") == "Hello"


def test_empty_input_gives_empty_parts():
    assert split_reply("") == ("", "")
    assert visible_html_text("") == ""


def test_formatting_of_the_new_text_is_kept():
    text = "List:\n\n\n   - one\n   - two\n\n"
    assert visible_text(text) == "List:\n\n\n   - one\n   - two"


# --- HTML ---------------------------------------------------------------------------------------


# Each quote below would survive the plain-text rules: only the HTML marker can cut it.
@pytest.mark.parametrize(
    "quote",
    [
        '<div class="gmail_quote"><div>Ann wrote:</div><div>Old</div></div>',
        '<blockquote type="cite"><div>Old</div></blockquote><div>Old footer</div>',
        '<div id="divRplyFwdMsg"><b>From:</b> Ann<br><b>Sent:</b> Monday</div><div>Old</div>',
        '<div id="x_divRplyFwdMsg"><b>From:</b> Ann</div><div>Old</div>',
        '<span id="OLK_SRC_BODY_SECTION"><div>From: Ann</div><div>Old</div></span>',
        "<hr><b>From:</b> Ann<br><b>Sent:</b> Monday<br><p>Old</p>",
        '<div class="yahoo_quoted"><div>On Monday, Ann wrote:</div><div>Old</div></div>',
        '<div class="moz-cite-prefix">Ann wrote:</div><div>Old</div>',
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>From:</b> Ann<br>'
        "<b>Sent:</b> Monday</p></div><p>Old</p>",
        '<div style="padding-top: 5px; border-top-color: rgb(229, 229, 229)"><b>От:</b> Ann<br>'
        "<b>Кому:</b> Bob</div><div>Old</div>",
    ],
    ids=[
        "gmail",
        "apple-cite",
        "outlook-web",
        "outlook-web-prefixed",
        "outlook-mac",
        "hr-from",
        "yahoo",
        "thunderbird",
        "outlook-2013",
        "windows-mail",
    ],
)
def test_html_quote_marker_is_cut(quote):
    html = f"<html><body><div>Thanks,</div><div>Bob</div>{quote}</body></html>"
    assert visible_html_text(html) == "Thanks,\nBob"


def test_html_rule_without_a_header_block_is_kept():
    assert visible_html_text("<div>Top</div><hr><p>Bottom</p>") == "Top\nBottom"


def test_html_gmail_forward_stays_visible():
    html = (
        '<div dir="ltr">FYI<br><br><div class="gmail_quote"><div class="gmail_attr">'
        "---------- Forwarded message ---------<br>From: Ann &lt;ann@example.com&gt;<br>"
        "Date: Mon, Jun 3, 2024<br>Subject: Report<br>To: Bob<br></div><br>"
        "<div>The report is attached.</div></div></div>"
    )
    visible = visible_html_text(html)
    assert visible.startswith("FYI\n\n---------- Forwarded message ---------")
    assert visible.endswith("The report is attached.")


def test_html_reply_under_the_quote_is_found():
    html = '<blockquote type="cite">On 3 Jun, Ann &lt;a@x.com&gt; wrote:<br>Hi</blockquote>Reply'
    assert visible_html_text(html) == "Reply"


def test_html_inline_blockquote_between_new_text_is_kept_as_quoted_lines():
    html = "<p>About this:</p><blockquote>Can it run offline?</blockquote><p>Yes.</p>"
    assert visible_html_text(html) == "About this:\n> Can it run offline?\nYes."


def test_html_head_style_and_script_are_dropped_and_entities_decoded():
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<script>alert(1)</script><p>Fish &amp; chips&nbsp;&lt;3</p><p>Line<br>break</p></body>"
    )
    assert visible_html_text(html) == "Fish & chips <3\nLine\nbreak"


def test_html_head_that_is_never_closed_does_not_hide_the_body():
    assert visible_html_text("<html><head><style>a{}</style><body>Hello</body>") == "Hello"


def test_html_preformatted_text_keeps_its_lines():
    assert visible_html_text("<pre>a\n  b</pre><p>c</p>") == "a\n  b\nc"


# --- Performance and isolation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "1@" * 130 + ":",
        "Am 1 schrieb" + " " * 380 + "x:",
        "On 1 " + "wrote " * 60 + "x:",
        "-" * 999,
        "2023年1月1日" + "あ " * 190 + "x:",
        "> " + "a" * 998,
    ],
    ids=["addresses", "spaces", "verbs", "dashes", "cjk", "quote"],
)
def test_adversarial_lines_take_linear_work(line):
    """A hundred more blocks cost as much after a thousand as after a hundred: linear work.

    (Compared by increments: the last block of a text costs less than the others, so the
    totals of linear work are not exactly proportional.)
    """
    block = f"Hi\n\n{line}\nx\n"
    works = {n: work_of(visible_text, block * n) for n in (100, 200, 1000, 1100)}
    for measure in ("lines", "chars"):
        early = getattr(works[200], measure) - getattr(works[100], measure)
        late = getattr(works[1100], measure) - getattr(works[1000], measure)
        assert late <= 1.1 * early, measure
    assert works[1100].longest <= quotes.MAX_LINE


@pytest.mark.parametrize("unit", ["a -- On 1@ ", "x On wrote 1 ", "x--On 12:30 <a@b.c> "])
def test_a_line_with_many_places_an_attribution_could_run_in_is_read_a_few_times(unit):
    """Each "On" of a line over a quote could start a run-in attribution: only the first
    few are tried, each a whole attribution match, not every one of dozens."""
    line = (unit * 40)[:398] + ":"
    text = f"Hi\n\n{line}\n> q\n" * 100
    assert work_of(visible_text, text).chars <= 12 * len(text)


def test_quote_modules_import_nothing_but_the_standard_library_and_each_other():
    siblings = {module.__name__ for module in (quotes, quote_rules, quote_html)}
    siblings.add("tisket.lib.lenient_html")  # the standard parser, read as browsers read
    for module in (quotes, quote_rules, quote_html):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {
            name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
            )
        }
        assert {name.split(".")[0] for name in imported - siblings} <= sys.stdlib_module_names
