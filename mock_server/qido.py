"""QIDO-RS search (``/studies``, ``/series``, ``/instances`` and the nested resources), as Azure does it.

Azure filters on its SQL index rows of studies and series (each keeping the newest non-empty value
of every indexed attribute) and pages them in SQL; it then builds each result either from those
index rows (v2, when every returned attribute is indexed: empty values are left out) or from the
stored metadata of the newest matching instance (v1 always: empty elements appear as
``{"vr": "XX"}``). The emulator does the same: the filters, order, limit and offset run in SQL over
its study, series and instance tables (``storage.Snapshot.search``), and metadata is read only for
the rows of the page.
"""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .accept import accepts_dicom_json
from .errors import not_acceptable
from .qido_parse import Filter, Query, check_bound_options, parse_query
from .qido_tags import (
    MODALITIES_IN_STUDY, RESOURCE_TAGS, SERIES_COMPUTED, SERIES_INDEXED, SERIES_INSTANCES, SERIES_UID, SOP_UID,
    STUDY_COMPUTED, STUDY_INDEXED, STUDY_INSTANCES, STUDY_UID, Level,
)
from .responses import DicomJSONResponse
from .storage import Condition, SearchHit, SeriesValues, Store, StudyValues

Json = dict[str, dict]


async def search(request: Request, level: Level, study_uid: str | None, series_uid: str | None) -> Response:
    """Answer a QIDO-RS search at ``level`` ("study", "series" or "instance") under the path UIDs."""
    # Several Accept headers count as one comma-separated list, as in ASP.NET.
    accept = ", ".join(request.headers.getlist("accept")) or None
    check_bound_options(request.query_params.multi_items())  # model binding runs before the Accept filter
    if not accepts_dicom_json(accept):
        raise not_acceptable()
    query = parse_query(request.query_params.multi_items(), level, study_uid, series_uid)
    version = int(request.state.api_version)
    results = await run_in_threadpool(_run, request.app.state.store, query, version,
                                      request.state.partition)
    if not results:
        return Response(status_code=204)
    return DicomJSONResponse(results)


# --- searching the store -------------------------------------------------------------------------

def _condition(f: Filter) -> Condition:
    if f.kind == "date":
        return Condition(f.tag, "date", low=f.low.strftime("%Y%m%d") if f.low else None,
                         high=f.high.strftime("%Y%m%d") if f.high else None)
    return Condition(f.tag, f.kind, (f.value,))


def _run(store: Store, query: Query, version: int, partition: str) -> list[Json]:
    tags = _return_tags(query, version)
    # Azure's QueryService: answer from the index rows only when every returned tag is indexed.
    from_metadata = bool(tags - (STUDY_INDEXED | SERIES_INDEXED))
    with store.snapshot() as snap:
        hits = snap.search(query.level, [_condition(f) for f in query.filters], query.limit, query.offset,
                           with_metadata=from_metadata, partition=partition)
    return [_result(hit, query, tags, from_metadata) for hit in hits]


# --- building results --------------------------------------------------------------------------

def _return_tags(query: Query, version: int) -> set[str]:
    v1, v2, everything = RESOURCE_TAGS[query.resource]
    tags = set(everything if query.include_all else (v2 if version >= 2 else v1))
    tags.update(query.include_tags)
    tags.update(f.tag for f in query.filters)
    return tags


def _study_row(study: StudyValues) -> Json:
    row = dict(study.elements)
    row[STUDY_UID] = {"vr": "UI", "Value": [study.uid]}
    row[STUDY_INSTANCES] = {"vr": "IS", "Value": [study.instance_count]}
    if study.modalities:
        row[MODALITIES_IN_STUDY] = {"vr": "CS", "Value": list(study.modalities)}
    return row


def _series_row(series: SeriesValues) -> Json:
    row = dict(series.elements)
    row[STUDY_UID] = {"vr": "UI", "Value": [series.study_uid]}
    row[SERIES_UID] = {"vr": "UI", "Value": [series.uid]}
    row[SERIES_INSTANCES] = {"vr": "IS", "Value": [series.instance_count]}
    return row


def _result(hit: SearchHit, query: Query, tags: set[str], from_metadata: bool) -> Json:
    if from_metadata:
        with_study = query.level == "study" and bool(tags & STUDY_COMPUTED)
        with_series = query.level == "series" and bool(tags & SERIES_COMPUTED)
    else:
        with_study = bool(tags & STUDY_INDEXED)
        with_series = bool(tags & SERIES_INDEXED)
    dataset: Json = {}
    if from_metadata:
        dataset = {t: e for t, e in (hit.metadata or {}).items() if t in tags}
        if with_series and hit.series is not None:
            dataset[SERIES_INSTANCES] = _series_row(hit.series)[SERIES_INSTANCES]
        if with_study:
            study_row = _study_row(hit.study)
            dataset.update({t: study_row[t] for t in STUDY_COMPUTED if t in study_row})
    else:
        if with_series and hit.series is not None:
            dataset.update(_series_row(hit.series))
        if with_study:
            dataset.update(_study_row(hit.study))
        if hit.sop_uid is not None:
            dataset[SOP_UID] = {"vr": "UI", "Value": [hit.sop_uid]}
    return {t: dataset[t] for t in sorted(dataset) if t in tags}
