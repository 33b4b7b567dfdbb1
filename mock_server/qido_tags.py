"""Attribute tables of Azure's QIDO-RS: what each resource can search on and what it returns.

Tags are DICOM JSON keys: eight upper-case hex digits. The sets mirror Azure's QueryLimit and
QueryResponseBuilder (v1 and v2 defaults, the "all" sets) and the columns of its SQL index
(StudyResult, SeriesResult), which v2 answers from when every returned tag is indexed.
"""

import re
from typing import Literal

from pydicom.datadict import dictionary_VR, get_entry, tag_for_keyword

_HEX_TAG = re.compile(r"^[0-9A-Fa-f]{8}$")


def tag_of(keyword: str) -> str:
    """The JSON key of a standard keyword (for the tables below; raises on a typo)."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return f"{tag:08X}"


def _tags(*keywords: str) -> frozenset[str]:
    return frozenset(tag_of(k) for k in keywords)


def parse_attribute_id(text: str) -> str | None:
    """A keyword (case-sensitive, as fo-dicom's dictionary) or ``GGGGEEEE``, as a JSON key; else None.

    As Azure's DicomTagParser, a tag number must be in the dictionary or private (odd group).
    """
    if _HEX_TAG.match(text):
        number = int(text, 16)
        if not (number >> 16) & 1:
            try:
                get_entry(number)
            except KeyError:
                return None
        return text.upper()
    tag = tag_for_keyword(text)
    return None if tag is None else f"{tag:08X}"


def vr_of(tag: str) -> str:
    """The dictionary VR of a tag (``UN`` when unknown or ambiguous)."""
    try:
        vr = dictionary_VR(int(tag, 16))
    except KeyError:
        return "UN"
    return vr if len(vr) == 2 else "UN"


STUDY_UID = tag_of("StudyInstanceUID")
SERIES_UID = tag_of("SeriesInstanceUID")
SOP_UID = tag_of("SOPInstanceUID")
MODALITY = tag_of("Modality")
MODALITIES_IN_STUDY = tag_of("ModalitiesInStudy")
STUDY_INSTANCES = tag_of("NumberOfStudyRelatedInstances")
SERIES_INSTANCES = tag_of("NumberOfSeriesRelatedInstances")

# The three levels of the index (and of QIDO-RS resources), and how a filter matches (qido_parse.Filter).
Level = Literal["study", "series", "instance"]
FilterKind = Literal["exact", "fuzzy", "date", "modality"]

# Searchable core attributes by the level of the index table that holds them.
STUDY_FILTERS = _tags(
    "StudyDate", "StudyInstanceUID", "StudyDescription", "AccessionNumber", "PatientID",
    "PatientName", "ReferringPhysicianName", "PatientBirthDate", "ModalitiesInStudy",
)
SERIES_FILTERS = _tags(
    "SeriesInstanceUID", "Modality", "PerformedProcedureStepStartDate", "ManufacturerModelName",
)
INSTANCE_FILTERS = _tags("SOPInstanceUID")
FILTER_LEVEL: dict[str, Level] = {
    **{t: "study" for t in STUDY_FILTERS},
    **{t: "series" for t in SERIES_FILTERS},
    **{t: "instance" for t in INSTANCE_FILTERS},
}

# The six search resources, named as Azure's QueryResource enum.
ALL_STUDIES, ALL_SERIES, ALL_INSTANCES = "AllStudies", "AllSeries", "AllInstances"
STUDY_SERIES, STUDY_INSTANCES_RESOURCE, STUDY_SERIES_INSTANCES = (
    "StudySeries", "StudyInstances", "StudySeriesInstances")

# Which filter levels each resource accepts.
RESOURCE_FILTER_LEVELS: dict[str, set[Level]] = {
    ALL_STUDIES: {"study"},
    ALL_SERIES: {"study", "series"},
    ALL_INSTANCES: {"study", "series", "instance"},
    STUDY_SERIES: {"series"},
    STUDY_INSTANCES_RESOURCE: {"series", "instance"},
    STUDY_SERIES_INSTANCES: {"instance"},
}

# The information-entity level a resource returns.
RESOURCE_LEVEL: dict[str, Level] = {
    ALL_STUDIES: "study",
    ALL_SERIES: "series", STUDY_SERIES: "series",
    ALL_INSTANCES: "instance", STUDY_INSTANCES_RESOURCE: "instance", STUDY_SERIES_INSTANCES: "instance",
}

V1_STUDY = _tags(
    "SpecificCharacterSet", "StudyDate", "StudyTime", "AccessionNumber", "InstanceAvailability",
    "ReferringPhysicianName", "TimezoneOffsetFromUTC", "PatientName", "PatientID",
    "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID",
)
V2_STUDY = _tags(
    "StudyInstanceUID", "StudyDate", "StudyDescription", "AccessionNumber",
    "ReferringPhysicianName", "PatientName", "PatientID", "PatientBirthDate",
)
ALL_STUDY = V1_STUDY | _tags(
    "StudyDescription", "AnatomicRegionsInStudyCodeSequence", "ProcedureCodeSequence",
    "NameOfPhysiciansReadingStudy", "AdmittingDiagnosesDescription", "ReferencedStudySequence",
    "PatientAge", "PatientSize", "PatientWeight", "Occupation", "AdditionalPatientHistory",
)
V1_SERIES = _tags(
    "SpecificCharacterSet", "Modality", "TimezoneOffsetFromUTC", "SeriesDescription",
    "SeriesInstanceUID", "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
    "RequestAttributesSequence",
)
V2_SERIES = _tags(
    "SeriesInstanceUID", "Modality", "PerformedProcedureStepStartDate", "ManufacturerModelName",
)
ALL_SERIES_TAGS = V1_SERIES | _tags("SeriesNumber", "Laterality", "SeriesDate", "SeriesTime")
V1_INSTANCE = _tags(
    "SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "InstanceAvailability",
    "TimezoneOffsetFromUTC", "InstanceNumber", "Rows", "Columns", "BitsAllocated", "NumberOfFrames",
)
V2_INSTANCE = _tags("SOPInstanceUID")
ALL_INSTANCE = V1_INSTANCE

# (v1 defaults, v2 defaults, includefield=all) per resource: /series adds the study tags,
# /instances the study and series tags, /studies/{s}/instances the series tags.
RESOURCE_TAGS = {
    ALL_STUDIES: (V1_STUDY, V2_STUDY, ALL_STUDY),
    ALL_SERIES: (V1_STUDY | V1_SERIES, V2_STUDY | V2_SERIES, ALL_STUDY | ALL_SERIES_TAGS),
    ALL_INSTANCES: (V1_STUDY | V1_SERIES | V1_INSTANCE, V2_STUDY | V2_SERIES | V2_INSTANCE,
                    ALL_STUDY | ALL_SERIES_TAGS | ALL_INSTANCE),
    STUDY_SERIES: (V1_SERIES, V2_SERIES, ALL_SERIES_TAGS),
    STUDY_INSTANCES_RESOURCE: (V1_SERIES | V1_INSTANCE, V2_SERIES | V2_INSTANCE,
                               ALL_SERIES_TAGS | ALL_INSTANCE),
    STUDY_SERIES_INSTANCES: (V1_INSTANCE, V2_INSTANCE, ALL_INSTANCE),
}

# Columns of Azure's study and series index rows (StudyResult, SeriesResult).
STUDY_INDEXED = _tags(
    "StudyInstanceUID", "PatientID", "PatientName", "ReferringPhysicianName", "StudyDate",
    "StudyDescription", "AccessionNumber", "PatientBirthDate", "ModalitiesInStudy",
    "NumberOfStudyRelatedInstances",
)
SERIES_INDEXED = _tags(
    "StudyInstanceUID", "SeriesInstanceUID", "Modality", "PerformedProcedureStepStartDate",
    "ManufacturerModelName", "NumberOfSeriesRelatedInstances",
)
STUDY_COMPUTED = frozenset({MODALITIES_IN_STUDY, STUDY_INSTANCES})
SERIES_COMPUTED = frozenset({SERIES_INSTANCES})
