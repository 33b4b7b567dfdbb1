"""Parsing a QIDO-RS query string the way Azure's DICOM service does (QueryParser, QueryOptions).

Reserved parameters (``limit``, ``offset``, ``fuzzymatching``, ``includefield``) are matched
case-insensitively, as ASP.NET model binding does; every other key is a filter attribute, written
as a case-sensitive keyword or as ``GGGGEEEE``. Anything wrong is a 400 with a message that names
the parameter.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from .binding import LONG_MAX, is_integer, to_int
from .errors import bad_request
from .qido_tags import (
    FILTER_LEVEL, MODALITIES_IN_STUDY, RESOURCE_FILTER_LEVELS, RESOURCE_LEVEL, SERIES_UID, STUDY_UID,
    parse_attribute_id, vr_of,
)

MAX_LIMIT = 200
DEFAULT_LIMIT = 100
_DATE = re.compile(r"^[0-9]{8}$")


@dataclass(frozen=True)
class Filter:
    """One matching condition: ``kind`` is ``exact``, ``fuzzy``, ``date``, ``modality``."""

    tag: str
    level: str
    kind: str
    value: str = ""
    low: date | None = None
    high: date | None = None


@dataclass
class Query:
    resource: str
    level: str
    filters: list[Filter] = field(default_factory=list)
    include_all: bool = False
    include_tags: list[str] = field(default_factory=list)
    fuzzy: bool = False
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def resource_for(level: str, study_uid: str | None, series_uid: str | None) -> str:
    """Azure's QueryResource for a level and the UIDs in the path."""
    if level == "study":
        return "AllStudies"
    if level == "series":
        return "StudySeries" if study_uid else "AllSeries"
    if series_uid:
        return "StudySeriesInstances"
    return "StudyInstances" if study_uid else "AllInstances"


def _group(items: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Values per key, keys compared case-insensitively (ASP.NET's query collection)."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for key, value in items:
        name = key.strip()
        groups.setdefault(name.lower(), (name, []))[1].append(value)
    return list(groups.values())


def _integer(name: str, value: str) -> int:
    number = to_int(value) if is_integer(value) else None
    if number is None:
        raise bad_request(f"Invalid QIDO-RS query. The value '{value}' of parameter '{name}' "
                          "is not a valid integer.")
    return number


def _boolean(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise bad_request(f"Invalid QIDO-RS query. The value '{value}' of parameter '{name}' "
                          "is not a valid boolean; use true or false.")
    return text == "true"


def _parse_date(text: str, name: str) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise bad_request(f"Invalid QIDO-RS query. The date '{text}' given for '{name}' is not valid: "
                          "dates must be real dates written yyyyMMdd.") from None


def _date_filter(tag: str, name: str, value: str) -> Filter:
    parts = value.split("-")
    if len(parts) != 2:
        day = _parse_date(value, name)
        return Filter(tag, FILTER_LEVEL[tag], "date", value, day, day)
    low_text, high_text = parts[0].strip(), parts[1].strip()
    if not low_text and not high_text:
        raise bad_request(f"Invalid QIDO-RS query. The range '{value}' given for '{name}' has neither "
                          "a start nor an end; give at least one of them (yyyyMMdd-yyyyMMdd).")
    low = _parse_date(low_text, name) if low_text else None
    high = _parse_date(high_text, name) if high_text else None
    if low and high and low > high:
        raise bad_request(f"Invalid QIDO-RS query. The range '{value}' given for '{name}' is invalid: "
                          f"the start {low_text} is after the end {high_text}.")
    return Filter(tag, FILTER_LEVEL[tag], "date", value, low, high)


def _filter(name: str, value: str, resource: str, fuzzy: bool) -> Filter:
    tag = parse_attribute_id(name)
    if tag is None:
        raise bad_request(f"Invalid QIDO-RS query. Unknown query parameter '{name}'. Attribute keywords "
                          "are case-sensitive (PatientName, not patientname); the reserved parameters are "
                          "limit, offset, fuzzymatching and includefield.")
    level = FILTER_LEVEL.get(tag)
    if level is None or level not in RESOURCE_FILTER_LEVELS[resource]:
        raise bad_request(f"Invalid QIDO-RS query. Attribute '{name}' is not searchable on this "
                          "resource; see the conformance statement for the attributes of each level.")
    if not value:
        raise bad_request(f"Invalid QIDO-RS query. Attribute '{name}' has an empty value, which is "
                          "not supported.")
    vr = vr_of(tag)
    if vr == "DA":
        return _date_filter(tag, name, value)
    if vr == "PN" and fuzzy:
        if '"' in value:
            raise bad_request(f"Invalid QIDO-RS query. The value '{value}' of '{name}' contains '\"', "
                              "which fuzzy matching does not support.")
        return Filter(tag, level, "fuzzy", value)
    if tag == MODALITIES_IN_STUDY:
        return Filter(tag, level, "modality", value)
    return Filter(tag, level, "exact", value)


def _include_fields(values: list[str]) -> tuple[bool, list[str]]:
    fields = [f.strip() for v in values for f in v.split(",") if f.strip()]
    if any(f.lower() == "all" for f in fields):
        if len(fields) > 1:
            raise bad_request("Invalid QIDO-RS query. includefield=all cannot be combined with other "
                              "included fields.")
        return True, []
    tags = []
    for f in fields:
        tag = parse_attribute_id(f)
        if tag is None:
            raise bad_request(f"Invalid QIDO-RS query. includefield has an unknown attribute '{f}' "
                              "(keywords are case-sensitive).")
        tags.append(tag)
    return False, tags


def parse_query(items: list[tuple[str, str]], level: str, study_uid: str | None,
                series_uid: str | None) -> Query:
    """The Query for the query-string items of a request to a QIDO-RS resource."""
    resource = resource_for(level, study_uid, series_uid)
    query = Query(resource=resource, level=RESOURCE_LEVEL[resource])
    filters: list[tuple[str, str]] = []
    for name, values in _group(items):
        key = name.lower()
        if key in ("limit", "offset", "fuzzymatching"):
            # ASP.NET binds a simple type from the first value of a repeated parameter.
            value = values[0]
            if key == "fuzzymatching":
                query.fuzzy = _boolean(name, value)
            else:
                number = _integer(name, value)
                if key == "limit" and not 1 <= number <= MAX_LIMIT:
                    raise bad_request(f"Invalid QIDO-RS query. The limit {number} is outside the allowed "
                                      f"range 1..{MAX_LIMIT}.")
                if key == "offset" and number > LONG_MAX:  # offset binds to a long
                    raise bad_request(f"Invalid QIDO-RS query. The value '{value}' of parameter '{name}' "
                                      "is not a valid integer.")
                if key == "offset" and number < 0:
                    raise bad_request(f"Invalid QIDO-RS query. The offset {number} is negative; it must "
                                      "be 0 or more.")
                setattr(query, key, number)
        elif key == "includefield":
            query.include_all, query.include_tags = _include_fields(values)
        elif len(values) > 1:
            raise bad_request(f"Invalid QIDO-RS query. Attribute '{name}' is given more than once; each "
                              "attribute can be specified once.")
        else:
            filters.append((name, values[0].strip()))

    seen: dict[str, str] = {}
    for name, value in filters:
        cond = _filter(name, value, resource, query.fuzzy)
        if cond.tag in seen:
            raise bad_request(f"Invalid QIDO-RS query. '{name}' and '{seen[cond.tag]}' name the same "
                              "attribute; each attribute can be specified once.")
        seen[cond.tag] = name
        query.filters.append(cond)
    for tag, uid in ((STUDY_UID, study_uid), (SERIES_UID, series_uid)):
        if uid is not None:
            # Unreachable through the resource rules above, kept as Azure's own guard.
            if tag in seen:
                raise bad_request(f"Invalid QIDO-RS query. '{seen[tag]}' cannot be a filter when the "
                                  "path already gives it.")
            query.filters.append(Filter(tag, FILTER_LEVEL[tag], "exact", uid))
    return query

