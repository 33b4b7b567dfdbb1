"""mock_server.qido_parse, in process: a QIDO-RS query string read as Azure's QueryParser reads it."""

from datetime import date

import pytest

from mock_server.errors import DicomError
from mock_server.qido_parse import DEFAULT_LIMIT, Filter, Query, check_bound_options, parse_query, resource_for
from mock_server.qido_tags import Level

PATIENT_NAME, PATIENT_ID, STUDY_DATE, MODALITIES_IN_STUDY = "00100010", "00100020", "00080020", "00080061"
MODALITY, STUDY_UID, SERIES_UID, SOP_UID = "00080060", "0020000D", "0020000E", "00080018"


@pytest.mark.parametrize(("level", "study", "series", "resource"), [
    ("study", None, None, "AllStudies"),
    ("series", None, None, "AllSeries"),
    ("series", "1.2", None, "StudySeries"),
    ("instance", None, None, "AllInstances"),
    ("instance", "1.2", None, "StudyInstances"),
    ("instance", "1.2", "3.4", "StudySeriesInstances"),
])
def test_resource_for(level: Level, study: str | None, series: str | None, resource: str) -> None:
    assert resource_for(level, study, series) == resource


@pytest.mark.parametrize(("items", "level", "study", "series", "query"), [
    ([], "study", None, None, Query("AllStudies", "study")),
    ([("PatientName", "Doe*")], "study", None, None,
     Query("AllStudies", "study", [Filter(PATIENT_NAME, "study", "exact", "Doe*")])),
    # A tag number for a keyword; the value is trimmed.
    ([("00100020", " 123 ")], "study", None, None,
     Query("AllStudies", "study", [Filter(PATIENT_ID, "study", "exact", "123")])),
    # fuzzymatching applies to every PN filter, wherever it stands; reserved names are case-insensitive.
    ([("PatientName", "Doe"), ("FuzzyMatching", " TRUE ")], "study", None, None,
     Query("AllStudies", "study", [Filter(PATIENT_NAME, "study", "fuzzy", "Doe")], fuzzy=True)),
    ([("ModalitiesInStudy", "CT")], "study", None, None,
     Query("AllStudies", "study", [Filter(MODALITIES_IN_STUDY, "study", "modality", "CT")])),
    ([("StudyDate", "20240101")], "study", None, None,
     Query("AllStudies", "study", [Filter(STUDY_DATE, "study", "date", "20240101", date(2024, 1, 1),
                                          date(2024, 1, 1))])),
    ([("StudyDate", "20240101-20240131")], "study", None, None,
     Query("AllStudies", "study", [Filter(STUDY_DATE, "study", "date", "20240101-20240131", date(2024, 1, 1),
                                          date(2024, 1, 31))])),
    ([("StudyDate", "-20240131")], "study", None, None,  # an open end
     Query("AllStudies", "study", [Filter(STUDY_DATE, "study", "date", "-20240131", None, date(2024, 1, 31))])),
    ([("StudyDate", "-")], "study", None, None,  # both ends open: MinValue..MaxValue, not an error
     Query("AllStudies", "study", [Filter(STUDY_DATE, "study", "date", "-", None, None)])),
    ([("limit", "5"), ("OFFSET", "10")], "study", None, None, Query("AllStudies", "study", limit=5, offset=10)),
    ([("includefield", "all")], "study", None, None, Query("AllStudies", "study", include_all=True)),
    ([("includefield", "PatientAge, 00100040"), ("IncludeField", "Rows")], "study", None, None,
     Query("AllStudies", "study", include_tags=["00101010", "00100040", "00280010"])),
    # Study-level attributes are searchable on all series and all instances.
    ([("PatientID", "1"), ("Modality", "CT")], "series", None, None,
     Query("AllSeries", "series", [Filter(PATIENT_ID, "study", "exact", "1"),
                                   Filter(MODALITY, "series", "exact", "CT")])),
    # The UIDs in the path become filters of their own.
    ([("Modality", "CT")], "series", "1.2", None,
     Query("StudySeries", "series", [Filter(MODALITY, "series", "exact", "CT"),
                                     Filter(STUDY_UID, "study", "exact", "1.2")])),
    ([("SOPInstanceUID", "5.6")], "instance", "1.2", "3.4",
     Query("StudySeriesInstances", "instance", [Filter(SOP_UID, "instance", "exact", "5.6"),
                                                Filter(STUDY_UID, "study", "exact", "1.2"),
                                                Filter(SERIES_UID, "series", "exact", "3.4")])),
])
def test_parse_query(items: list[tuple[str, str]], level: Level, study: str | None, series: str | None,
                     query: Query) -> None:
    assert parse_query(items, level, study, series) == query


def test_defaults() -> None:
    query = parse_query([], "instance", None, None)
    assert (query.limit, query.offset, query.fuzzy, query.include_all) == (DEFAULT_LIMIT, 0, False, False)


UNKNOWN = ("Invalid query: unknown query parameter '{}'. If the parameter is an attribute keyword, check the casing "
           "as they are case-sensitive. The conformance statement has a list of supported query parameters, "
           "attributes and the levels.")
NOT_QUERYABLE = ("Invalid query: AttributeId {} is not queryable.  If the parameter is an attribute keyword, check "
                 "the casing as they are case-sensitive. The conformance statement has a list of supported query "
                 "parameters, attributes and the levels.")


@pytest.mark.parametrize(("items", "level", "study", "message"), [
    ([("patientname", "Doe")], "study", None, UNKNOWN.format("patientname")),  # keywords are case-sensitive
    ([("00089999", "x")], "study", None, UNKNOWN.format("00089999")),  # an even group, not in the dictionary
    ([("Rows", "512")], "study", None, NOT_QUERYABLE.format("Rows")),
    ([("PatientName", "Doe")], "series", "1.2", NOT_QUERYABLE.format("PatientName")),  # study level, in a study
    ([("SOPInstanceUID", "5.6")], "series", None, NOT_QUERYABLE.format("SOPInstanceUID")),
    ([("PatientID", " ")], "study", None,
     "Invalid query: AttributeId 'PatientID' has empty string value that is not supported."),
    ([("PatientID", "1"), ("PatientID", "2")], "study", None,
     "Invalid QIDO-RS query. Duplicate AttributeId 'PatientID'. Each attribute is only allowed to be specified once."),
    ([("PatientID", "1"), ("00100020", "1")], "study", None,
     "Invalid query: attribute '00100020' has been specified more than once using different ID formats. "
     "Each attribute is only allowed to be specified once."),
    ([("StudyDate", "20241301")], "study", None,
     "Invalid query: specified Date value '20241301' is invalid for attribute 'StudyDate'. "
     "Date should be valid and formatted as yyyyMMdd."),
    ([("StudyDate", "2024-01-01")], "study", None,
     "Invalid query: specified Date value '2024-01-01' is invalid for attribute 'StudyDate'. "
     "Date should be valid and formatted as yyyyMMdd."),
    ([("StudyDate", "20240201-20240101")], "study", None,
     "Invalid query: specified date range '20240201-20240101' is invalid.\n"
     "The first part date 20240201 should be lesser than or equal to the second part date 20240101."),
    ([("fuzzymatching", "true"), ("PatientName", 'Do"e')], "study", None,
     "Invalid query: specified tag 'PatientName' value 'Do\"e' contains unsupported character '\"'. Character is "
     "not supported with Fuzzy match, try exact match or removing the invalid character. "),
    ([("includefield", "all,PatientID")], "study", None,
     "Invalid query: cannot specify included fields in addition to 'all'."),
    ([("includefield", "Nope")], "study", None, "Invalid query: IncludeField has unknown attribute 'Nope'."),
    ([("limit", "0")], "study", None,
     "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."),
    ([("limit", "201")], "study", None,
     "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."),
    ([("limit", "ten")], "study", None,
     "The query parameter 'Limit' is invalid. The value 'ten' is not valid for Limit."),
    ([("offset", "-1")], "study", None,
     "The query parameter 'Offset' is invalid. The field Offset must be between 0 and 9.223372036854776E+18."),
    ([("fuzzymatching", "yes")], "study", None,
     "The query parameter 'FuzzyMatching' is invalid. The value 'yes' is not valid for FuzzyMatching."),
])
def test_bad_query_is_400_naming_the_parameter(items: list[tuple[str, str]], level: Level, study: str | None,
                                               message: str) -> None:
    with pytest.raises(DicomError) as raised:
        parse_query(items, level, study, None)
    assert (raised.value.status, raised.value.message) == (400, message)


@pytest.mark.parametrize(("items", "message"), [
    ([("limit", "x"), ("limit", "5")], "The query parameter 'Limit' is invalid. The value 'x' is not valid for Limit."),
    ([("Offset", "")], "The query parameter 'Offset' is invalid. The value '' is invalid."),
])
def test_bound_options_bind_the_first_value(items: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(DicomError) as raised:
        check_bound_options(items)
    assert (raised.value.status, raised.value.message) == (400, message)


def test_bound_options_ignore_later_values_and_filters() -> None:
    check_bound_options([("limit", "5"), ("limit", "x"), ("PatientName", "")])  # no error
