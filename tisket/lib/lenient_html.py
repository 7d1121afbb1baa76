"""Python's HTML parser, reading mail's HTML as a browser would where it would give up."""

from html.parser import HTMLParser


class LenientHTMLParser(HTMLParser):
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
