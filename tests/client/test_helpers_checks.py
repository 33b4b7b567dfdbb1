"""helpers.checks: one printed line when a check holds; a message naming expected, actual and the fix when not."""

import json

import pytest
import requests

from helpers import checks
from helpers.multipart import encode_multipart_related

BASE = "http://127.0.0.1:8765/v2"
JSON = "application/dicom+json"


def request(method: str = "GET", path: str = "/studies/1.2.3/metadata") -> requests.PreparedRequest:
    return requests.Request(method, BASE + path).prepare()


def json_response(make_response, items: list, status: int = 200) -> requests.Response:
    return make_response(status, json.dumps(items).encode(), {"Content-Type": JSON}, request=request())


def test_a_check_that_holds_prints_status_type_and_count(capsys, make_response) -> None:
    response = json_response(make_response, [{}, {}, {}])
    checks.expect(response, 200, content_type=JSON, count=3, of="instances")
    assert capsys.readouterr().out == "200 OK · application/dicom+json · 3 instances\n"


def test_one_item_is_named_in_the_singular(capsys, make_response) -> None:
    checks.expect(json_response(make_response, [{}]), 200, of="studies")
    assert capsys.readouterr().out == "200 OK · application/dicom+json · 1 study\n"


def test_multipart_parts_are_counted_and_the_boundary_is_not_printed(capsys, make_response) -> None:
    body, content_type = encode_multipart_related([b"one", b"two", b"three"], boundary="XYZ")
    response = make_response(200, body, {"Content-Type": content_type}, request=request())
    checks.expect(response, 200, content_type="multipart/related", parts=3, part_type="application/dicom")
    assert capsys.readouterr().out == ('200 OK · multipart/related; type="application/dicom" · '
                                       '3 parts of application/dicom\n')
    with pytest.raises(checks.CheckFailed, match=r"parts of application/octet-stream; got parts of application/dicom"):
        checks.expect(response, 200, part_type="application/octet-stream")


def test_an_empty_answer_says_so(capsys, make_response) -> None:
    checks.expect(make_response(204, b"", {}, request=request("DELETE", "/studies/1.2.3")), 204, empty=True)
    assert capsys.readouterr().out == "204 No Content · empty body\n"


def test_a_wrong_status_names_expected_actual_and_the_fix(capsys, make_response) -> None:
    body = b'{"message": "The specified study cannot be found."}'
    response = make_response(404, body, {"Content-Type": "application/json"}, request=request())
    with pytest.raises(checks.CheckFailed) as failure:
        checks.expect(response, 200, content_type=JSON, count=3, of="instances")
    message = str(failure.value)
    assert message.startswith("GET /v2/studies/1.2.3/metadata: expected 200 OK · application/dicom+json"
                              " · 3 instances; got status 404, Content-Type application/json")
    assert "The specified study cannot be found." in message  # the body, whatever its wording
    assert "What to do: run the notebook from the top" in message
    assert capsys.readouterr().out == ""  # nothing printed as if it had held


def test_a_wrong_count_names_both_counts(make_response) -> None:
    with pytest.raises(checks.CheckFailed, match=r"expected 200 OK · 3 instances; got 2 instances"):
        checks.expect(json_response(make_response, [{}, {}]), 200, count=3, of="instances")


def test_several_statuses_are_listed_and_the_hint_can_be_given(make_response) -> None:
    response = make_response(500, b"", {}, request=request())
    with pytest.raises(checks.CheckFailed, match=r"expected 200 OK or 204 No Content; got status 500 .*"
                                                 r"What to do: restart the emulator\.$"):
        checks.expect(response, (200, 204), hint="restart the emulator")


def test_a_401_gets_the_token_advice(make_response) -> None:
    response = make_response(401, b"", {"WWW-Authenticate": "Bearer"}, request=request())
    with pytest.raises(checks.CheckFailed, match="use the session from helpers.connect"):
        checks.expect(response, 200)


def test_a_body_that_should_be_empty(make_response) -> None:
    response = make_response(204, b"{}", {"Content-Type": "application/json"}, request=request())
    with pytest.raises(checks.CheckFailed, match="got a 2-byte body"):
        checks.expect(response, 204, empty=True)


def test_a_failed_check_is_an_assertion_error() -> None:
    # A learner's own `except AssertionError` and pytest's assertion reporting both still apply.
    assert issubclass(checks.CheckFailed, AssertionError)


def test_expect_value_prints_the_value_or_names_both(capsys) -> None:
    checks.expect_value("FailureReason", 45070, 45070)
    assert capsys.readouterr().out == "FailureReason: 45070\n"
    with pytest.raises(checks.CheckFailed, match=r"^stored: expected \['a'\], got \['b'\]\. What to do: "
                                                 r"run the notebook from the top"):
        checks.expect_value("stored", ["b"], ["a"])


def test_a_quiet_expect_value_prints_nothing_but_still_fails(capsys) -> None:
    checks.expect_value("stored as", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.5", quiet=True)
    assert capsys.readouterr().out == ""
    with pytest.raises(checks.CheckFailed, match=r"^stored as: expected '1\.2', got '1\.3'"):
        checks.expect_value("stored as", "1.3", "1.2", quiet=True)


def test_the_count_is_printed_only_when_asked_for(capsys, make_response) -> None:
    checks.expect(json_response(make_response, [{}, {}]), 200, content_type=JSON)
    assert capsys.readouterr().out == "200 OK · application/dicom+json\n"


def test_content_type_parameters_match_in_any_order(capsys, make_response) -> None:
    body, _ = encode_multipart_related([b"one"], boundary="XYZ")
    header = 'multipart/related; boundary=XYZ; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1'
    response = make_response(200, body, {"Content-Type": header}, request=request())
    checks.expect(response, 200, content_type='multipart/related; type="application/dicom"', parts=1)
    with pytest.raises(checks.CheckFailed, match="got Content-Type multipart/related; type=\"application/dicom\""):
        checks.expect(response, 200, content_type='multipart/related; type="application/octet-stream"')
    with pytest.raises(checks.CheckFailed, match="Content-Type"):
        checks.expect(response, 200, content_type="application/dicom")


def test_a_quiet_check_prints_nothing_but_still_fails(capsys, make_response) -> None:
    checks.expect(json_response(make_response, [{}]), 200, quiet=True)
    assert capsys.readouterr().out == ""
    with pytest.raises(checks.CheckFailed, match="expected 204 No Content; got status 200"):
        checks.expect(json_response(make_response, [{}]), 204, quiet=True)


def test_a_failed_check_shows_its_message_in_place_of_a_traceback() -> None:
    # IPython renders _render_traceback_() instead of a traceback through helpers/checks.py.
    error = checks.CheckFailed("GET x: expected 200 OK, got 404 Not Found. What to do: run the notebook from the top.")
    assert error._render_traceback_() == [f"CheckFailed: {error}"]
