"""Query-string numbers as ASP.NET Core model binding reads them (shared by QIDO-RS and the change feed)."""

import re

# .NET integer parsing: ASCII digits, optional sign, surrounding ASCII white space.
_INTEGER = re.compile(r"^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$")
INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1


def is_integer(text: str) -> bool:
    """Whether .NET's integer parsing accepts ``text``, its range aside."""
    return bool(_INTEGER.match(text))
