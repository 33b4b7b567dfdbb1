"""Query-string numbers as ASP.NET Core model binding reads them (shared by QIDO-RS and the change feed)."""

import html
import re

# .NET integer parsing: ASCII digits, optional sign, surrounding ASCII white space.
_INTEGER = re.compile(r"^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$")
INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1


def is_integer(text: str) -> bool:
    """Whether .NET's integer parsing accepts ``text``, its range aside."""
    return bool(_INTEGER.match(text))


def int_in_range(text: str) -> bool:
    """Whether ``text`` binds to a .NET ``int``."""
    return is_integer(text) and -INT_MAX - 1 <= int(text) <= INT_MAX


def binding_error_text(key: str, raw: str) -> str:
    """Azure's QueryModelStateValidator text for a value model binding rejected.

    ``InvalidQueryStringValue`` wraps ASP.NET Core's message: "The value '…' is not valid for …." for
    a value the type converter rejects, "The value '…' is invalid." for an empty (or blank) one; a
    message holding ``<…>`` is HTML-encoded.
    """
    detail = f"The value '{raw}' is invalid." if not raw.strip() else f"The value '{raw}' is not valid for {key}."
    if re.search(r"<[^>]*>", detail):
        detail = html.escape(detail, quote=True).replace("&#x27;", "&#39;")
    return f"The query parameter '{key}' is invalid. {detail}"
