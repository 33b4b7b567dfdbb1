"""STOW-RS: Azure's status matrix (200/202/204/409/400/406/415/413) and response dataset."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydicom.uid import ImplicitVRLittleEndian

from tests.emulator.emulator_testlib import DICOM_JSON_UTF8, PLAIN, invalid_uid_text, send, session_for
from tests.support.part10 import build_instance, new_uid
from tests.support.data_dir import unindexed_files
from tests.support.stow import DICOM_JSON, multipart, stow

# StoreValidationResultBuilder: ErrorMessageFormat "DICOM{0}: {1} - {2}" with fo-dicom's lower-case tag text.
STUDY_MISMATCH = ("DICOM100: (0020,000d) - The StudyInstanceUid in the payload does not match the specified "
                  "StudyInstanceUid.")


def instance_url(client, inst):
    return f"{client.base}/{inst.path}"


def success_item(client, inst, v2=True):
    item = {
        "00081150": {"vr": "UI", "Value": [inst.sop_class]},
        "00081155": {"vr": "UI", "Value": [inst.sop]},
        "00081190": {"vr": "UR", "Value": [instance_url(client, inst)]},
    }
    if v2:
        item["00741048"] = {"vr": "SQ"}
    return item


def exists(client, inst) -> bool:
    response = client.get(f"{instance_url(client, inst)}/metadata", headers={"Accept": DICOM_JSON})
    assert response.status_code in (200, 404)
    return response.status_code == 200


def test_multipart_store_is_200_with_referenced_sop_sequence(emulator_client):
    a, b = build_instance(), build_instance()
    response = stow(emulator_client, [a.data, b.data])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DICOM_JSON_UTF8
    assert response.json() == {"00081199": {"vr": "SQ", "Value": [success_item(emulator_client, a),
                                                                  success_item(emulator_client, b)]}}
    assert exists(emulator_client, a) and exists(emulator_client, b)


def test_tags_are_sorted_ascending_in_the_raw_body(emulator_client):
    a = build_instance()
    response = stow(emulator_client, [a.data, build_instance(PatientID=None).data], study=a.study)
    body = json.loads(response.text, object_pairs_hook=lambda pairs: [k for k, _ in pairs])
    assert body == ["00081190", "00081198", "00081199"]


def test_store_to_study_path_adds_retrieve_url(emulator_client):
    inst = build_instance()
    response = stow(emulator_client, [inst.data], study=inst.study)
    assert response.status_code == 200
    assert response.json() == {
        "00081190": {"vr": "UR", "Value": [f"{emulator_client.base}/studies/{inst.study}"]},
        "00081199": {"vr": "SQ", "Value": [success_item(emulator_client, inst)]},
    }


def test_single_part_application_dicom_is_200(emulator_client):
    inst = build_instance()
    response = emulator_client.post(f"{emulator_client.base}/studies", data=inst.data,
                                    headers={"Content-Type": "application/dicom", "Accept": DICOM_JSON})
    assert response.status_code == 200
    assert response.json() == {"00081199": {"vr": "SQ", "Value": [success_item(emulator_client, inst)]}}


def test_multipart_without_type_parameter_is_accepted(emulator_client):
    inst = build_instance()
    body, content_type = multipart([inst.data], outer_type=None)
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body,
                                    headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert response.status_code == 200
    assert exists(emulator_client, inst)


def test_first_part_without_content_type_takes_the_outer_type(emulator_client):
    inst = build_instance()
    body, content_type = multipart([inst.data], part_type=None)
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body,
                                    headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert response.status_code == 200
    assert exists(emulator_client, inst)


def test_extra_part_headers_and_preamble_are_ignored(emulator_client):
    # The original notebook's urllib3 helper adds Content-Disposition to each part.
    inst = build_instance()
    boundary = "b0undary"
    body = (f"this is a preamble\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"dicomfile\"\r\nContent-Type: application/dicom\r\n\r\n").encode() + inst.data + \
        f"\r\n--{boundary}--\r\nepilogue".encode()
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
        "Content-Type": f"multipart/related; boundary={boundary}", "Accept": DICOM_JSON})
    assert response.status_code == 200
    assert exists(emulator_client, inst)


def test_zero_parts_is_204(emulator_client):
    for body in (b"--b--\r\n", b""):
        response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
            "Content-Type": 'multipart/related; type="application/dicom"; boundary=b', "Accept": DICOM_JSON})
        assert response.status_code == 204
        assert response.content == b""


def test_duplicate_is_409_with_45070(emulator_client):
    inst = build_instance()
    assert stow(emulator_client, [inst.data]).status_code == 200
    response = stow(emulator_client, [inst.data])
    assert response.status_code == 409
    assert response.headers["Content-Type"] == DICOM_JSON_UTF8
    assert response.json() == {"00081198": {"vr": "SQ", "Value": [{
        "00081150": {"vr": "UI", "Value": [inst.sop_class]},
        "00081155": {"vr": "UI", "Value": [inst.sop]},
        "00081197": {"vr": "US", "Value": [45070]},
    }]}}


def test_same_file_twice_in_one_request_is_202(emulator_client):
    inst = build_instance()
    response = stow(emulator_client, [inst.data, inst.data])
    assert response.status_code == 202
    body = response.json()
    assert body["00081199"]["Value"] == [success_item(emulator_client, inst)]
    assert body["00081198"]["Value"][0]["00081197"] == {"vr": "US", "Value": [45070]}


def test_invalid_dicom_is_409_with_43264_only(emulator_client):
    response = stow(emulator_client, [b"this is not a DICOM file" * 10])
    assert response.status_code == 409
    assert response.json() == {"00081198": {"vr": "SQ", "Value": [{"00081197": {"vr": "US", "Value": [43264]}}]}}


def test_empty_single_part_body_is_409(emulator_client):
    response = emulator_client.post(f"{emulator_client.base}/studies", data=b"",
                                    headers={"Content-Type": "application/dicom", "Accept": DICOM_JSON})
    assert response.status_code == 409
    assert response.json() == {"00081198": {"vr": "SQ", "Value": [{"00081197": {"vr": "US", "Value": [43264]}}]}}


def test_empty_part_plus_valid_part_is_202(emulator_client):
    inst = build_instance()
    response = stow(emulator_client, [b"", inst.data])
    assert response.status_code == 202
    body = response.json()
    assert body["00081198"]["Value"] == [{"00081197": {"vr": "US", "Value": [43264]}}]
    assert body["00081199"]["Value"] == [success_item(emulator_client, inst)]


@pytest.mark.parametrize("cut", [131, 200, 605, -1000, -1])
def test_truncated_file_is_rejected_and_not_stored(emulator_client, cut):
    inst = build_instance(rows=64, columns=64)
    response = stow(emulator_client, [inst.data[:cut]])
    assert response.status_code == 409
    item = response.json()["00081198"]["Value"][0]
    assert item["00081197"] == {"vr": "US", "Value": [43264]}
    assert not exists(emulator_client, inst)


def test_study_mismatch_is_409_with_error_comment(emulator_client):
    inst = build_instance()
    other_study = new_uid()
    response = stow(emulator_client, [inst.data], study=other_study)
    assert response.status_code == 409
    assert response.json() == {"00081198": {"vr": "SQ", "Value": [{
        "00081150": {"vr": "UI", "Value": [inst.sop_class]},
        "00081155": {"vr": "UI", "Value": [inst.sop]},
        "00081197": {"vr": "US", "Value": [43264]},
        "00741048": {"vr": "SQ", "Value": [{"00000902": {"vr": "LO", "Value": [STUDY_MISMATCH]}}]},
    }]}}
    assert not exists(emulator_client, inst)


def test_study_mismatch_mixed_is_202_with_three_elements(emulator_client):
    good = build_instance()
    bad = build_instance()
    response = stow(emulator_client, [good.data, bad.data], study=good.study)
    assert response.status_code == 202
    body = response.json()
    assert list(body) == ["00081190", "00081198", "00081199"]
    assert body["00081190"]["Value"] == [f"{emulator_client.base}/studies/{good.study}"]
    assert body["00081198"]["Value"][0]["00081155"]["Value"] == [bad.sop]
    assert body["00081199"]["Value"] == [success_item(emulator_client, good)]


@pytest.mark.parametrize("missing", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID",
                                     "PatientID"])
def test_missing_required_attribute_is_409_43264(emulator_client, missing):
    inst = build_instance(**{missing: None})
    response = stow(emulator_client, [inst.data])
    assert response.status_code == 409
    item = response.json()["00081198"]["Value"][0]
    assert item["00081197"] == {"vr": "US", "Value": [43264]}
    comment = item["00741048"]["Value"][0]["00000902"]["Value"][0]
    assert "is missing" in comment


def test_invalid_uid_in_file_is_409(emulator_client):
    inst = build_instance(SeriesInstanceUID="1.2.abc")
    response = stow(emulator_client, [inst.data])
    assert response.status_code == 409
    item = response.json()["00081198"]["Value"][0]
    assert item["00081197"] == {"vr": "US", "Value": [43264]}
    assert "UI" in item["00741048"]["Value"][0]["00000902"]["Value"][0]


def test_v2_empty_patient_id_is_accepted_v1_rejects_it(emulator_client, v1_client):
    inst = build_instance(PatientID="")
    response = stow(emulator_client, [inst.data])
    # ValidateStringItemWithLeniency: a warning (202, WarningReason 1), and PatientID is left out of the metadata.
    assert response.status_code == 202
    item = response.json()["00081199"]["Value"][0]
    assert item["00081196"] == {"vr": "US", "Value": [1]}
    assert item["00741048"]["Value"] == [
        {"00000902": {"vr": "LO", "Value": ["DICOM100: (0010,0020) - The required tag '(0010,0020)' is missing."]}}]
    metadata = emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata", headers={"Accept": DICOM_JSON})
    assert "00100020" not in metadata.json()[0]
    inst = build_instance(PatientID="")
    response = stow(v1_client, [inst.data])
    assert response.status_code == 409
    assert response.json()["00081198"]["Value"][0]["00081197"]["Value"] == [43264]


def test_v2_invalid_indexed_attribute_is_202_warning_and_dropped(emulator_client):
    inst = build_instance(StudyDate="2024-01-01")
    response = stow(emulator_client, [inst.data])
    assert response.status_code == 202
    item = response.json()["00081199"]["Value"][0]
    assert item["00081196"] == {"vr": "US", "Value": [1]}
    comment = item["00741048"]["Value"][0]["00000902"]["Value"][0]
    assert comment.startswith('DICOM100: (0008,0020) - Content "2024-01-01" does not validate VR DA')
    metadata = emulator_client.get(f"{instance_url(emulator_client, inst)}/metadata",
                                   headers={"Accept": DICOM_JSON}).json()[0]
    assert "00080020" not in metadata
    assert metadata["00100020"] == {"vr": "LO", "Value": ["SYN-1"]}


def test_v2_invalid_other_attribute_is_202_warning_and_dropped_v1_stores_it(emulator_client, v1_client):
    # GenerateValidationWarnings validates every element in v2; v1 looks at indexed attributes only.
    inst = build_instance(ConversionType="wsd-lower", ContentDate="2024-01-01")
    response = stow(emulator_client, [inst.data])
    assert response.status_code == 202
    item = response.json()["00081199"]["Value"][0]
    assert item["00081196"] == {"vr": "US", "Value": [1]}
    assert [c["00000902"]["Value"][0] for c in item["00741048"]["Value"]] == [
        'DICOM100: (0008,0023) - Content "2024-01-01" does not validate VR DA: one of the date values does not '
        "match the pattern YYYYMMDD",
        'DICOM100: (0008,0064) - Content "wsd-lower" does not validate VR CS: value contains invalid character',
    ]
    metadata = emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata", headers={"Accept": DICOM_JSON})
    assert "00080064" not in metadata.json()[0] and "00080023" not in metadata.json()[0]
    v1_inst = build_instance(ConversionType="wsd-lower")
    response = stow(v1_client, [v1_inst.data])
    assert response.status_code == 200
    metadata = v1_client.get(f"{v1_client.base}/{v1_inst.path}/metadata", headers={"Accept": DICOM_JSON})
    assert metadata.json()[0]["00080064"] == {"vr": "CS", "Value": ["wsd-lower"]}


def test_v1_invalid_indexed_attribute_fails_the_instance(v1_client):
    inst = build_instance(StudyDate="2024-01-01")
    response = stow(v1_client, [inst.data])
    assert response.status_code == 409
    item = response.json()["00081198"]["Value"][0]
    assert item["00081197"] == {"vr": "US", "Value": [43264]}
    # v1 checks indexed attributes with Azure's minimum validator (ElementValidationException).
    assert item["00741048"]["Value"] == [{"00000902": {"vr": "LO", "Value": [
        "DICOM100: (0008,0020) - Dicom element 'StudyDate' failed validation for VR 'DA': Value cannot be parsed "
        "as a valid date."]}}]


MULTI_VALUED_WARNING = ('299 127.0.0.1: "One or more indexed Dicom tag(s) have multiple values, only first value '
                        'is indexed."')


def test_multi_valued_indexed_attributes_get_a_warning_header(emulator_client, v1_client):
    # v1 checks every indexed attribute, v2 only the required core tags (PatientID).
    response = stow(v1_client, [build_instance(PatientName="Doe^John\\Roe^Jane").data])
    assert response.status_code == 200
    assert response.headers["Warning"] == MULTI_VALUED_WARNING
    response = stow(emulator_client, [build_instance(PatientName="Doe^John\\Roe^Jane").data])
    assert response.status_code == 200
    assert "Warning" not in response.headers
    response = stow(emulator_client, [build_instance(PatientID="SYN-1\\SYN-2").data])
    assert response.status_code == 200
    assert response.headers["Warning"] == MULTI_VALUED_WARNING
    assert "Warning" not in stow(emulator_client, [build_instance().data]).headers


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_control_character_in_patient_id_fails_the_instance(emulator_client, v1_client, version):
    client = v1_client if version == "v1" else emulator_client
    inst = build_instance(PatientID="SYN\x01ID")
    response = stow(client, [inst.data])
    assert response.status_code == 409  # a required core tag: an error, not a warning, in v2 too
    item = response.json()["00081198"]["Value"][0]
    assert item["00741048"]["Value"] == [{"00000902": {"vr": "LO", "Value": [
        "DICOM100: (0010,0020) - Dicom element 'PatientID' failed validation for VR 'LO': Value contains "
        "invalid character."]}}]


def test_v1_success_items_have_no_failed_attributes_sequence(v1_client):
    inst = build_instance()
    response = stow(v1_client, [inst.data])
    assert response.status_code == 200
    assert response.json() == {"00081199": {"vr": "SQ", "Value": [success_item(v1_client, inst, v2=False)]}}


def test_implicit_vr_is_stored_with_warning_45063(emulator_client, v1_client):
    inst = build_instance(transfer_syntax=ImplicitVRLittleEndian)
    response = stow(v1_client, [inst.data])
    assert response.status_code == 200
    assert response.json()["00081199"]["Value"][0]["00081196"] == {"vr": "US", "Value": [45063]}
    inst = build_instance(transfer_syntax=ImplicitVRLittleEndian)
    response = stow(emulator_client, [inst.data])
    assert response.status_code == 202
    item = response.json()["00081199"]["Value"][0]
    assert item["00081196"] == {"vr": "US", "Value": [45063]}
    assert item["00741048"] == {"vr": "SQ"}


@pytest.mark.parametrize("accept", ["*/*", "application/*", "application/json", "application/dicom+json",
                                    "application/dicom+json; q=0.9, text/html"])
def test_acceptable_accept_headers(emulator_client, accept):
    inst = build_instance()
    response = stow(emulator_client, [inst.data], Accept=accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DICOM_JSON_UTF8


@pytest.mark.parametrize("accept", [None, "", "application/dicom", "text/html",
                                    'multipart/related; type=application/dicom'])
def test_unacceptable_accept_is_406_and_nothing_stored(emulator_client, accept):
    inst = build_instance()
    body, content_type = multipart([inst.data])
    response = send(emulator_client, "POST", f"{emulator_client.base}/studies", accept, data=body,
                    headers={"Content-Type": content_type})
    assert response.status_code == 406
    assert response.content == b""
    assert not exists(emulator_client, inst)


@pytest.mark.parametrize("content_type", [
    "multipart/form-data; boundary=abc", "text/plain", "application/octet-stream", "application/json",
    "application/dicom+json", "not a content type",
])
def test_unsupported_content_type_is_415_with_an_empty_body(emulator_client, content_type):
    # [Consumes("application/dicom", "multipart/related")]: ASP.NET Core's UnsupportedMediaTypeResult.
    inst = build_instance()
    body, _ = multipart([inst.data], boundary="abc")
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body,
                                    headers={"Content-Type": content_type, "Accept": "text/html"})
    assert response.status_code == 415  # before the Accept filter's 406
    assert response.content == b""
    assert not exists(emulator_client, inst)


@pytest.mark.parametrize("content_type", ["multipart/related", 'multipart/related; type="application/dicom"'])
def test_multipart_without_boundary_is_415(emulator_client, content_type):
    response = emulator_client.post(f"{emulator_client.base}/studies", data=b"x",
                                    headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert response.status_code == 415
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == f"The content type '{content_type}' is either not multipart or is missing boundary."


def test_missing_content_type_is_415(emulator_client):
    response = emulator_client.post(f"{emulator_client.base}/studies", data=b"x", headers={"Accept": DICOM_JSON})
    assert response.status_code == 415
    assert response.headers["Content-Type"] == PLAIN


@pytest.mark.parametrize("part_type", ["application/octet-stream", "application/dicom; transfer-syntax=*",
                                       "application/dicom+json"])
def test_a_part_with_another_content_type_rejects_the_whole_request(emulator_client, part_type):
    first, second = build_instance(), build_instance()
    boundary = "xyz"
    body = (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").encode() + first.data + (
        f"\r\n--{boundary}\r\nContent-Type: {part_type}\r\n\r\n").encode() + second.data + (
        f"\r\n--{boundary}--\r\n").encode()
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}', "Accept": DICOM_JSON})
    assert response.status_code == 415
    assert response.text == f"The specified content type '{part_type}' is not supported."
    assert not exists(emulator_client, first)
    assert not exists(emulator_client, second)


def test_second_part_without_content_type_is_415(emulator_client):
    first, second = build_instance(), build_instance()
    body = (b"--q\r\nContent-Type: application/dicom\r\n\r\n" + first.data + b"\r\n--q\r\n\r\n" + second.data
            + b"\r\n--q--\r\n")
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
        "Content-Type": 'multipart/related; type="application/dicom"; boundary=q', "Accept": DICOM_JSON})
    assert response.status_code == 415
    assert not exists(emulator_client, first)


def test_start_parameter_is_400(emulator_client):
    inst = build_instance()
    body, content_type = multipart([inst.data])
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
        "Content-Type": content_type + '; start="<part1>"', "Accept": DICOM_JSON})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert "start" in response.text
    assert not exists(emulator_client, inst)


@pytest.mark.parametrize("study", ["1.2.abc", "1.2.3.", "1" * 65, "1.2-3", "1.2%2F3"])
def test_bad_study_uid_in_path_is_400(emulator_client, study):
    inst = build_instance()
    response = stow(emulator_client, [inst.data], study=study)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == invalid_uid_text("StudyInstanceUid")
    assert not exists(emulator_client, inst)


@pytest.mark.parametrize("name,body", [
    ("no closing boundary", b"--m\r\nContent-Type: application/dicom\r\n\r\nDICM-ish data"),
    ("boundary never appears", b"no boundary anywhere in this body"),
    ("bad header line", b"--m\r\nContent-Type application/dicom\r\n\r\nxx\r\n--m--\r\n"),
    ("garbage after delimiter", b"--mXYZ\r\n\r\nxx\r\n--m--\r\n"),
])
def test_malformed_multipart_is_400_and_nothing_stored(emulator_client, name, body):
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
        "Content-Type": 'multipart/related; type="application/dicom"; boundary=m', "Accept": DICOM_JSON})
    assert response.status_code == 400, name
    assert response.headers["Content-Type"] == PLAIN
    assert response.text


@pytest.mark.parametrize("body", [b"--m\r\nContent-Type: application/dicom\r\n\r\nDICM-ish data",
                                  b"no boundary anywhere in this body"])
def test_a_body_ending_before_a_boundary_gets_aspnet_cores_text(emulator_client, body):
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
        "Content-Type": 'multipart/related; type="application/dicom"; boundary=m', "Accept": DICOM_JSON})
    assert response.status_code == 400
    assert response.text == "Unexpected end of Stream, the content may have already been read by another component."


def test_truncated_multipart_with_valid_parts_stores_nothing(emulator_client):
    inst = build_instance()
    body, content_type = multipart([inst.data, build_instance().data])
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body[:-200],
                                    headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert response.status_code == 400
    assert not exists(emulator_client, inst)


def test_oversized_request_is_413_and_nothing_stored(own_emulator):
    emu = own_emulator(extra_args=["--max-request-size", "20000"])
    client = session_for(emu)
    small = build_instance()
    big = build_instance(rows=100, columns=100)
    assert stow(client, [small.data]).status_code == 200
    response = stow(client, [big.data])
    assert response.status_code == 413
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == "The request exceeded the allowed limit of 20000 bytes."  # RequestLengthLimitExceeded
    assert not exists(client, big)
    assert unindexed_files(emu.data_dir) == []


def test_failed_requests_leave_no_temp_files(emulator_client, emulator):
    stow(emulator_client, [b"junk"])
    emulator_client.post(f"{emulator_client.base}/studies", data=b"--m\r\n\r\npartial", headers={
        "Content-Type": "multipart/related; boundary=m", "Accept": DICOM_JSON})
    assert unindexed_files(emulator.data_dir) == []


def test_concurrent_uploads_of_one_instance_store_it_once(emulator, emulator_client):
    inst = build_instance(frames=4, rows=128, columns=128)

    def upload(_):
        return stow(session_for(emulator), [inst.data]).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(upload, range(6)))
    assert statuses == [200, 409, 409, 409, 409, 409]
    response = emulator_client.get(f"{emulator_client.base}/studies/{inst.study}/metadata",
                                   headers={"Accept": DICOM_JSON})
    assert len(response.json()) == 1


@pytest.mark.parametrize("single_part", [False, True], ids=["multipart", "single-part"])
def test_a_long_text_value_is_stored_whole(emulator_client, single_part):
    """A value longer than the 4 KiB pydicom defers is read in full from a part validated in memory."""
    text = "Synthetic comment. " * 600  # 11,400 characters
    inst = build_instance(ImageComments=text)
    if single_part:
        response = emulator_client.post(f"{emulator_client.base}/studies", data=inst.data, headers={
            "Content-Type": "application/dicom", "Accept": DICOM_JSON})
    else:
        response = stow(emulator_client, [inst.data])
    assert response.status_code == 200, response.text
    metadata = emulator_client.get(f"{instance_url(emulator_client, inst)}/metadata",
                                   headers={"Accept": DICOM_JSON}).json()[0]
    assert metadata["00204000"] == {"vr": "LT", "Value": [text.rstrip()]}


def test_parts_beyond_what_is_kept_in_memory_are_validated_from_their_files(emulator_client):
    """The first parts of a request, up to 1 MiB in all, are validated from memory, the others from
    disk: the answer, the metadata and the files are the same for both."""
    parts = [build_instance(rows=400, columns=400, InstanceNumber=n, PatientID=f"KEEP-{n}") for n in range(4)]
    assert sum(len(p.data) for p in parts) > 1 << 20
    response = stow(emulator_client, [p.data for p in parts])
    assert response.status_code == 200, response.text
    assert [i["00081155"]["Value"][0] for i in response.json()["00081199"]["Value"]] == [p.sop for p in parts]
    for n, inst in enumerate(parts):
        metadata = emulator_client.get(f"{instance_url(emulator_client, inst)}/metadata",
                                       headers={"Accept": DICOM_JSON}).json()[0]
        assert metadata["00100020"]["Value"] == [f"KEEP-{n}"]
        stored = emulator_client.get(instance_url(emulator_client, inst),
                                     headers={"Accept": 'multipart/related; type="application/dicom"; '
                                                        'transfer-syntax=*'})
        assert inst.data[128:] in stored.content  # the file as sent, its preamble zeroed
