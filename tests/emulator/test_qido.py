"""QIDO-RS on the emulator, over HTTP: the rules of Azure's DICOM service (reference section 3.4).

Every test works on synthetic studies stored by the module fixture under a PatientID of its own,
and filters on it (or on its UIDs), so data stored by other tests never shows up in the results.
"""

import uuid
from collections.abc import Iterator

import pytest
import requests
from pydicom.uid import SecondaryCaptureImageStorage, generate_uid

from helpers import samples
from mock_server.launcher import start_emulator
from tests.support.part10 import bare_instance
from tests.support.stow import stow as store_files

DICOM_JSON = "application/dicom+json"
PLAIN = "text/plain"
ACCEPT = {"Accept": DICOM_JSON}

# JSON keys of the attributes the tests look at.
STUDY_DATE, STUDY_TIME, ACCESSION, MODALITY, MODALITIES = "00080020", "00080030", "00080050", "00080060", "00080061"
SPECIFIC_CHARSET, SOP_CLASS, SOP_UID, REFERRING = "00080005", "00080016", "00080018", "00080090"
STUDY_DESCRIPTION, MODEL = "00081030", "00081090"
PATIENT_NAME, PATIENT_ID, BIRTH_DATE, PATIENT_SEX = "00100010", "00100020", "00100030", "00100040"
STUDY_UID, SERIES_UID, STUDY_ID, SERIES_NUMBER = "0020000D", "0020000E", "00200010", "00200011"
STUDY_INSTANCES, SERIES_INSTANCES = "00201208", "00201209"
PPS_START_DATE = "00400244"


def make_instance(study: str, series: str, sop: str, **attributes) -> bytes:
    """A small Part 10 file (no pixel data) with the given keywords set."""
    return bare_instance(study, series, sop, SpecificCharacterSet="ISO_IR 192", **attributes)


def stow(client, files: list[bytes], expected: int = 200) -> None:
    response = store_files(client, files)
    assert response.status_code == expected, response.text


def uids(results: list[dict], tag: str) -> list[str]:
    return [r[tag]["Value"][0] for r in results]


def ok(response) -> list[dict]:
    """The JSON array of a 200 QIDO response, after checking status and content type."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == DICOM_JSON
    body = response.json()
    assert isinstance(body, list)
    return body


def bad(response, *words: str) -> str:
    """The message of a 400, after checking it is plain text naming ``words``."""
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith(PLAIN)
    for word in words:
        assert word in response.text
    return response.text


def not_queryable(name: str) -> str:
    # DicomCoreResource.UnsupportedSearchParameter (its double space included)
    return (f"Invalid query: AttributeId {name} is not queryable.  If the parameter is an attribute keyword, check "
            "the casing as they are case-sensitive. The conformance statement has a list of supported query "
            "parameters, attributes and the levels.")


def unknown_parameter(name: str) -> str:
    # DicomCoreResource.UnknownQueryParameter
    return (f"Invalid query: unknown query parameter '{name}'. If the parameter is an attribute keyword, check the "
            "casing as they are case-sensitive. The conformance statement has a list of supported query "
            "parameters, attributes and the levels.")


def invalid_option(key: str, detail: str) -> str:
    # QueryModelStateValidator: InvalidQueryStringValue around ASP.NET Core's model-state message.
    return f"The query parameter '{key}' is invalid. {detail}"


def invalid_date(value: str) -> str:
    return (f"Invalid query: specified Date value '{value}' is invalid for attribute 'StudyDate'. Date should be "
            "valid and formatted as yyyyMMdd.")


def empty(response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""


class Data:
    """UIDs of the synthetic studies: A (two series: CT x2, MR), B (OT), C (CT), stored A, B, C."""

    def __init__(self) -> None:
        self.pid = f"QIDO-{uuid.uuid4().hex[:12]}"
        self.a, self.b, self.c = generate_uid(), generate_uid(), generate_uid()
        self.a1, self.a2, self.b1, self.c1 = (generate_uid() for _ in range(4))
        self.a1_1, self.a1_2, self.a2_1, self.b1_1, self.c1_1 = (generate_uid() for _ in range(5))


@pytest.fixture(scope="module")
def data(emulator_client) -> Iterator[Data]:
    d = Data()
    study_a = dict(PatientName="Doe^John", PatientID=d.pid, StudyDate="20200922", StudyTime="101500",
                   StudyDescription="Chest CT", AccessionNumber="ACC-1", PatientSex="M",
                   ReferringPhysicianName="Welby^Marcus", PatientBirthDate="19700101", StudyID="1")
    study_b = dict(PatientName="Müller^Jürgen", PatientID=d.pid, StudyDate="20210315", StudyTime="080000",
                   StudyDescription="Épaule", AccessionNumber="", PatientSex="M", PatientBirthDate="",
                   ReferringPhysicianName="Doc^Doctor", StudyID="2")
    study_c = dict(PatientName="Núñez^José", PatientID=d.pid, StudyDate="20191231", PatientSex="F",
                   StudyID="3")
    # One request per study, in order, so that the newest study is C.
    stow(emulator_client, [
        make_instance(d.a, d.a1, d.a1_1, Modality="CT", SeriesNumber=1, InstanceNumber=1, **study_a),
        make_instance(d.a, d.a1, d.a1_2, Modality="CT", SeriesNumber=1, InstanceNumber=2, **study_a),
        make_instance(d.a, d.a2, d.a2_1, Modality="MR", SeriesNumber=2, InstanceNumber=1,
                      PerformedProcedureStepStartDate="20200922", **study_a),
    ])
    stow(emulator_client, [make_instance(d.b, d.b1, d.b1_1, Modality="OT", ManufacturerModelName="Synth 1",
                                         **study_b)])
    stow(emulator_client, [make_instance(d.c, d.c1, d.c1_1, Modality="CT", **study_c)])
    yield d
    # The emulator is shared with other suites, whose searches must not find these studies.
    for study in (d.a, d.b, d.c):
        assert emulator_client.delete(f"{emulator_client.base}/studies/{study}").status_code == 204


def get(client, path: str, params=None, headers=ACCEPT, version: str = "v2"):
    base = client.base if version == "v2" else client.base.rsplit("/", 1)[0] + "/" + version
    return client.get(f"{base}/{path}", params=params, headers=headers)


# --- the six resources ----------------------------------------------------------------------------

def test_all_six_search_resources(emulator_client, data):
    c, d = emulator_client, data
    assert uids(ok(get(c, "studies", {"PatientID": d.pid})), STUDY_UID) == [d.c, d.b, d.a]
    assert uids(ok(get(c, "series", {"PatientID": d.pid})), SERIES_UID) == [d.c1, d.b1, d.a2, d.a1]
    assert uids(ok(get(c, "instances", {"PatientID": d.pid})), SOP_UID) == [
        d.c1_1, d.b1_1, d.a2_1, d.a1_2, d.a1_1]
    assert uids(ok(get(c, f"studies/{d.a}/series")), SERIES_UID) == [d.a2, d.a1]
    assert uids(ok(get(c, f"studies/{d.a}/instances")), SOP_UID) == [d.a2_1, d.a1_2, d.a1_1]
    assert uids(ok(get(c, f"studies/{d.a}/series/{d.a1}/instances")), SOP_UID) == [d.a1_2, d.a1_1]


@pytest.mark.parametrize("path, params", [
    ("studies", {"Modality": "CT"}),
    ("studies", {"SeriesInstanceUID": "1.2.3"}),
    ("studies", {"SOPInstanceUID": "1.2.3"}),
    ("series", {"SOPInstanceUID": "1.2.3"}),
    ("studies/{a}/series", {"PatientName": "Doe^John"}),
    ("studies/{a}/instances", {"StudyDate": "20200922"}),
    ("studies/{a}/series/{a1}/instances", {"Modality": "CT"}),
    ("studies/{a}/series/{a1}/instances", {"SeriesInstanceUID": "1.2.3"}),
    ("instances", {"ImageComments": "x"}),
    ("instances", {"00204000": "x"}),
])
def test_attribute_not_searchable_on_the_resource_is_400(emulator_client, data, path, params):
    name = next(iter(params))
    assert bad(get(emulator_client, path.format(a=data.a, a1=data.a1), params)) == not_queryable(name)


def test_searchable_attributes_of_each_level(emulator_client, data):
    c, d = emulator_client, data
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "AccessionNumber": "ACC-1"})), STUDY_UID) == [d.a]
    assert uids(ok(get(c, "series", {"PatientID": d.pid, "Modality": "OT"})), SERIES_UID) == [d.b1]
    assert uids(ok(get(c, "series", {"PatientID": d.pid, "ManufacturerModelName": "synth 1"})),
                SERIES_UID) == [d.b1]
    assert uids(ok(get(c, "series", {"PatientID": d.pid, "PerformedProcedureStepStartDate": "20200922"})),
                SERIES_UID) == [d.a2]
    assert uids(ok(get(c, "instances", {"PatientID": d.pid, "SOPInstanceUID": d.a1_2})), SOP_UID) == [d.a1_2]
    assert uids(ok(get(c, f"studies/{d.a}/instances", {"Modality": "MR"})), SOP_UID) == [d.a2_1]
    assert uids(ok(get(c, f"studies/{d.a}/series", {"SeriesInstanceUID": d.a1})), SERIES_UID) == [d.a1]
    assert uids(ok(get(c, f"studies/{d.a}/series/{d.a1}/instances", {"SOPInstanceUID": d.a1_1})),
                SOP_UID) == [d.a1_1]
    # An attribute by its tag works like its keyword.
    assert uids(ok(get(c, "studies", {"00100020": d.pid, "00080050": "acc-1"})), STUDY_UID) == [d.a]


# --- matching -------------------------------------------------------------------------------------

def test_string_matching_is_exact_and_case_insensitive(emulator_client, data):
    c, d = emulator_client, data
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "StudyDescription": "CHEST ct"})), STUDY_UID) == [d.a]
    empty(get(c, "studies", {"PatientID": d.pid, "StudyDescription": "Chest"}))
    # No wildcards: * and ? are ordinary characters.
    empty(get(c, "studies", {"PatientID": d.pid, "StudyDescription": "Chest*"}))
    empty(get(c, "studies", {"PatientID": d.pid, "PatientName": "Doe*"}))


def test_strings_are_accent_sensitive_but_person_names_are_not(emulator_client, data):
    c, d = emulator_client, data
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "StudyDescription": "éPAULE"})), STUDY_UID) == [d.b]
    empty(get(c, "studies", {"PatientID": d.pid, "StudyDescription": "Epaule"}))
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "PatientName": "MULLER^jurgen"})), STUDY_UID) == [d.b]
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "PatientName": "nunez^jose"})), STUDY_UID) == [d.c]
    # Without fuzzy matching a person name must match whole.
    empty(get(c, "studies", {"PatientID": d.pid, "PatientName": "Doe"}))


@pytest.mark.parametrize("value, expected", [
    ("jo", ["c", "a"]),          # José and John
    ("do", ["a"]),
    ("jo do", ["a"]),
    ("John Doe", ["a"]),
    ("doe", ["a"]),
    ("JÜR", ["b"]),               # accents and case do not matter
    ("nunez", ["c"]),
    ("ohn", []),                  # word prefixes only
])
def test_fuzzy_person_name_matching(emulator_client, data, value, expected):
    c, d = emulator_client, data
    response = get(c, "studies", {"PatientID": d.pid, "PatientName": value, "fuzzymatching": "true"})
    if expected:
        assert uids(ok(response), STUDY_UID) == [getattr(d, name) for name in expected]
    else:
        empty(response)


def test_fuzzy_matching_applies_to_referring_physician_too(emulator_client, data):
    c, d = emulator_client, data
    params = {"PatientID": d.pid, "ReferringPhysicianName": "marc", "fuzzymatching": "true"}
    results = ok(get(c, "studies", params))
    assert uids(results, STUDY_UID) == [d.a]
    assert results[0][REFERRING] == {"vr": "PN", "Value": [{"Alphabetic": "Welby^Marcus"}]}
    # fuzzymatching=false keeps exact matching.
    empty(get(c, "studies", {**params, "fuzzymatching": "false"}))


def test_quote_in_fuzzy_person_name_is_400(emulator_client, data):
    assert bad(get(emulator_client, "studies", {"PatientName": 'Doe "John', "fuzzymatching": "true"})) == (
        "Invalid query: specified tag 'PatientName' value 'Doe \"John' contains unsupported character '\"'. "
        "Character is not supported with Fuzzy match, try exact match or removing the invalid character. ")
    # Without fuzzy matching a quote is just a character.
    empty(get(emulator_client, "studies", {"PatientID": data.pid, "PatientName": 'Doe "John'}))


def test_fuzzymatching_must_be_a_boolean(emulator_client, data):
    assert bad(get(emulator_client, "studies", {"PatientID": data.pid, "fuzzymatching": "yes"})) == \
        invalid_option("FuzzyMatching", "The value 'yes' is not valid for FuzzyMatching.")


@pytest.mark.parametrize("value, expected", [
    ("20200922", ["a"]),
    ("20200101-20201231", ["a"]),
    ("20200922-20210315", ["b", "a"]),   # both ends inclusive
    ("20210101-", ["b"]),
    ("-20200101", ["c"]),
    ("20220101-", []),
])
def test_study_date_exact_and_ranges(emulator_client, data, value, expected):
    response = get(emulator_client, "studies", {"PatientID": data.pid, "StudyDate": value})
    if expected:
        results = ok(response)
        assert uids(results, STUDY_UID) == [getattr(data, name) for name in expected]
        assert all(STUDY_DATE in r for r in results)
    else:
        empty(response)


def test_patient_birth_date_range(emulator_client, data):
    results = ok(get(emulator_client, "studies", {"PatientID": data.pid, "PatientBirthDate": "19600101-19801231"}))
    assert uids(results, STUDY_UID) == [data.a]
    assert results[0][BIRTH_DATE] == {"vr": "DA", "Value": ["19700101"]}


@pytest.mark.parametrize("value, message", [
    ("2020-09-22-01", invalid_date("2020-09-22-01")),
    ("2020-09", invalid_date("2020")),  # a two-part value is a range; its first part is checked
    ("20201301", invalid_date("20201301")),
    ("2020092", invalid_date("2020092")),
    ("Sept 2020", invalid_date("Sept 2020")),
    ("20211231-20200101", "Invalid query: specified date range '20211231-20200101' is invalid.\nThe first part "
                          "date 20211231 should be lesser than or equal to the second part date 20200101."),
    ("\u0662\u0660\u0662\u0660\u0660\u0669\u0662\u0662",  # Arabic-Indic digits
     invalid_date("\u0662\u0660\u0662\u0660\u0660\u0669\u0662\u0662")),
])
def test_bad_dates_are_400(emulator_client, data, value, message):
    assert bad(get(emulator_client, "studies", {"PatientID": data.pid, "StudyDate": value})) == message


def test_a_date_range_with_both_ends_empty_matches_any_date(emulator_client, data):
    # ParseDateOrTimeTagValue: "-" is DateTime.MinValue..MaxValue (only time ranges reject it).
    dated = ok(get(emulator_client, "studies", {"PatientID": data.pid, "StudyDate": "-"}))
    assert uids(dated, STUDY_UID) == [data.c, data.b, data.a]  # every study here has a StudyDate


def test_modalities_in_study_is_a_filter_and_returned(emulator_client, data):
    results = ok(get(emulator_client, "studies", {"PatientID": data.pid, "ModalitiesInStudy": "mr"}))
    assert uids(results, STUDY_UID) == [data.a]
    # All the study's modalities come back, not only the one searched for.
    assert results[0][MODALITIES] == {"vr": "CS", "Value": ["CT", "MR"]}


# --- includefield and computed attributes ------------------------------------------------------------

def test_includefield_keywords_tags_commas_and_repeats(emulator_client, data):
    params = [("PatientID", data.pid), ("StudyInstanceUID", data.a),
              ("includefield", "StudyTime,00100040"), ("includefield", "StudyID")]
    result = ok(get(emulator_client, "studies", params))[0]
    assert result[STUDY_TIME] == {"vr": "TM", "Value": ["101500"]}
    assert result[PATIENT_SEX] == {"vr": "CS", "Value": ["M"]}
    assert result[STUDY_ID] == {"vr": "SH", "Value": ["1"]}


def test_includefield_all_returns_the_level_set(emulator_client, data):
    result = ok(get(emulator_client, "studies", {"StudyInstanceUID": data.a, "includefield": "all"}))[0]
    for tag in (SPECIFIC_CHARSET, STUDY_DATE, STUDY_TIME, ACCESSION, PATIENT_SEX, STUDY_ID, STUDY_DESCRIPTION):
        assert tag in result, tag
    # The study level's "all" set holds no series or instance attributes.
    assert MODALITY not in result and SOP_UID not in result and SERIES_NUMBER not in result


def test_includefield_all_with_other_fields_is_400(emulator_client, data):
    message = "Invalid query: cannot specify included fields in addition to 'all'."
    assert bad(get(emulator_client, "studies", {"PatientID": data.pid, "includefield": "all,PatientSex"})) == message
    assert bad(get(emulator_client, "studies", [("PatientID", data.pid), ("includefield", "all"),
                                                 ("includefield", "StudyTime")])) == message


def test_includefield_unknown_attribute_is_400(emulator_client, data):
    for field in ("NotAKeyword", "00100099", "patientsex"):  # 00100099: a tag number outside the dictionary
        assert bad(get(emulator_client, "studies", {"PatientID": data.pid, "includefield": field})) == \
            f"Invalid query: IncludeField has unknown attribute '{field}'."


def test_computed_study_attributes(emulator_client, data):
    params = {"PatientID": data.pid, "includefield": "NumberOfStudyRelatedInstances,ModalitiesInStudy"}
    results = {r[STUDY_UID]["Value"][0]: r for r in ok(get(emulator_client, "studies", params))}
    assert results[data.a][STUDY_INSTANCES] == {"vr": "IS", "Value": [3]}
    assert results[data.a][MODALITIES] == {"vr": "CS", "Value": ["CT", "MR"]}
    assert results[data.b][STUDY_INSTANCES] == {"vr": "IS", "Value": [1]}
    assert results[data.b][MODALITIES] == {"vr": "CS", "Value": ["OT"]}


def test_computed_series_attribute(emulator_client, data):
    params = {"includefield": "NumberOfSeriesRelatedInstances"}
    results = ok(get(emulator_client, f"studies/{data.a}/series", params))
    assert [(r[SERIES_UID]["Value"][0], r[SERIES_INSTANCES]["Value"][0]) for r in results] == [
        (data.a2, 1), (data.a1, 2)]


def test_computed_attributes_only_when_asked_for(emulator_client, data):
    result = ok(get(emulator_client, "studies", {"StudyInstanceUID": data.a}))[0]
    assert STUDY_INSTANCES not in result and MODALITIES not in result


# --- limit, offset, no match -------------------------------------------------------------------------

def test_limit_and_offset_page_through_newest_first(emulator_client, data):
    c, d = emulator_client, data
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "limit": "1"})), STUDY_UID) == [d.c]
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "limit": "1", "offset": "1"})), STUDY_UID) == [d.b]
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "limit": "2", "offset": "2"})), STUDY_UID) == [d.a]
    assert uids(ok(get(c, "studies", {"PatientID": d.pid, "limit": "200"})), STUDY_UID) == [d.c, d.b, d.a]


def test_offset_beyond_the_end_is_204(emulator_client, data):
    empty(get(emulator_client, "studies", {"PatientID": data.pid, "offset": "3"}))


LIMIT_RANGE = invalid_option("Limit", "The field Limit must be between 1 and 200.")


@pytest.mark.parametrize("params, message", [
    ({"limit": "0"}, LIMIT_RANGE),
    ({"limit": "201"}, LIMIT_RANGE),
    ({"limit": "-5"}, LIMIT_RANGE),
    ({"limit": "ten"}, invalid_option("Limit", "The value 'ten' is not valid for Limit.")),
    ({"limit": ""}, invalid_option("Limit", "The value '' is invalid.")),
    ({"offset": "-1"}, invalid_option("Offset", "The field Offset must be between 0 and 9.223372036854776E+18.")),
    ({"offset": "one"}, invalid_option("Offset", "The value 'one' is not valid for Offset.")),
    ({"limit": "\uff15"}, invalid_option("Limit", "The value '\uff15' is not valid for Limit.")),  # ASCII digits only
    ({"offset": "\u0661"}, invalid_option("Offset", "The value '\u0661' is not valid for Offset.")),
    ({"offset": str(2**63)}, invalid_option("Offset", f"The value '{2**63}' is not valid for Offset.")),  # a long
    ({"limit": "x", "offset": "y"}, invalid_option("Offset", "The value 'y' is not valid for Offset.")),  # Offset first
])
def test_bad_limit_or_offset_is_400(emulator_client, data, params, message):
    assert bad(get(emulator_client, "studies", {"PatientID": data.pid, **params})) == message


@pytest.mark.parametrize("accept", ["image/png", "application/dicom"])
def test_bad_options_are_400_before_accept_and_bad_filters_406_first(emulator_client, data, accept):
    # Model binding (QueryModelStateValidator) runs before the Accept filter; the query parser after it.
    assert bad(get(emulator_client, "studies", {"limit": "0"}, headers={"Accept": accept})) == LIMIT_RANGE
    assert get(emulator_client, "studies", {"Colour": "blue"}, headers={"Accept": accept}).status_code == 406


def test_default_limit_is_100(emulator_client):
    study, series = generate_uid(), generate_uid()
    sops = [generate_uid() for _ in range(101)]
    stow(emulator_client, [make_instance(study, series, sop, PatientID="QIDO-LIMIT") for sop in sops])
    first = ok(get(emulator_client, f"studies/{study}/instances"))
    assert len(first) == 100
    rest = ok(get(emulator_client, f"studies/{study}/instances", {"offset": "100"}))
    assert uids(first + rest, SOP_UID) == sops[::-1]


def test_no_match_is_204(emulator_client, data):
    empty(get(emulator_client, "studies", {"PatientID": data.pid, "PatientName": "Nobody^Here"}))
    empty(get(emulator_client, f"studies/{generate_uid()}/series"))


# --- bad parameters --------------------------------------------------------------------------------

def test_unknown_parameter_is_400(emulator_client, data):
    response = get(emulator_client, "studies", {"PatientID": data.pid, "Colour": "blue"})
    assert bad(response) == unknown_parameter("Colour")


def test_attribute_keywords_are_case_sensitive(emulator_client, data):
    assert bad(get(emulator_client, "studies", {"patientid": data.pid})) == unknown_parameter("patientid")


def test_reserved_parameter_names_are_case_insensitive(emulator_client, data):
    params = {"PatientID": data.pid, "PatientName": "jo", "FuzzyMatching": "True", "LIMIT": "1",
              "Offset": "1", "IncludeField": "NumberOfStudyRelatedInstances"}
    results = ok(get(emulator_client, "studies", params))
    # "jo" matches C (José) and A (John); offset 1 with limit 1 leaves A.
    assert uids(results, STUDY_UID) == [data.a]
    assert results[0][STUDY_INSTANCES] == {"vr": "IS", "Value": [3]}


def test_repeated_attribute_is_400(emulator_client, data):
    assert bad(get(emulator_client, "studies", [("PatientID", data.pid), ("PatientID", data.pid)])) == (
        "Invalid QIDO-RS query. Duplicate AttributeId 'PatientID'. Each attribute is only allowed to be specified "
        "once.")


def test_keyword_and_tag_of_the_same_attribute_is_400(emulator_client, data):
    assert bad(get(emulator_client, "studies", [("PatientID", data.pid), ("00100020", data.pid)])) == (
        "Invalid query: attribute '00100020' has been specified more than once using different ID formats. "
        "Each attribute is only allowed to be specified once.")


def test_empty_value_is_400(emulator_client, data):
    for params, name in (({"PatientID": data.pid, "StudyDescription": ""}, "StudyDescription"),
                         ({"PatientID": "  "}, "PatientID")):
        assert bad(get(emulator_client, "studies", params)) == \
            f"Invalid query: AttributeId '{name}' has empty string value that is not supported."


@pytest.mark.parametrize("path", ["studies/{a}/series", "studies/{a}/instances"])
def test_study_uid_filter_under_a_study_path_is_400(emulator_client, data, path):
    bad(get(emulator_client, path.format(a=data.a), {"StudyInstanceUID": data.a}), "StudyInstanceUID")


# --- Accept --------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [DICOM_JSON, "application/json", "*/*", "application/*",
                                    f"image/png, {DICOM_JSON}"])
def test_accept_matching_dicom_json_is_served(emulator_client, data, accept):
    assert uids(ok(get(emulator_client, "studies", {"StudyInstanceUID": data.a}, headers={"Accept": accept})),
                STUDY_UID) == [data.a]


@pytest.mark.parametrize("accept", ["application/dicom", "multipart/related; type=application/dicom",
                                    "text/html", None])
def test_other_accept_is_406_with_empty_body(emulator_client, data, accept):
    response = get(emulator_client, "studies", {"StudyInstanceUID": data.a}, headers={"Accept": accept})
    assert response.status_code == 406
    assert response.content == b""


# --- what each result holds -------------------------------------------------------------------------

def test_v2_study_result_holds_the_v2_defaults_without_empty_values(emulator_client, data):
    results = {r[STUDY_UID]["Value"][0]: r for r in ok(get(emulator_client, "studies", {"PatientID": data.pid}))}
    assert results[data.a] == {
        STUDY_DATE: {"vr": "DA", "Value": ["20200922"]},
        ACCESSION: {"vr": "SH", "Value": ["ACC-1"]},
        REFERRING: {"vr": "PN", "Value": [{"Alphabetic": "Welby^Marcus"}]},
        STUDY_DESCRIPTION: {"vr": "LO", "Value": ["Chest CT"]},
        PATIENT_NAME: {"vr": "PN", "Value": [{"Alphabetic": "Doe^John"}]},
        PATIENT_ID: {"vr": "LO", "Value": [data.pid]},
        BIRTH_DATE: {"vr": "DA", "Value": ["19700101"]},
        STUDY_UID: {"vr": "UI", "Value": [data.a]},
    }
    # B's empty AccessionNumber and PatientBirthDate are left out; C has no StudyDescription at all.
    assert set(results[data.b]) == {STUDY_DATE, REFERRING, STUDY_DESCRIPTION, PATIENT_NAME, PATIENT_ID, STUDY_UID}
    assert set(results[data.c]) == {STUDY_DATE, PATIENT_NAME, PATIENT_ID, STUDY_UID}


def test_v1_study_result_holds_the_v1_defaults_with_empty_elements(emulator_client, data):
    results = {r[STUDY_UID]["Value"][0]: r
               for r in ok(get(emulator_client, "studies", {"PatientID": data.pid}, version="v1"))}
    b = results[data.b]
    assert set(b) == {SPECIFIC_CHARSET, STUDY_DATE, STUDY_TIME, ACCESSION, REFERRING, PATIENT_NAME, PATIENT_ID,
                      BIRTH_DATE, PATIENT_SEX, STUDY_UID, STUDY_ID}
    assert b[ACCESSION] == {"vr": "SH"}
    assert b[BIRTH_DATE] == {"vr": "DA"}
    assert b[PATIENT_SEX] == {"vr": "CS", "Value": ["M"]}
    # StudyDescription is not a v1 default, and C's file has no StudyDescription: absent either way.
    assert STUDY_DESCRIPTION not in b and STUDY_DESCRIPTION not in results[data.c]


def test_every_filter_attribute_is_returned(emulator_client, data):
    params = {"PatientID": data.pid, "StudyDescription": "chest ct"}
    result = ok(get(emulator_client, "studies", params, version="v1"))[0]
    assert result[STUDY_DESCRIPTION] == {"vr": "LO", "Value": ["Chest CT"]}
    # ManufacturerModelName is no v1 series default: it comes back because it is a filter.
    params = {"PatientID": data.pid, "ManufacturerModelName": "SYNTH 1"}
    result = ok(get(emulator_client, "series", params, version="v1"))[0]
    assert result[MODEL] == {"vr": "LO", "Value": ["Synth 1"]}
    assert MODEL not in ok(get(emulator_client, "series", {"SeriesInstanceUID": data.b1}, version="v1"))[0]


def test_series_results_carry_study_attributes(emulator_client, data):
    result = ok(get(emulator_client, "series", {"PatientID": data.pid, "Modality": "OT"}))[0]
    assert set(result) == {STUDY_DATE, REFERRING, STUDY_DESCRIPTION, PATIENT_NAME, PATIENT_ID, STUDY_UID,
                           SERIES_UID, MODALITY, MODEL}
    assert result[MODEL] == {"vr": "LO", "Value": ["Synth 1"]}


def test_instance_results_carry_study_and_series_attributes(emulator_client, data):
    result = ok(get(emulator_client, "instances", {"PatientID": data.pid, "SOPInstanceUID": data.a2_1}))[0]
    for tag in (STUDY_UID, PATIENT_NAME, STUDY_DATE, SERIES_UID, MODALITY, PPS_START_DATE, SOP_UID):
        assert tag in result, tag
    assert result[PPS_START_DATE] == {"vr": "DA", "Value": ["20200922"]}


def test_study_instances_carry_series_but_not_study_attributes(emulator_client, data):
    result = ok(get(emulator_client, f"studies/{data.a}/instances", {"SOPInstanceUID": data.a1_1}))[0]
    assert set(result) == {STUDY_UID, SERIES_UID, MODALITY, SOP_UID}
    v1 = ok(get(emulator_client, f"studies/{data.a}/instances", {"SOPInstanceUID": data.a1_1}, version="v1"))[0]
    assert v1[SOP_CLASS] == {"vr": "UI", "Value": [SecondaryCaptureImageStorage]}
    assert PATIENT_NAME not in v1 and STUDY_DATE not in v1


def test_path_uids_are_in_every_result(emulator_client, data):
    for version in ("v1", "v2"):
        for result in ok(get(emulator_client, f"studies/{data.a}/series/{data.a1}/instances", version=version)):
            assert result[STUDY_UID] == {"vr": "UI", "Value": [data.a]}
            assert result[SERIES_UID] == {"vr": "UI", "Value": [data.a1]}


def test_studies_and_series_page_by_when_they_were_created(emulator_client):
    """Azure orders by StudyKey / SeriesKey (SqlQueryGenerator): a new instance does not move its study up."""
    pid = f"QIDO-ORDER-{uuid.uuid4().hex[:8]}"
    first, second = generate_uid(), generate_uid()
    first_series, second_series = generate_uid(), generate_uid()
    stow(emulator_client, [make_instance(first, first_series, generate_uid(), PatientID=pid)])
    stow(emulator_client, [make_instance(second, second_series, generate_uid(), PatientID=pid)])
    assert uids(ok(get(emulator_client, "studies", {"PatientID": pid})), STUDY_UID) == [second, first]
    stow(emulator_client, [make_instance(first, first_series, generate_uid(), PatientID=pid)])
    assert uids(ok(get(emulator_client, "studies", {"PatientID": pid})), STUDY_UID) == [second, first]
    assert uids(ok(get(emulator_client, "series", {"PatientID": pid})), SERIES_UID) == [second_series, first_series]
    # Instances still come newest first (Watermark DESC).
    newest = ok(get(emulator_client, "instances", {"PatientID": pid}))
    assert len(newest) == 3 and newest[0][STUDY_UID]["Value"] == [first]
    for study in (first, second):
        assert emulator_client.delete(f"{emulator_client.base}/studies/{study}").status_code == 204


def test_study_and_series_values_keep_an_older_value_a_newer_instance_lacks(emulator_client):
    """AddInstanceV6.sql: each study/series column is ISNULL(@new, old); a present value wins."""
    pid = f"QIDO-VALUES-{uuid.uuid4().hex[:8]}"
    study, series = generate_uid(), generate_uid()
    stow(emulator_client, [make_instance(study, series, generate_uid(), PatientID=pid, PatientName="Old^Name",
                                         StudyDescription="Kept", AccessionNumber="A-1", Modality="CT",
                                         ManufacturerModelName="Model 1")])
    stow(emulator_client, [make_instance(study, series, generate_uid(), PatientID=pid, PatientName="New^Name",
                                         AccessionNumber="", Modality="MR")])
    result = ok(get(emulator_client, "studies", {"PatientID": pid, "StudyDescription": "kept"}))
    assert uids(result, STUDY_UID) == [study]
    assert result[0][STUDY_DESCRIPTION] == {"vr": "LO", "Value": ["Kept"]}
    assert result[0][ACCESSION] == {"vr": "SH", "Value": ["A-1"]}  # an empty value keeps the old one
    assert result[0][PATIENT_NAME] == {"vr": "PN", "Value": [{"Alphabetic": "New^Name"}]}
    empty(get(emulator_client, "studies", {"PatientID": pid, "PatientName": "Old^Name"}))
    assert uids(ok(get(emulator_client, "studies", {"PatientID": pid, "PatientName": "new", "fuzzymatching": "true"})),
                STUDY_UID) == [study]
    empty(get(emulator_client, "studies", {"PatientID": pid, "PatientName": "old", "fuzzymatching": "true"}))
    series_result = ok(get(emulator_client, "series", {"PatientID": pid, "ManufacturerModelName": "model 1"}))
    assert series_result[0][MODALITY] == {"vr": "CS", "Value": ["MR"]}
    assert series_result[0][MODEL] == {"vr": "LO", "Value": ["Model 1"]}
    # A blank PatientID never replaces a stored one (v2 stores it with a warning: 202).
    stow(emulator_client, [make_instance(study, series, generate_uid(), PatientID="")], expected=202)
    assert uids(ok(get(emulator_client, "studies", {"PatientID": pid})), STUDY_UID) == [study]
    assert emulator_client.delete(f"{emulator_client.base}/studies/{study}").status_code == 204


def test_study_search_answers_a_series_attribute_from_its_newest_instance(emulator_client):
    """QueryService merges the series result of the instance that stands for each study: OHIF's study list
    asks /studies for includefield=00080060 (Modality) and opens only studies whose modality it knows."""
    pid = f"QIDO-MODALITY-{uuid.uuid4().hex[:8]}"
    study = generate_uid()
    stow(emulator_client, [make_instance(study, generate_uid(), generate_uid(), PatientID=pid, Modality="MR")])
    stow(emulator_client, [make_instance(study, generate_uid(), generate_uid(), PatientID=pid, Modality="CT")])
    (result,) = ok(get(emulator_client, "studies", {"PatientID": pid, "includefield": "00080060"}))
    assert result[MODALITY] == {"vr": "CS", "Value": ["CT"]}
    (default,) = ok(get(emulator_client, "studies", {"PatientID": pid}))
    assert MODALITY not in default  # only when asked for: not in v2's default study attributes
    assert emulator_client.delete(f"{emulator_client.base}/studies/{study}").status_code == 204


# --- the tutorial's own queries on the sample study ------------------------------------------------

def test_sample_study_as_the_tutorial_queries_it(tmp_path):
    """The notebook's six QIDO calls against the three sample files, on an emulator of their own."""
    with start_emulator(tmp_path / "data", in_memory=True) as emu, requests.Session() as client:
        client.headers["Authorization"] = f"Bearer {emu.token()}"
        client.base = emu.base_url("v2")
        stow(client, [s.data() for s in samples.ALL])
        study, green = samples.STUDY_UID, samples.GREEN_SQUARE
        red = samples.RED_TRIANGLE

        v2 = ok(get(client, "studies", {"StudyInstanceUID": study}))
        assert v2 == [{
            STUDY_DATE: {"vr": "DA", "Value": ["20200922"]},
            REFERRING: {"vr": "PN", "Value": [{"Alphabetic": "Doctor Doc"}]},
            PATIENT_NAME: {"vr": "PN", "Value": [{"Alphabetic": "Anony Mous"}]},
            PATIENT_ID: {"vr": "LO", "Value": ["ID1"]},
            STUDY_UID: {"vr": "UI", "Value": [study]},
        }]
        v1 = ok(get(client, "studies", {"StudyInstanceUID": study}, version="v1"))
        assert v1[0][ACCESSION] == {"vr": "SH"} and v1[0][BIRTH_DATE] == {"vr": "DA"}
        assert v1[0][STUDY_TIME] == {"vr": "TM", "Value": ["120000"]}
        assert v1[0][PATIENT_SEX] == {"vr": "CS", "Value": ["F"]}

        assert uids(ok(get(client, "series", {"SeriesInstanceUID": green.series_uid})), SERIES_UID) == [
            green.series_uid]
        assert uids(ok(get(client, f"studies/{study}/series", {"SeriesInstanceUID": green.series_uid})),
                    SERIES_UID) == [green.series_uid]
        for path in ("instances", f"studies/{study}/instances",
                     f"studies/{study}/series/{red.series_uid}/instances"):
            assert uids(ok(get(client, path, {"SOPInstanceUID": red.sop_uid})), SOP_UID) == [red.sop_uid]
        # Green and red share a series; the sample study holds three instances.
        counts = ok(get(client, f"studies/{study}/series", {"includefield": "NumberOfSeriesRelatedInstances"}))
        assert sorted(r[SERIES_INSTANCES]["Value"][0] for r in counts) == [1, 2]


def test_reader_token_may_search(emulator, data):
    with requests.Session() as reader:
        reader.headers["Authorization"] = f"Bearer {emulator.token(role='reader')}"
        response = reader.get(f"{emulator.base_url('v2')}/studies", params={"PatientID": data.pid}, headers=ACCEPT)
        assert uids(ok(response), STUDY_UID) == [data.c, data.b, data.a]
