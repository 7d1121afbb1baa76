import pytest

from tisket.lib.untrusted import untrusted, untrusted_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("![logo](https://x.test/a.png?u=1)", "[image: logo]"),
        ("![](data:image/png;base64,AAAA)", "[image: no description]"),
        ("[click](https://x.test/p?s=1)", "click [link to x.test]"),
        ('[click](https://x.test/p "title")', "click [link to x.test]"),
        ("see https://x.test/a/b?c=d.", "see [link to x.test]."),
        ("<https://x.test/a>", "[link to x.test]"),
        ("go to www.x.test/a?b=c now", "go to [link to www.x.test] now"),
        ("javascript:alert(1)", "[link to javascript]"),
        ("[ref]: https://x.test/secret\ntext", "\ntext"),
        ("plain words, a@b.test", "plain words, a@b.test"),
        ("in\u200bvisible\u202ehidden", "invisiblehidden"),
    ],
)
def test_links_and_images_become_words(text, expected):
    assert untrusted_text(text) == expected


def test_long_text_is_capped_and_says_so():
    assert untrusted_text("a" * 30, limit=10) == "a" * 10 + "\n[… 20 more characters not shown]"


def test_the_envelope_marks_the_text():
    assert untrusted("hi") == {"untrusted": True, "text": "hi"}
    assert "instructions" in untrusted("hi", note=True)["note"]
