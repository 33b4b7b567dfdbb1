"""QIDO-RS search (``/studies``, ``/series``, ``/instances`` and the nested resources), as Azure does it.

Azure filters on SQL index rows where, for each study and series, the most recently stored instance
wins; it then builds each result either from those index rows (v2, when every returned attribute is
indexed: empty values are left out) or from the stored metadata of the newest matching instance
(v1 always: empty elements appear as ``{"vr": "XX"}``). This module reproduces both paths over the
emulator's ``instances`` table: UID filters run in SQL, the other filters in Python over the
metadata JSON, which is plenty for a tutorial-sized store.
"""

import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .accept import accepts_dicom_json
from .errors import not_acceptable
from .qido_parse import Filter, Query, check_bound_options, parse_query
from .qido_tags import (
    MODALITIES_IN_STUDY, MODALITY, RESOURCE_TAGS, SERIES_COMPUTED, SERIES_INDEXED, SERIES_INSTANCES,
    SERIES_UID, SOP_UID, STUDY_COMPUTED, STUDY_INDEXED, STUDY_INSTANCES, STUDY_UID,
)
from .responses import DicomJSONResponse
from .storage import Store, chunks

_UID_COLUMNS = {STUDY_UID: "study_uid", SERIES_UID: "series_uid", SOP_UID: "sop_uid"}
_NAME_SPLIT = re.compile(r"[\s^=,]+")

Json = dict[str, dict]


async def search(request: Request, level: str, study_uid: str | None, series_uid: str | None) -> Response:
    """Answer a QIDO-RS search at ``level`` ("study", "series" or "instance") under the path UIDs."""
    # Several Accept headers count as one comma-separated list, as in ASP.NET.
    accept = ", ".join(request.headers.getlist("accept")) or None
    check_bound_options(request.query_params.multi_items())  # model binding runs before the Accept filter
    if not accepts_dicom_json(accept):
        raise not_acceptable()
    query = parse_query(request.query_params.multi_items(), level, study_uid, series_uid)
    version = int(request.state.api_version)
    results = await run_in_threadpool(_run, request.app.state.store, query, version)
    if not results:
        return Response(status_code=204)
    return DicomJSONResponse(results)


# --- reading the store -------------------------------------------------------------------------

@dataclass
class _Index:
    """What the search needs from the store: instance keys, per-study/series stats, metadata."""

    rows: list[tuple[int, str, str, str]]
    study_newest: dict[str, int] = field(default_factory=dict)
    study_count: dict[str, int] = field(default_factory=dict)
    study_series: dict[str, set[str]] = field(default_factory=dict)
    series_newest: dict[tuple[str, str], int] = field(default_factory=dict)
    series_count: dict[tuple[str, str], int] = field(default_factory=dict)
    series_of: dict[int, str] = field(default_factory=dict)
    metadata: dict[int, Json] = field(default_factory=dict)


def _load(conn: sqlite3.Connection, query: Query) -> _Index:
    where, args = [], []
    for f in query.filters:
        if f.tag in _UID_COLUMNS and f.kind == "exact":
            where.append(f"{_UID_COLUMNS[f.tag]} = ?")
            args.append(f.value.rstrip(" "))
    sql = "SELECT watermark, study_uid, series_uid, sop_uid FROM instances"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = [tuple(r) for r in conn.execute(sql, args)]
    index = _Index(rows=rows)
    if not rows:
        return index

    # Study and series attributes come from the whole study, whatever the UID filters kept.
    scope = rows
    if where:
        studies = sorted({r[1] for r in rows})
        scope = []
        for chunk in chunks(studies):
            marks = ",".join("?" * len(chunk))
            scope += [tuple(r) for r in conn.execute(
                f"SELECT watermark, study_uid, series_uid, sop_uid FROM instances "
                f"WHERE study_uid IN ({marks})", chunk)]
    for watermark, study, series, _ in scope:
        key = (study, series)
        index.study_newest[study] = max(index.study_newest.get(study, 0), watermark)
        index.study_count[study] = index.study_count.get(study, 0) + 1
        index.study_series.setdefault(study, set()).add(series)
        index.series_newest[key] = max(index.series_newest.get(key, 0), watermark)
        index.series_count[key] = index.series_count.get(key, 0) + 1
        index.series_of[watermark] = series

    wanted = set(index.study_newest.values()) | set(index.series_newest.values())
    if query.level == "instance":
        wanted |= {r[0] for r in rows}
    for chunk in chunks(sorted(wanted)):
        marks = ",".join("?" * len(chunk))
        for watermark, text in conn.execute(
                f"SELECT watermark, metadata FROM instances WHERE watermark IN ({marks})", chunk):
            data = json.loads(text)
            index.metadata[watermark] = {k.upper(): v for k, v in data.items()} if isinstance(data, dict) else {}
    return index


def _run(store: Store, query: Query, version: int) -> list[Json]:
    with store.read() as conn:
        index = _load(conn, query)
    return _search(index, query, version)


# --- matching ----------------------------------------------------------------------------------

def _first_value(element: dict | None) -> str | None:
    values = (element or {}).get("Value")
    if not values or values[0] is None:
        return None
    value = values[0]
    if isinstance(value, dict):  # PN: component groups joined as in the DICOM string form
        text = "=".join(str(value.get(k, "")) for k in ("Alphabetic", "Ideographic", "Phonetic"))
        return text.rstrip("=") or None
    return str(value)


def _fold_case(text: str) -> str:
    # SQL Server compares padded strings: trailing spaces never matter.
    return text.rstrip(" ").casefold()


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return _fold_case("".join(c for c in decomposed if not unicodedata.combining(c)))


def _name_words(text: str) -> list[str]:
    return [w for w in _NAME_SPLIT.split(_fold_accents(text)) if w]


def _parse_da(text: str | None) -> date | None:
    if not text or not re.fullmatch(r"[0-9]{8}", text.strip()):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _matches(f: Filter, stored: str | None, vr_is_pn: bool) -> bool:
    if stored is None:
        return False
    if f.kind == "date":
        day = _parse_da(stored)
        return day is not None and (f.low is None or f.low <= day) and (f.high is None or day <= f.high)
    if f.kind == "fuzzy":
        words = _name_words(stored)
        return all(any(w.startswith(q) for w in words) for q in _name_words(f.value))
    if vr_is_pn:
        return _fold_accents(stored) == _fold_accents(f.value)
    return _fold_case(stored) == _fold_case(f.value)


_PN_TAGS = frozenset({"00100010", "00080090"})


@dataclass(frozen=True)
class _Candidate:
    watermark: int  # orders results: newest first
    study: str
    series: str
    sop: str


def _candidates(index: _Index, level: str) -> list[_Candidate]:
    if level == "study":
        studies = {r[1] for r in index.rows}
        return [_Candidate(index.study_newest[s], s, "", "") for s in studies]
    if level == "series":
        keys = {(r[1], r[2]) for r in index.rows}
        return [_Candidate(index.series_newest[k], k[0], k[1], "") for k in keys]
    return [_Candidate(r[0], r[1], r[2], r[3]) for r in index.rows]


def _keep(index: _Index, c: _Candidate, f: Filter) -> bool:
    if f.tag in _UID_COLUMNS:
        # UIDs compare exactly, against the row's own keys.
        own = {STUDY_UID: c.study, SERIES_UID: c.series, SOP_UID: c.sop}[f.tag]
        return own == f.value.rstrip(" ")
    if f.kind == "modality":
        return any(
            _matches(Filter(MODALITY, "series", "exact", f.value),
                     _first_value(index.metadata[index.series_newest[(c.study, s)]].get(MODALITY)), False)
            for s in index.study_series[c.study])
    if f.level == "study":
        source = index.metadata[index.study_newest[c.study]]
    elif f.level == "series":
        source = index.metadata[index.series_newest[(c.study, c.series)]]
    else:
        source = index.metadata[c.watermark]
    return _matches(f, _first_value(source.get(f.tag)), f.tag in _PN_TAGS)


# --- building results --------------------------------------------------------------------------

def _return_tags(query: Query, version: int) -> set[str]:
    v1, v2, everything = RESOURCE_TAGS[query.resource]
    tags = set(everything if query.include_all else (v2 if version >= 2 else v1))
    tags.update(query.include_tags)
    tags.update(f.tag for f in query.filters)
    return tags


def _indexed(element: dict | None) -> dict | None:
    """An index column as Azure's index holds it: first value only, nothing when empty."""
    value = (element or {}).get("Value")
    if not value or value[0] in (None, "", {}):
        return None
    return {"vr": element["vr"], "Value": [value[0]]}


def _modalities(index: _Index, study: str) -> dict | None:
    found: list[str] = []
    for series in sorted(index.study_series[study]):
        value = _first_value(index.metadata[index.series_newest[(study, series)]].get(MODALITY))
        if value and value not in found:
            found.append(value)
    return {"vr": "CS", "Value": sorted(found)} if found else None


def _study_row(index: _Index, study: str) -> Json:
    newest = index.metadata[index.study_newest[study]]
    row = {t: e for t in STUDY_INDEXED - STUDY_COMPUTED if (e := _indexed(newest.get(t)))}
    row[STUDY_UID] = {"vr": "UI", "Value": [study]}
    row[STUDY_INSTANCES] = {"vr": "IS", "Value": [index.study_count[study]]}
    if modalities := _modalities(index, study):
        row[MODALITIES_IN_STUDY] = modalities
    return row


def _series_row(index: _Index, study: str, series: str) -> Json:
    newest = index.metadata[index.series_newest[(study, series)]]
    row = {t: e for t in SERIES_INDEXED - SERIES_COMPUTED if (e := _indexed(newest.get(t)))}
    row[STUDY_UID] = {"vr": "UI", "Value": [study]}
    row[SERIES_UID] = {"vr": "UI", "Value": [series]}
    row[SERIES_INSTANCES] = {"vr": "IS", "Value": [index.series_count[(study, series)]]}
    return row


def _search(index: _Index, query: Query, version: int) -> list[Json]:
    found = [c for c in _candidates(index, query.level)
             if all(_keep(index, c, f) for f in query.filters)]
    found.sort(key=lambda c: c.watermark, reverse=True)
    page = found[query.offset:query.offset + query.limit]
    if not page:
        return []

    tags = _return_tags(query, version)
    # Azure's QueryService: answer from the index rows only when every returned tag is indexed.
    from_metadata = bool(tags - (STUDY_INDEXED | SERIES_INDEXED))
    if from_metadata:
        with_study = query.level == "study" and bool(tags & STUDY_COMPUTED)
        with_series = query.level == "series" and bool(tags & SERIES_COMPUTED)
    else:
        with_study = bool(tags & STUDY_INDEXED)
        with_series = bool(tags & SERIES_INDEXED)

    results = []
    for c in page:
        metadata = index.metadata[c.watermark]
        series = c.series or index.series_of[c.watermark]
        dataset: Json = {}
        if from_metadata:
            dataset = {t: e for t, e in metadata.items() if t in tags}
            if with_series and (c.study, series) in index.series_count:
                dataset[SERIES_INSTANCES] = _series_row(index, c.study, series)[SERIES_INSTANCES]
            if with_study:
                study_row = _study_row(index, c.study)
                dataset.update({t: study_row[t] for t in STUDY_COMPUTED if t in study_row})
        else:
            if with_series and (c.study, series) in index.series_count:
                dataset.update(_series_row(index, c.study, series))
            if with_study:
                dataset.update(_study_row(index, c.study))
        results.append({t: dataset[t] for t in sorted(dataset) if t in tags})
    return results
