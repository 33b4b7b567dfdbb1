"""mock_server.binding, in process: query values as ASP.NET Core binds them, values as .NET parses and prints them.

Expected ticks are worked out apart from the code under test: the Unix epoch's .NET ticks (a published
constant) plus ``calendar.timegm`` seconds.
"""

import calendar
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from mock_server.binding import (
    INT_MAX, LONG_MAX, MAX_TICKS, bind_boolean, bind_date_time_offset, bind_integer, binding_error_text,
    first_query_value, int_any, int_in_range, int_list, is_integer, query_collection, range_error_text, round_trip,
    ticks, timestamp_ticks, to_int,
)
from mock_server.errors import DicomError

UNIX_EPOCH_TICKS = 621_355_968_000_000_000  # DateTime.UnixEpoch.Ticks
JAN_2_2024 = 638_397_504_000_000_000  # 2024-01-02T00:00:00Z
HOUR = 3600 * 10**7


def utc_ticks(*fields: int, fraction: int = 0) -> int:
    """Ticks of a UTC date and time (year, month, day[, hour, minute, second]) plus 100-ns ``fraction``."""
    padded = (list(fields) + [0, 0, 0])[:6]
    return UNIX_EPOCH_TICKS + calendar.timegm((*padded, 0, 0, 0)) * 10**7 + fraction


def rejected(call: Callable[..., object], *args: object) -> DicomError:
    """The 400 that ``call(*args)`` raises."""
    with pytest.raises(DicomError) as caught:
        call(*args)
    assert caught.value.status == 400
    return caught.value


def test_reference_constants() -> None:
    assert utc_ticks(2024, 1, 2) == JAN_2_2024
    assert utc_ticks(1970, 1, 1) == UNIX_EPOCH_TICKS
    assert MAX_TICKS == utc_ticks(9999, 12, 31, 23, 59, 59, fraction=9_999_999)  # DateTimeOffset.MaxValue


# --- integers ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("5", 5), ("+5", 5), ("-5", -5), ("0", 0), ("-0", 0), ("+0", 0),
    (" \t5\r\n", 5), ("\v\f7", 7),  # ASCII white space around the number
    ("007", 7), ("-0012", -12), ("0" * 40 + "3", 3),  # leading zeros are not significant digits
    ("9" * 20, int("9" * 20)),  # 20 significant digits still have a value
    ("1" + "0" * 20, None), ("-" + "9" * 21, None),  # beyond 20: outside every range
    ("9" * 5000, None),  # beyond Python's 4,300-digit int() limit: no ValueError
])
def test_to_int(text: str, value: int | None) -> None:
    assert is_integer(text)
    assert to_int(text) == value


@pytest.mark.parametrize("text", [
    "", " ", "+", "-", "+-5", "--5", "5-", "5 5", "5.0", "1e3", "0x10", "five",
    "²", "١٢", "５",  # other Unicode digits
    "\u00a05", "5\u2003",  # non-ASCII spaces
])
def test_not_an_integer(text: str) -> None:
    assert not is_integer(text)
    assert not int_in_range(text)


@pytest.mark.parametrize(("text", "fits"), [
    (str(INT_MAX), True), (str(INT_MAX + 1), False),
    (str(-INT_MAX - 1), True), (str(-INT_MAX - 2), False),
    (" 2147483647 ", True), ("0002147483647", True), ("9" * 5000, False),
])
def test_int_in_range(text: str, fits: bool) -> None:
    assert int_in_range(text) is fits


# int.TryParse(NumberStyles.Any, InvariantCulture), which Azure's IntArrayModelBinder reads frame numbers with.
@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("+1", 1), ("-1", -1), ("1+", 1), ("1-", -1), ("(1)", -1), (" \t1\r\n", 1),
    ("\u00a41", 1), ("1\u00a4", 1), ("-\u00a4 1", -1), ("\u00a4 -1", -1),  # the invariant currency symbol
    ("1.0", 1), ("1.", 1), (".0", 0), ("1e0", 1), ("1E+2", 100), ("10e-1", 1), ("0e99999", 0),
    ("0000000001", 1), ("1,000", 1000), ("1,", 1), ("1\0\0", 1),  # group separators; trailing NULs
    ("2147483647", INT_MAX), ("-2147483648", -INT_MAX - 1), ("-0", 0),
])
def test_int_any(text: str, value: int) -> None:
    assert int_any(text) == value


@pytest.mark.parametrize("text", [
    "", " ", "a", "1x", "0x1", ".", ",1", "1.5", "15e-1", "1e", "1e+", "1e1000000000",
    "- 1", "( 1)", "(1", "1)", "-(1)", "(-1)", "+-1", "1-+", "\u00a4\u00a41",
    "2147483648", "-2147483649", "1e10", "99999999999999999999999",
    "\u00b2", "\u0661", "\uff12", "\u00a01",  # other Unicode digits and spaces are not numbers here
])
def test_int_any_rejects(text: str) -> None:
    assert int_any(text) is None


def test_int_any_does_not_build_huge_integers() -> None:
    assert int_any("1" + "0" * 5000) is None
    assert int_any("0" * 5000 + "7") == 7
    assert int_any("7." + "0" * 5000) == 7
    assert int_any("1" + "0" * 10001 + "e-10001") == 1  # the exponent is counted well beyond 9,999
    assert int_any("1e-" + "9" * 20) is None and int_any("0e" + "9" * 20) == 0


@pytest.mark.parametrize(("text", "values"), [
    ("1,2,3", [1, 2, 3]), (" 1 , 2", [1, 2]), ("\u00a01\u3000", [1]),  # String.Trim: Unicode white space
    ("", []), ("1,,2", None), ("1,x", None), ("1,", None), ("-1,0", [-1, 0]),
])
def test_int_list(text: str, values: list[int] | None) -> None:
    assert int_list(text) == values


def test_int_and_long_edges() -> None:
    assert (INT_MAX, LONG_MAX) == (2_147_483_647, 9_223_372_036_854_775_807)


@pytest.mark.parametrize(("raw", "low", "high", "bits", "value"), [
    ("5", 1, 200, 32, 5),
    (" 200 ", 1, 200, 32, 200),
    ("0001", 1, 200, 32, 1),
    (str(LONG_MAX), 0, LONG_MAX, 64, LONG_MAX),
    ("0", 0, LONG_MAX, 64, 0),
])
def test_bind_integer(raw: str, low: int, high: int, bits: int, value: int) -> None:
    assert bind_integer(raw, "Limit", low, high, bits) == value


NOT_VALID = "The query parameter '{0}' is invalid. The value '{1}' is not valid for {0}."
EMPTY = "The query parameter '{0}' is invalid. The value '{1}' is invalid."
LIMIT_RANGE = "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."
OFFSET_RANGE = "The query parameter 'Offset' is invalid. The field Offset must be between 0 and 9.223372036854776E+18."


@pytest.mark.parametrize(("raw", "key", "high", "bits", "message"), [
    # Not a number, or beyond the type: ASP.NET Core's binding message.
    ("abc", "Limit", 200, 32, NOT_VALID.format("Limit", "abc")),
    ("2147483648", "Limit", 200, 32, NOT_VALID.format("Limit", "2147483648")),
    ("-2147483649", "Limit", 200, 32, NOT_VALID.format("Limit", "-2147483649")),
    ("9223372036854775808", "Offset", LONG_MAX, 64, NOT_VALID.format("Offset", "9223372036854775808")),
    ("9" * 5000, "limit", 100, 32, NOT_VALID.format("limit", "9" * 5000)),
    ("", "Limit", 200, 32, EMPTY.format("Limit", "")),
    ("  ", "Limit", 200, 32, EMPTY.format("Limit", "  ")),
    # A number of the type outside [Range]: the RangeAttribute message, bounds printed as .NET prints them.
    ("0", "Limit", 200, 32, LIMIT_RANGE),
    ("201", "Limit", 200, 32, LIMIT_RANGE),
    ("2147483647", "Limit", 200, 32, LIMIT_RANGE),
    ("-1", "Offset", LONG_MAX, 64, OFFSET_RANGE),
])
def test_bind_integer_rejects(raw: str, key: str, high: int, bits: int, message: str) -> None:
    low = 1 if bits == 32 else 0
    assert rejected(bind_integer, raw, key, low, high, bits).message == message


def test_range_error_names_the_display_name() -> None:
    assert rejected(bind_integer, "0", "limit", 1, 100, 32, "Limit").message == \
        "The query parameter 'limit' is invalid. The field Limit must be between 1 and 100."
    assert range_error_text("Offset", "Offset", 0, LONG_MAX) == OFFSET_RANGE


# --- booleans and the error texts ------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [
    ("true", True), ("TRUE", True), ("True", True), (" true\t", True),
    ("false", False), ("FaLsE", False), ("\nfalse ", False),
])
def test_bind_boolean(raw: str, value: bool) -> None:
    assert bind_boolean(raw, "FuzzyMatching") is value


@pytest.mark.parametrize(("raw", "message"), [
    ("1", "The query parameter 'FuzzyMatching' is invalid. The value '1' is not valid for FuzzyMatching."),
    ("yes", "The query parameter 'FuzzyMatching' is invalid. The value 'yes' is not valid for FuzzyMatching."),
    ("t", "The query parameter 'FuzzyMatching' is invalid. The value 't' is not valid for FuzzyMatching."),
    ("", "The query parameter 'FuzzyMatching' is invalid. The value '' is invalid."),
])
def test_bind_boolean_rejects(raw: str, message: str) -> None:
    assert rejected(bind_boolean, raw, "FuzzyMatching").message == message


@pytest.mark.parametrize(("raw", "text"), [
    ("abc", "The query parameter 'quality' is invalid. The value 'abc' is not valid for quality."),
    (" ", "The query parameter 'quality' is invalid. The value ' ' is invalid."),
    # Only a message holding <…> is HTML-encoded, and then all of it (quotes as &#39; and &quot;).
    ("<b>", "The query parameter 'quality' is invalid. The value &#39;&lt;b&gt;&#39; is not valid for quality."),
    ('<a href="x">&', "The query parameter 'quality' is invalid. The value &#39;&lt;a href=&quot;x&quot;&gt;&amp;"
                      "&#39; is not valid for quality."),
    ("a<b", "The query parameter 'quality' is invalid. The value 'a<b' is not valid for quality."),
    ("a>b&'", "The query parameter 'quality' is invalid. The value 'a>b&'' is not valid for quality."),
])
def test_binding_error_text(raw: str, text: str) -> None:
    assert binding_error_text("quality", raw) == text


# --- the query collection --------------------------------------------------------------------------

def test_query_collection_groups_keys_case_insensitively() -> None:
    items = [("Limit", "1"), ("x", "a"), ("limit", "2"), ("LIMIT", "3"), ("X", "b"), ("y", "")]
    assert query_collection(items) == {
        "limit": ("Limit", ["1", "2", "3"]),  # the key as first written, every value in order
        "x": ("x", ["a", "b"]),
        "y": ("y", [""]),
    }


@pytest.mark.parametrize(("items", "key", "value"), [
    ([("limit", "5")], "limit", "5"),
    ([("LIMIT", "5")], "Limit", "5"),
    ([("Limit", "5"), ("limit", "abc")], "limit", "5"),  # the first value wins
    ([("limit", "abc"), ("Limit", "5")], "limit", "abc"),
    ([("limit", "")], "limit", ""),  # present but empty is not absent
    ([("offset", "5")], "limit", None),
    ([(" limit", "5")], "limit", None),  # keys are not trimmed
    ([], "limit", None),
])
def test_first_query_value(items: list[tuple[str, str]], key: str, value: str | None) -> None:
    assert first_query_value(query_collection(items), key) == value


# --- DateTimeOffset (MandatoryTimeZoneBinder) -------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [
    ("2024-01-02T00:00:00Z", JAN_2_2024),
    ("2024-01-02t00:00:00z", JAN_2_2024),
    (" 2024-01-02T00:00:00Z ", JAN_2_2024),
    ("2024-01-02 00:00:00Z", JAN_2_2024),
    ("2024-01-02T00:00Z", JAN_2_2024),
    ("2024-01-02Z", JAN_2_2024),
    ("2024-01-02T00:00:00 Z", JAN_2_2024),
    ("2024-01-02T00:00:00+00:00", JAN_2_2024),
    ("2024-01-02T00:00:00-00:00", JAN_2_2024),
    ("2024-01-02T02:00:00+02:00", JAN_2_2024),
    ("2024-01-02T02:00:00+0200", JAN_2_2024),
    ("2024-01-02T02:00:00+02", JAN_2_2024),
    ("2024-01-01T22:30:00-01:30", JAN_2_2024),
    ("2024-01-02T14:00:00+14:00", JAN_2_2024),  # ±14:00 is the widest offset
    ("2024-01-01T10:00:00-14:00", JAN_2_2024),
    ("2024-06-30T23:59:59Z", utc_ticks(2024, 6, 30, 23, 59, 59)),
    ("2024-02-29T12:00:00+05:30", utc_ticks(2024, 2, 29, 6, 30)),
    # Up to seven fractional digits, '.' or ','.
    ("2024-01-02T00:00:00.1234567Z", JAN_2_2024 + 1_234_567),
    ("2024-01-02T00:00:00.5Z", JAN_2_2024 + 5_000_000),
    ("2024-01-02T00:00:00,25Z", JAN_2_2024 + 2_500_000),
    ("2024-01-02T00:00:00.0000001Z", JAN_2_2024 + 1),
    ("9999-12-31T23:59:59.9999999Z", MAX_TICKS),
    ("0001-01-01T00:00:00Z", 0),
])
def test_bind_date_time_offset(raw: str, value: int) -> None:
    assert bind_date_time_offset(raw, "StartTime") == value


@pytest.mark.parametrize("raw", [None, "", "   ", "\t"])
def test_blank_date_time_is_none(raw: str | None) -> None:
    assert bind_date_time_offset(raw, "StartTime") is None


INVALID = "The query parameter 'EndTime' is invalid. "  # the FormatException's empty model-state message
NO_ZONE = "The query parameter 'EndTime' is invalid. Date and time value must specify a time zone."


@pytest.mark.parametrize(("raw", "message"), [
    ("2024-01-02T00:00:00", NO_ZONE),
    ("2024-01-02", NO_ZONE),
    ("2024-01-02T00:00:00.5", NO_ZONE),
    ("2024-01-02T00:00:00+14:01", INVALID),  # beyond ±14:00
    ("2024-01-02T00:00:00-15:00", INVALID),
    ("2024-01-02T00:00:00+01:60", INVALID),
    ("2024-13-01T00:00:00Z", INVALID),
    ("2024-02-30T00:00:00Z", INVALID),
    ("2024-01-02T24:00:00Z", INVALID),
    ("2024-01-02T00:00:00.12345678Z", INVALID),  # eight fractional digits
    ("2024-1-2T00:00:00Z", INVALID),
    ("yesterday", INVALID),
    ("0001-01-01T00:00:00+01:00", INVALID),  # before DateTimeOffset.MinValue in UTC
    ("9999-12-31T23:00:00-01:00", INVALID),  # after MaxValue
    ("2024-13-01T00:00:00", INVALID),  # unparseable comes before the missing zone
])
def test_bind_date_time_offset_rejects(raw: str, message: str) -> None:
    assert rejected(bind_date_time_offset, raw, "EndTime").message == message


# --- ticks and the "O" round-trip format -----------------------------------------------------------

@pytest.mark.parametrize(("moment", "value"), [
    (datetime(1, 1, 1, tzinfo=timezone.utc), 0),
    (datetime(1970, 1, 1, tzinfo=timezone.utc), UNIX_EPOCH_TICKS),
    (datetime(2024, 1, 2, tzinfo=timezone.utc), JAN_2_2024),
    (datetime(2024, 1, 2, 0, 0, 0, 1, tzinfo=timezone.utc), JAN_2_2024 + 10),  # a microsecond is 10 ticks
    (datetime(2024, 1, 2, 2, tzinfo=timezone(timedelta(hours=2))), JAN_2_2024),
    (datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=-1))), JAN_2_2024 + HOUR),
])
def test_ticks(moment: datetime, value: int) -> None:
    assert ticks(moment) == value


@pytest.mark.parametrize(("value", "text"), [
    (JAN_2_2024, "2024-01-02T00:00:00.0000000+00:00"),
    (JAN_2_2024 + 1_234_567, "2024-01-02T00:00:00.1234567+00:00"),
    (JAN_2_2024 + 1, "2024-01-02T00:00:00.0000001+00:00"),
    (JAN_2_2024 - 1, "2024-01-01T23:59:59.9999999+00:00"),
    (utc_ticks(2024, 2, 29, 13, 5, 9), "2024-02-29T13:05:09.0000000+00:00"),
    (0, "0001-01-01T00:00:00.0000000+00:00"),  # four year digits, as "O" writes them
    (utc_ticks(999, 12, 31), "0999-12-31T00:00:00.0000000+00:00"),
    (MAX_TICKS, "9999-12-31T23:59:59.9999999+00:00"),
])
def test_round_trip(value: int, text: str) -> None:
    assert round_trip(value) == text


@pytest.mark.parametrize(("text", "value"), [
    ("2024-01-02T00:00:00.0000000+00:00", JAN_2_2024),
    ("2024-01-02T00:00:00.1234567+00:00", JAN_2_2024 + 1_234_567),  # the seventh digit Python drops is kept
    ("2024-01-02T00:00:00.123+00:00", JAN_2_2024 + 1_230_000),
    ("2024-01-02T00:00:00+00:00", JAN_2_2024),
    ("2024-01-02T00:00:00.5", JAN_2_2024 + 5_000_000),  # no zone: UTC
    ("2024-01-02T02:00:00.0000000+02:00", JAN_2_2024),
    (" 2024-01-02T00:00:00Z ", JAN_2_2024),
])
def test_timestamp_ticks(text: str, value: int) -> None:
    assert timestamp_ticks(text) == value


@pytest.mark.parametrize("value", [
    0, 1, JAN_2_2024, JAN_2_2024 + 9_999_999, utc_ticks(2038, 1, 19, 3, 14, 8, fraction=7), MAX_TICKS,
])
def test_round_trip_reads_back(value: int) -> None:
    assert timestamp_ticks(round_trip(value)) == value
    assert bind_date_time_offset(round_trip(value), "StartTime") == value
