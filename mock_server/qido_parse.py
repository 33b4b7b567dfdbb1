"""Parsing a QIDO-RS query string the way Azure's DICOM service does (QueryParser, QueryOptions).

Reserved parameters (``limit``, ``offset``, ``fuzzymatching``, ``includefield``) are matched
case-insensitively, as ASP.NET model binding does; every other key is a filter attribute, written
as a case-sensitive keyword or as ``GGGGEEEE``. Anything wrong is a 400 with a message that names
the parameter.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from pydicom.datadict import keyword_for_tag

from .binding import LONG_MAX, QueryCollection, bind_boolean, bind_integer, first_query_value, query_collection
from .errors import bad_request
from .qido_tags import (
    FILTER_LEVEL, MODALITIES_IN_STUDY, RESOURCE_FILTER_LEVELS, RESOURCE_LEVEL, SERIES_UID, STUDY_UID, FilterKind,
    Level, parse_attribute_id, vr_of,
)

MAX_LIMIT = 200
DEFAULT_LIMIT = 100
_DATE = re.compile(r"^[0-9]{8}$")


@dataclass(frozen=True)
class Filter:
    """One matching condition: ``kind`` is ``exact``, ``fuzzy``, ``date``, ``modality``."""

    tag: str
    level: Level
    kind: FilterKind
    value: str = ""
    low: date | None = None
    high: date | None = None


@dataclass
class Query:
    resource: str
    level: Level
    filters: list[Filter] = field(default_factory=list)
    include_all: bool = False
    include_tags: list[str] = field(default_factory=list)
    fuzzy: bool = False
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def resource_for(level: Level, study_uid: str | None, series_uid: str | None) -> str:
    """Azure's QueryResource for a level and the UIDs in the path."""
    if level == "study":
        return "AllStudies"
    if level == "series":
        return "StudySeries" if study_uid else "AllSeries"
    if series_uid:
        return "StudySeriesInstances"
    return "StudyInstances" if study_uid else "AllInstances"


def _collection(items: list[tuple[str, str]]) -> QueryCollection:
    """ASP.NET's query collection of the items, keys trimmed as QueryOptionsExtensions trims filter keys."""
    return query_collection((key.strip(), value) for key, value in items)


def _parse_date(text: str, keyword: str) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise bad_request(f"Invalid query: specified Date value '{text}' is invalid for attribute '{keyword}'. "
                          "Date should be valid and formatted as yyyyMMdd.") from None


def _date_filter(tag: str, value: str) -> Filter:
    # BaseQueryParser.ParseDateOrTimeTagValue: messages name the attribute by keyword. A date range with
    # both ends empty ("-") is DateTime.MinValue..MaxValue, not an error (only time ranges check that).
    keyword = keyword_for_tag(int(tag, 16))
    parts = value.split("-")
    if len(parts) != 2:
        day = _parse_date(value, keyword)
        return Filter(tag, FILTER_LEVEL[tag], "date", value, day, day)
    low_text, high_text = parts[0].strip(), parts[1].strip()
    low = _parse_date(low_text, keyword) if low_text else None  # None: open end (MinValue/MaxValue)
    high = _parse_date(high_text, keyword) if high_text else None
    if low and high and low > high:
        raise bad_request(f"Invalid query: specified date range '{value}' is invalid.\nThe first part date "
                          f"{low_text} should be lesser than or equal to the second part date {high_text}.")
    return Filter(tag, FILTER_LEVEL[tag], "date", value, low, high)


def _filter(name: str, value: str, resource: str, fuzzy: bool) -> Filter:
    tag = parse_attribute_id(name)
    if tag is None:
        raise bad_request(f"Invalid query: unknown query parameter '{name}'. If the parameter is an attribute "
                          "keyword, check the casing as they are case-sensitive. The conformance statement has "
                          "a list of supported query parameters, attributes and the levels.")
    level = FILTER_LEVEL.get(tag)
    if level is None or level not in RESOURCE_FILTER_LEVELS[resource]:
        raise bad_request(f"Invalid query: AttributeId {name} is not queryable.  If the parameter is an "
                          "attribute keyword, check the casing as they are case-sensitive. The conformance "
                          "statement has a list of supported query parameters, attributes and the levels.")
    if not value.strip():
        raise bad_request(f"Invalid query: AttributeId '{name}' has empty string value that is not supported.")
    vr = vr_of(tag)
    if vr == "DA":
        return _date_filter(tag, value)
    if vr == "PN" and fuzzy:
        if '"' in value:
            raise bad_request(f"Invalid query: specified tag '{keyword_for_tag(int(tag, 16))}' value '{value}' "
                              "contains unsupported character '\"'. Character is not supported with Fuzzy "
                              "match, try exact match or removing the invalid character. ")
        return Filter(tag, level, "fuzzy", value)
    if tag == MODALITIES_IN_STUDY:
        return Filter(tag, level, "modality", value)
    return Filter(tag, level, "exact", value)


def _include_fields(values: list[str]) -> tuple[bool, list[str]]:
    fields = [f.strip() for v in values for f in v.split(",") if f.strip()]
    if any(f.lower() == "all" for f in fields):
        if len(fields) > 1:
            raise bad_request("Invalid query: cannot specify included fields in addition to 'all'.")
        return True, []
    tags = []
    for f in fields:
        tag = parse_attribute_id(f)
        if tag is None:
            raise bad_request(f"Invalid query: IncludeField has unknown attribute '{f}'.")
        tags.append(tag)
    return False, tags


# QueryOptions' bound properties in ModelState order (derived class first, then PaginationOptions):
# key, ModelState key (the property name), binder.
_BOUND = {
    "fuzzymatching": ("FuzzyMatching", lambda raw: bind_boolean(raw, "FuzzyMatching")),
    "offset": ("Offset", lambda raw: bind_integer(raw, "Offset", 0, LONG_MAX, 64)),
    "limit": ("Limit", lambda raw: bind_integer(raw, "Limit", 1, MAX_LIMIT, 32)),
}
_QUERY_ATTRS = {"fuzzymatching": "fuzzy", "offset": "offset", "limit": "limit"}


def _bind(key: str, raw: str) -> object:
    return _BOUND[key][1](raw)


def check_bound_options(items: list[tuple[str, str]]) -> None:
    """The model-binding 400s of QueryOptions, which Azure's QueryModelStateValidator raises before the
    Accept filter runs (so before 406); the first value of a repeated parameter is the one bound."""
    query = _collection(items)
    for key in _BOUND:
        raw = first_query_value(query, key)
        if raw is not None:
            _bind(key, raw)


def parse_query(items: list[tuple[str, str]], level: Level, study_uid: str | None,
                series_uid: str | None) -> Query:
    """The Query for the query-string items of a request to a QIDO-RS resource."""
    resource = resource_for(level, study_uid, series_uid)
    query = Query(resource=resource, level=RESOURCE_LEVEL[resource])
    filters: list[tuple[str, str]] = []
    for name, values in _collection(items).values():
        key = name.lower()
        if key in _BOUND:
            setattr(query, _QUERY_ATTRS[key], _bind(key, values[0]))
        elif key == "includefield":
            query.include_all, query.include_tags = _include_fields(values)
        elif len(values) > 1:
            raise bad_request(f"Invalid QIDO-RS query. Duplicate AttributeId '{name}'. Each attribute is only "
                              "allowed to be specified once.")
        else:
            filters.append((name, values[0].strip()))

    seen: dict[str, str] = {}
    for name, value in filters:
        cond = _filter(name, value, resource, query.fuzzy)
        if cond.tag in seen:
            raise bad_request(f"Invalid query: attribute '{name}' has been specified more than once using "
                              "different ID formats. Each attribute is only allowed to be specified once.")
        seen[cond.tag] = name
        query.filters.append(cond)
    for tag, uid in ((STUDY_UID, study_uid), (SERIES_UID, series_uid)):
        if uid is not None:
            # Unreachable through the resource rules above, kept as Azure's own guard.
            if tag in seen:
                name = "StudyInstanceUID" if tag == STUDY_UID else "SeriesInstanceUID"
                raise bad_request(f"Invalid query: cannot specify attribute '{name}' for the given resource."
                                  + (" " if tag == STUDY_UID else ""))  # the resource text's own trailing space
            query.filters.append(Filter(tag, FILTER_LEVEL[tag], "exact", uid))
    return query

