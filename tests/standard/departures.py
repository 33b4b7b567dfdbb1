"""Where a server under test departs from DICOM PS3.18, named once, so that tests encode the standard.

Each test in this folder asserts the PS3.18 behaviour, except on a server listed in a departure's
``servers``: there it asserts the departure recorded here, and says which one. Observations are from
Debian's Orthanc 1.10.1 with DICOMweb plugin 1.7 (see tools/orthanc_peer.py); if an Orthanc
upgrade fixes one, its test fails and the entry should go.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Departure:
    rule: str        # what PS3.18 requires
    standard: str    # the standard outcome the tests assert elsewhere
    observed: str    # what the departing server does instead
    servers: frozenset[str]


ORTHANC = frozenset({"orthanc"})

DEPARTURES: dict[str, Departure] = {
    "qido-no-match-204": Departure(
        rule="PS3.18 §8.3.4.4.1: a search with no matching results returns 204 (No Content) with an empty "
             "payload (CP-2473, still being balloted, proposes 200 with an empty array).",
        standard="204, empty body",
        observed="200 application/dicom+json with body []",
        servers=ORTHANC,
    ),
    "qido-offset-past-end-204": Departure(
        rule="PS3.18 §8.3.4.4: an offset at or beyond the number of matches leaves no results, "
             "which is answered like any empty result: 204 (No Content).",
        standard="204, empty body",
        observed="200 application/dicom+json with body []",
        servers=ORTHANC,
    ),
    "qido-percent-decoding": Departure(
        rule="PS3.18 §8.3.1: query parameter values are URI-encoded (RFC 3986); a percent-encoded value "
             "(PatientID=STD%2D1234) means the same as the decoded one (PatientID=STD-1234).",
        standard="the percent-encoded value matches the study",
        observed="the escape is matched literally, so nothing matches: 200 []. Orthanc 1.10 leaves URL "
                 "decoding to civetweb, and Debian's build gets the value undecoded",
        servers=ORTHANC,
    ),
    "stow-failure-content-type": Departure(
        rule="PS3.18 §10.5 (Store Instances response): the response payload is a DICOM JSON dataset, sent "
             "with Content-Type application/dicom+json (RFC 9110 §8.3: a payload is labelled with its media type).",
        standard="409 with Content-Type: application/dicom+json",
        observed="409 with the DICOM JSON body (FailureReason 272) but no Content-Type header at all",
        servers=ORTHANC,
    ),
    "missing-frame-404": Departure(
        rule="PS3.18 §8.1.2.1 / retrieve transaction: a target resource that does not exist (a frame number "
             "beyond NumberOfFrames) returns 404 (Not Found).",
        standard="404",
        observed="400 ('Parameter out of range')",
        servers=ORTHANC,
    ),
    "unsupported-accept-406": Departure(
        rule="PS3.18 §8.7 content negotiation: when no acceptable media type can be returned "
             "(single-part application/dicom for a whole study) the origin server returns 406 (Not Acceptable).",
        standard="406",
        observed="400 ('This WADO-RS plugin cannot generate the following content type')",
        servers=ORTHANC,
    ),
}


def departs(server: str, key: str) -> bool:
    """True if ``server`` is recorded as departing from the rule ``key``; unknown keys are an error."""
    return server in DEPARTURES[key].servers
