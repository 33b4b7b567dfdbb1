"""Query-string values as ASP.NET Core model binding reads them, and the 400 texts Azure sends when it fails
(QueryModelStateValidator wraps the first model-state error in ``InvalidQueryStringValue``)."""

import html
import re

from .errors import bad_request

# .NET integer parsing: ASCII digits, optional sign, surrounding ASCII white space.
_INTEGER = re.compile(r"^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$")
INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1


def is_integer(text: str) -> bool:
    """Whether .NET's integer parsing accepts ``text``, its range aside."""
    return bool(_INTEGER.match(text))


def int_in_range(text: str) -> bool:
    """Whether ``text`` binds to a .NET ``int``."""
    value = to_int(text) if is_integer(text) else None
    return value is not None and -INT_MAX - 1 <= value <= INT_MAX


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


def _net_number(value: int) -> str:
    # RangeAttribute(0, long.MaxValue) holds its bounds as doubles; .NET prints them shortest round-trip.
    if value == LONG_MAX:
        return "9.223372036854776E+18"
    return str(value)


def range_error_text(key: str, display: str, low: int, high: int) -> str:
    """Azure's wrapping of a ``[Range]`` failure: "The field … must be between … and …."."""
    return f"The query parameter '{key}' is invalid. The field {display} must be between " \
           f"{_net_number(low)} and {_net_number(high)}."


def bind_integer(raw: str, key: str, low: int, high: int, bits: int = 32, display: str | None = None) -> int:
    """A query value bound to an ``int`` (or ``long``) with ``[Range(low, high)]``; 400 otherwise."""
    limit = INT_MAX if bits == 32 else LONG_MAX
    value = to_int(raw) if is_integer(raw) else None
    if value is None or not -limit - 1 <= value <= limit:
        raise bad_request(binding_error_text(key, raw))
    if not low <= value <= high:
        raise bad_request(range_error_text(key, display or key, low, high))
    return value


def bind_boolean(raw: str, key: str) -> bool:
    """A query value bound to a ``bool`` (``bool.Parse``: true/false, any case, blanks trimmed)."""
    text = raw.strip().lower()
    if text not in ("true", "false"):
        raise bad_request(binding_error_text(key, raw))
    return text == "true"
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
