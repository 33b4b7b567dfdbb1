"""Query-string numbers as ASP.NET Core model binding reads them (shared by QIDO-RS and the change feed)."""

import re

# .NET integer parsing: ASCII digits, optional sign, surrounding ASCII white space.
_INTEGER = re.compile(r"^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$")
INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1


def is_integer(text: str) -> bool:
    """Whether .NET's integer parsing accepts ``text``, its range aside."""
    return bool(_INTEGER.match(text))


def to_int(text: str) -> int | None:
    """The value of ``text`` (``is_integer`` already true), or None beyond 20 significant digits.

    None is outside every range (int, long) ASP.NET binds, so callers answer it as the binding
    failure it is on Azure; Python's int() would instead raise for over 4,300 digits.
    """
    digits = text.strip(" \t\n\v\f\r")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 20:
        return None
    return sign * int(digits)
