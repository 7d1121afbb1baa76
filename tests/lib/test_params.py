import pytest

from tisket.lib.params import ID_MAX, id_param


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (str(ID_MAX), ID_MAX),
        (str(ID_MAX + 1), None),  # no row can have it; the database would refuse it
        ("638000542754786748009545728", None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("²", None),  # str.isdigit() says yes; int() says no
        ("٣", None),  # an Arabic-Indic three: int() would read it
        ("1e3", None),
        ("", None),
        (None, None),
    ],
)
def test_an_id_is_ascii_digits_within_the_id_range(value, expected):
    assert id_param(value) == expected
