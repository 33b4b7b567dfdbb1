"""How ASP.NET Core binds query values and how .NET parses and prints values, in one place.

- The query collection: keys compared case-insensitively; model binding reads the first value of
  a repeated parameter.
- ``int``/``long`` and ``bool`` binding, and the 400 texts Azure sends when binding fails
  (QueryModelStateValidatorAttribute wraps the first model-state error in ``InvalidQueryStringValue``).
- The frame list's ``int[]`` (Azure's IntArrayModelBinder: ``int.TryParse`` with ``NumberStyles.Any``).
- ``DateTimeOffset``: Azure's MandatoryTimeZoneBinder (a zone is required), 100-ns ticks since
  0001-01-01 UTC, and the "O" round-trip format .NET prints.

Only values here: no SQL, no storage, no request objects (callers pass the query items).
"""

import html
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from .errors import bad_request

# .NET integer parsing: ASCII digits, optional sign, surrounding ASCII white space.
_INTEGER = re.compile(r"^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$")
INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1

# ISO 8601 date-time; the zone is checked separately so a missing one gets its own message.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE | re.ASCII)
_MAX_OFFSET_MINUTES = 14 * 60  # .NET DateTimeOffset: offsets beyond ±14:00 do not parse
_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
_FRACTION = re.compile(r"\.([0-9]+)")
TICKS_PER_SECOND = 10_000_000
MAX_TICKS = 3_155_378_975_999_999_999  # DateTimeOffset.MaxValue

QueryCollection = dict[str, tuple[str, list[str]]]
"""Lower-cased key → (the key as first written, its values in order)."""


# --- the query collection ------------------------------------------------------------------------

def query_collection(items: Iterable[tuple[str, str]]) -> QueryCollection:
    """The query items as ASP.NET Core's query collection holds them: keys compared case-insensitively."""
    groups: QueryCollection = {}
    for name, value in items:
        groups.setdefault(name.lower(), (name, []))[1].append(value)
    return groups


def first_query_value(query: QueryCollection, key: str) -> str | None:
    """The value model binding binds to ``key`` (any case): the first of a repeated parameter."""
    group = query.get(key.lower())
    return group[1][0] if group else None


# --- integers and booleans -----------------------------------------------------------------------

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


def int_in_range(text: str) -> bool:
    """Whether ``text`` binds to a .NET ``int``."""
    value = to_int(text) if is_integer(text) else None
    return value is not None and -INT_MAX - 1 <= value <= INT_MAX


# NumberFormatInfo.InvariantInfo: "¤" is the currency symbol, "." the decimal and "," the group separator.
_CURRENCY = "\u00a4"
# Number parsing's white space (ASCII only), and String.Trim's (Char.IsWhiteSpace: also U+0085 and the
# Unicode space, line and paragraph separators).
_NUMBER_WHITE = " \t\n\v\f\r"
_TRIM_WHITE = (_NUMBER_WHITE + "\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
               + "\u2028\u2029\u202f\u205f\u3000")
_MAX_EXPONENT = 100_000_000  # .NET 8 stops counting an exponent there (beyond, a digit cannot matter)


def int_any(text: str) -> int | None:
    """``int.TryParse(text, NumberStyles.Any, CultureInfo.InvariantCulture)``: the value, or None.

    NumberStyles.Any allows, besides ASCII digits: white space around the number (not straight after a
    sign), one leading or trailing sign or parentheses for a negative, one currency symbol ("¤"), group
    separators after the first digit, a decimal point whose fraction digits are all zero ("1.0"), an
    exponent ("1e0", "10e-1"), and trailing NUL characters. Anything else, a non-zero fraction or a value
    outside int's range is None.
    """
    i, n = 0, len(text)
    negative = sign = parens = currency = False
    while i < n:  # leading: white space, one sign or "(", one currency symbol
        ch = text[i]
        if ch in _NUMBER_WHITE and (not sign or currency):
            pass
        elif not sign and ch in "+-(":
            sign, negative, parens = True, ch != "+", ch == "("
        elif not currency and ch == _CURRENCY:
            currency = True
        else:
            break
        i += 1
    digits: list[str] = []
    fraction = 0  # digits after the decimal point
    point = False
    while i < n:
        ch = text[i]
        if "0" <= ch <= "9":
            digits.append(ch)
            fraction += point
        elif ch == "." and not point:
            point = True
        elif not (ch == "," and digits and not point):
            break
        i += 1
    if not digits:
        return None
    exponent = 0
    if i < n and text[i] in "eE":  # an exponent counts only with a digit; otherwise "e" is left over
        j = i + 1 + (i + 1 < n and text[i + 1] in "+-")
        k = j
        while k < n and "0" <= text[k] <= "9":
            k += 1
        if k > j:
            written = text[j:k].lstrip("0")
            exponent = _MAX_EXPONENT if len(written) > 9 else min(int(written or "0"), _MAX_EXPONENT)
            exponent = -exponent if text[j - 1] == "-" else exponent
            i = k
    while i < n:  # trailing: white space, a sign if none led, ")" closing "(", the currency symbol
        ch = text[i]
        if ch in _NUMBER_WHITE:
            pass
        elif not sign and ch in "+-":
            sign, negative = True, ch == "-"
        elif parens and ch == ")":
            parens = False
        elif not currency and ch == _CURRENCY:
            currency = True
        else:
            break
        i += 1
    if parens or text[i:].strip("\0"):
        return None
    significant = "".join(digits).lstrip("0")
    if not significant:
        return 0
    kept = significant.rstrip("0")
    power = exponent - fraction + len(significant) - len(kept)
    if power < 0 or len(kept) + power > 10:  # a non-zero fraction, or more than int's ten digits
        return None
    value = int(kept) * 10**power * (-1 if negative else 1)
    return value if -INT_MAX - 1 <= value <= INT_MAX else None


def int_list(text: str) -> list[int] | None:
    """A route value bound by Azure's IntArrayModelBinder: comma-separated, each entry trimmed and read
    by ``int_any``; [] for an empty value, None when an entry does not parse (a model-state error)."""
    if not text:
        return []
    values = [int_any(piece.strip(_TRIM_WHITE)) for piece in text.split(",")]
    return None if None in values else [v for v in values if v is not None]


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


# --- DateTimeOffset ------------------------------------------------------------------------------

def ticks(moment: datetime) -> int:
    """100-nanosecond ticks since 0001-01-01 UTC of an aware ``moment``, the unit of a .NET DateTimeOffset."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * 10


def _parsed_ticks(match: re.Match[str]) -> int:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0), tzinfo=timezone.utc)
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if minutes > 59 or hours * 60 + minutes > _MAX_OFFSET_MINUTES:
            raise ValueError(f"time zone offset {zone} is out of range")
        moment -= sign * timedelta(hours=hours, minutes=minutes)
    return ticks(moment) + int((fraction or "").ljust(7, "0"))


def bind_date_time_offset(raw: str | None, key: str) -> int | None:
    """A query value bound by Azure's MandatoryTimeZoneBinder, in UTC ticks; None when absent or blank.

    A date and time must name its zone (``Z`` or ``±hh:mm``, at most ±14:00); anything else is a 400.
    """
    if raw is None or not raw.strip():
        return None
    match = _TIMESTAMP.match(raw.strip())
    try:
        if not match:
            raise ValueError(raw)
        value = _parsed_ticks(match)
    except (ValueError, OverflowError):
        # The binder adds the FormatException itself, whose model-state message is empty.
        raise bad_request(f"The query parameter '{key}' is invalid. ") from None
    if not match.group(8):
        raise bad_request(f"The query parameter '{key}' is invalid. Date and time value must specify a time zone.")
    return value


def round_trip(value: int) -> str:
    """UTC ticks in .NET's "O" format, e.g. ``2024-01-02T00:00:00.0000000+00:00``."""
    moment = _EPOCH + timedelta(seconds=value // TICKS_PER_SECOND)
    # "O" writes four year digits; strftime's %Y does not pad years before 1000 (0001 would be "1").
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{value % TICKS_PER_SECOND:07d}+00:00"


def timestamp_ticks(timestamp: str) -> int:
    """100 ns ticks since 0001-01-01 UTC of an ISO 8601 timestamp (``round_trip``'s form; UTC if no zone)."""
    text, seventh = timestamp.strip(), 0
    fraction = _FRACTION.search(text)
    if fraction:  # Python reads six fractional digits; keep the seventh
        digits = fraction.group(1)
        seventh = int(digits[6]) if len(digits) > 6 else 0
        text = text[:fraction.start(1)] + digits[:6].ljust(6, "0") + text[fraction.end(1):]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return ticks(moment) + seventh
