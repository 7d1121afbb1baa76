"""CSV cells a spreadsheet opens as text: a cell starting like a formula is quoted."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """The value as a CSV cell; None is empty, and a leading formula character gets a quote."""
    text = "" if value is None else str(value)
    return ("'" + text) if text[:1] in FORMULA_STARTS else text
