"""The README's compatibility table is measured: each row's request is sent to the emulator and to Orthanc.

``STEPS`` below is the one list of requests, keyed by the exact text of the table's "step" column.
For every row and both servers the test stores the sample study fresh (or makes sure it is absent),
sends the request, compares the status code with the one the README cell starts with, and removes
the study again. A cell that mentions `[]` also claims an empty JSON array as the body. The
"Azure (documented)" column comes from the research notes on Microsoft's server code; the emulator,
which follows that code, must answer exactly what that column says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from helpers.multipart import encode_multipart_related
from helpers.samples import ALL, BLUE_CIRCLE, GREEN_SQUARE, RED_TRIANGLE, STUDY_UID, Sample

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- compatibility:start -->", "<!-- compatibility:end -->"
COLUMNS = ["step", "Azure (documented)", "emulator (measured)", "Orthanc 1.10.1 + DICOMweb 1.7 (measured)"]
MEASURED = {"emulator": 2, "orthanc": 3}  # server name (tests/standard/conftest.py) -> README column

JSON = {"Accept": "application/dicom+json"}
DICOM = 'multipart/related; type="application/dicom"'
FRAMES = 'multipart/related; type="application/octet-stream"'
UIDS = {"study": STUDY_UID, "series": RED_TRIANGLE.series_uid, "instance": RED_TRIANGLE.sop_uid}
INSTANCE = "studies/{study}/series/{series}/instances/{instance}"


@dataclass(frozen=True)
class Body:
    """A STOW-RS body made of sample files: multipart/related, or Azure's single-part application/dicom."""

    samples: tuple[Sample, ...]
    single_part: bool = False

    def encode(self) -> tuple[bytes, str]:
        if self.single_part:
            [sample] = self.samples
            return sample.data(), "application/dicom"
        return encode_multipart_related([sample.data() for sample in self.samples])


@dataclass(frozen=True)
class Step:
    method: str
    path: str                   # relative to the base URL; {study}, {series}, {instance} as in UIDS
    headers: dict[str, str] = field(default_factory=dict)
    body: Body | None = None
    stored: bool = True         # the three samples are stored before the request (else the study is absent)
    authenticated: bool = True  # False: sent without the session's credentials


STEPS: dict[str, Step] = {
    "authenticate check: `GET /changefeed`":
        Step("GET", "changefeed", stored=False),
    "`GET /studies` without a token":
        Step("GET", "studies?limit=1", JSON, stored=False, authenticated=False),
    "STOW multipart to `/studies` (blue-circle)":
        Step("POST", "studies", JSON, Body((BLUE_CIRCLE,)), stored=False),
    "STOW multipart to `/studies/{study}` (red-triangle, green-square)":
        Step("POST", "studies/{study}", JSON, Body((RED_TRIANGLE, GREEN_SQUARE)), stored=False),
    "single-part STOW, `Content-Type: application/dicom`":
        Step("POST", "studies", JSON, Body((BLUE_CIRCLE,), single_part=True), stored=False),
    "duplicate upload (blue-circle again)":
        Step("POST", "studies", JSON, Body((BLUE_CIRCLE,))),
    "WADO study, multipart, `transfer-syntax=*`":
        Step("GET", "studies/{study}", {"Accept": f"{DICOM}; transfer-syntax=*"}),
    "WADO study, multipart, no `transfer-syntax`":
        Step("GET", "studies/{study}", {"Accept": DICOM}),
    "WADO study, bare `Accept: */*`":
        Step("GET", "studies/{study}", {"Accept": "*/*"}),
    "WADO series, multipart, `transfer-syntax=*`":
        Step("GET", "studies/{study}/series/{series}", {"Accept": f"{DICOM}; transfer-syntax=*"}),
    "WADO instance, multipart, `transfer-syntax=*`":
        Step("GET", INSTANCE, {"Accept": f"{DICOM}; transfer-syntax=*"}),
    "WADO instance, single-part `application/dicom; transfer-syntax=*`":
        Step("GET", INSTANCE, {"Accept": "application/dicom; transfer-syntax=*"}),
    "instance as JPEG 2000, multipart, `transfer-syntax=1.2.840.10008.1.2.4.90`":
        Step("GET", INSTANCE, {"Accept": f"{DICOM}; transfer-syntax=1.2.840.10008.1.2.4.90"}),
    "study metadata":
        Step("GET", "studies/{study}/metadata", JSON),
    "frame 1, octet-stream, `transfer-syntax=1.2.840.10008.1.2.1`":
        Step("GET", f"{INSTANCE}/frames/1", {"Accept": f"{FRAMES}; transfer-syntax=1.2.840.10008.1.2.1"}),
    "frame 1, octet-stream, `transfer-syntax=*`":
        Step("GET", f"{INSTANCE}/frames/1", {"Accept": f"{FRAMES}; transfer-syntax=*"}),
    "frame 1, octet-stream, no `transfer-syntax`":
        Step("GET", f"{INSTANCE}/frames/1", {"Accept": FRAMES}),
    "frame 1, `multipart/related; type=\"*/*\"` (dicomweb-client's default)":
        Step("GET", f"{INSTANCE}/frames/1", {"Accept": 'multipart/related; type="*/*"'}),
    "frame 1, unquoted `type=application/octet-stream; transfer-syntax=*` (OHIF's default)":
        Step("GET", f"{INSTANCE}/frames/1", {"Accept": "multipart/related; type=application/octet-stream; "
                                                       "transfer-syntax=*"}),
    "frame 1 as JPEG 2000, `multipart/related; type=\"image/jp2\"`":
        Step("GET", f"{INSTANCE}/frames/1", {"Accept": 'multipart/related; type="image/jp2"'}),
    "rendered instance, `Accept: image/jpeg`":
        Step("GET", f"{INSTANCE}/rendered", {"Accept": "image/jpeg"}),
    "QIDO `/studies?StudyInstanceUID=`":
        Step("GET", "studies?StudyInstanceUID={study}", JSON),
    "QIDO `/series?SeriesInstanceUID=`":
        Step("GET", "series?SeriesInstanceUID={series}", JSON),
    "QIDO `/studies/{study}/series?SeriesInstanceUID=`":
        Step("GET", "studies/{study}/series?SeriesInstanceUID={series}", JSON),
    "QIDO `/instances?SOPInstanceUID=`":
        Step("GET", "instances?SOPInstanceUID={instance}", JSON),
    "QIDO `/studies/{study}/instances?SOPInstanceUID=`":
        Step("GET", "studies/{study}/instances?SOPInstanceUID={instance}", JSON),
    "QIDO `/studies/{study}/series/{series}/instances?SOPInstanceUID=`":
        Step("GET", "studies/{study}/series/{series}/instances?SOPInstanceUID={instance}", JSON),
    "fuzzy `PatientName=anon&fuzzymatching=true`":
        Step("GET", "studies?PatientName=anon&fuzzymatching=true", JSON),
    "wildcard `PatientName=Anon*`":
        Step("GET", "studies?PatientName=Anon*", JSON),
    "`StudyDate=20200901-20200930` (range)":
        Step("GET", "studies?StudyDate=20200901-20200930", JSON),
    "no match, `StudyDate=20190101-20191231`":
        Step("GET", "studies?StudyDate=20190101-20191231", JSON),
    "DELETE instance (red-triangle)":
        Step("DELETE", INSTANCE),
    "DELETE series (green-square, red-triangle)":
        Step("DELETE", "studies/{study}/series/{series}"),
    "DELETE study":
        Step("DELETE", "studies/{study}"),
    "change feed `GET /changefeed?offset=0&limit=10`":
        Step("GET", "changefeed?offset=0&limit=10"),
    "CORS preflight `OPTIONS /studies` from `http://localhost:3000`":
        Step("OPTIONS", "studies", {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET",
                                    "Access-Control-Request-Headers": "authorization"},
             stored=False, authenticated=False),
}


def readme_table() -> dict[str, list[str]]:
    """The table between the compatibility markers: step -> its cells, the step's own included."""
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "README.md needs one pair of compatibility markers"
    section = text[text.index(START) + len(START):text.index(END)]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("|")]
    assert rows and rows[0] == COLUMNS, f"README table header should be {COLUMNS}"
    table = {}
    for row in rows[2:]:  # after the header and the |---| line
        assert len(row) == len(COLUMNS), f"README row has {len(row)} cells: {row}"
        assert row[0] not in table, f"README lists {row[0]!r} twice"
        table[row[0]] = row
    return table


def status_in(cell: str) -> int:
    match = re.match(r"(\d{3})\b", cell)
    assert match, f"README cell {cell!r} must start with a status code"
    return int(match[1])


def slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", text).strip("-")[:60]


def send(server, step: Step) -> requests.Response:
    headers = dict(step.headers)
    data = None
    if step.body is not None:
        data, headers["Content-Type"] = step.body.encode()
    sender = server.session if step.authenticated else requests
    return sender.request(step.method, server.url(step.path.format(**UIDS)), headers=headers, data=data,
                          timeout=60)


def store_samples(server) -> None:
    body, content_type = encode_multipart_related([sample.data() for sample in ALL])
    response = server.session.post(server.url(f"studies/{STUDY_UID}"), data=body, timeout=60,
                                   headers={"Content-Type": content_type, **JSON})
    assert response.status_code == 200, response.text


def test_readme_table_has_one_row_per_step():
    table = readme_table()
    assert list(table) == list(STEPS), "README rows and STEPS must name the same steps in the same order"
    for row in table.values():
        for cell in row[1:]:
            status_in(cell)


@pytest.mark.parametrize("name", STEPS, ids=slug)
def test_emulator_column_is_azure_documented(name):
    row = readme_table()[name]
    assert status_in(row[MEASURED["emulator"]]) == status_in(row[1]), row


@pytest.mark.parametrize("name", STEPS, ids=slug)
def test_readme_status_is_what_the_server_answers(name, dicomweb_server):
    step = STEPS[name]
    cell = readme_table()[name][MEASURED[dicomweb_server.name]]
    dicomweb_server.delete_study(STUDY_UID)
    try:
        if step.stored:
            store_samples(dicomweb_server)
        response = send(dicomweb_server, step)
    finally:
        dicomweb_server.delete_study(STUDY_UID)
    assert response.status_code == status_in(cell), (
        f"README says {cell!r} for {dicomweb_server.name}; it answered {response.status_code}: {response.text[:300]}")
    if "`[]`" in cell:
        assert response.json() == [], response.text[:300]
