"""show_request / show_response print the HTTP contract deterministically."""

import json

import pytest
import requests

from helpers import http
from helpers.auth import BearerAuth, StaticTokenCredential
from helpers.multipart import encode_multipart_related

BASE = "http://127.0.0.1:8765/v2"


@pytest.fixture(autouse=True)
def base_url():
    http.set_base_url(BASE)
    yield
    http.set_base_url(None)


def prepared(method: str, path: str, **kwargs) -> requests.PreparedRequest:
    session = requests.Session()
    session.auth = BearerAuth(StaticTokenCredential("eyJhbGciOi.secret.signature"))
    return session.prepare_request(requests.Request(method, BASE + path, **kwargs))


def test_multipart_request_shows_headers_and_each_part(capsys, make_response) -> None:
    body, content_type = encode_multipart_related([b"A" * 10, b"\r\n" * 10], boundary="BOUNDARY")
    request = prepared("POST", "/studies", data=body,
                       headers={"Content-Type": content_type, "Accept": "application/dicom+json"})

    http.show_request(make_response(200, b"", {}, request))  # a Response shows its request

    assert capsys.readouterr().out == (
        "POST /studies\n"
        "Accept: application/dicom+json\n"
        "Authorization: Bearer <token>\n"
        f"Content-Length: {len(body)}\n"
        'Content-Type: multipart/related; type="application/dicom"; boundary=BOUNDARY\n'
        "\n"
        "--BOUNDARY\n"
        "Content-Type: application/dicom\n"
        "\n"
        "<10 bytes>\n"
        "--BOUNDARY\n"
        "Content-Type: application/dicom\n"
        "\n"
        "<20 bytes>\n"
        "--BOUNDARY--\n")


def test_get_request_keeps_query_and_drops_noise_headers(capsys) -> None:
    request = prepared("GET", "/studies", params={"StudyInstanceUID": "1.2.3", "limit": 5},
                       headers={"Accept": "application/dicom+json"})
    assert "User-Agent" in request.headers  # requests adds it; show_request leaves it out

    http.show_request(request)

    assert capsys.readouterr().out == (
        "GET /studies?StudyInstanceUID=1.2.3&limit=5\n"
        "Accept: application/dicom+json\n"
        "Authorization: Bearer <token>\n")


def test_token_never_appears(capsys) -> None:
    http.show_request(prepared("DELETE", "/studies/1.2.3"))

    out = capsys.readouterr().out
    assert "secret" not in out
    assert out == "DELETE /studies/1.2.3\nAccept: */*\nAuthorization: Bearer <token>\nContent-Length: 0\n"


def test_single_part_body_is_summarised_by_size(capsys) -> None:
    request = prepared("POST", "/studies", data=b"\x00" * 300,
                       headers={"Content-Type": "application/dicom"})

    http.show_request(request)

    assert capsys.readouterr().out.endswith("Content-Type: application/dicom\n\n<300 bytes>\n")


def test_a_body_of_many_parts_shows_its_first_two_and_last_with_a_count(capsys) -> None:
    body, content_type = encode_multipart_related([bytes([i]) * (100 + i) for i in range(64)])
    request = prepared("POST", "/studies", data=body, headers={"Content-Type": content_type})

    http.show_request(request)

    out = capsys.readouterr().out
    boundary = content_type.split("boundary=")[1]
    shown = out[out.index(f"--{boundary}"):]
    part = "--{b}\nContent-Type: application/dicom\n\n<{n} bytes>\n"
    assert shown == (part.format(b=boundary, n=100) + part.format(b=boundary, n=101)
                     + f"--{boundary}\n<61 more parts, 64 in all>\n" + part.format(b=boundary, n=163)
                     + f"--{boundary}--\n")


def test_a_body_of_four_parts_shows_every_part(capsys) -> None:
    body, content_type = encode_multipart_related([b"x" * 10] * 4)
    http.show_request(prepared("POST", "/studies", data=body, headers={"Content-Type": content_type}))
    out = capsys.readouterr().out
    assert out.count("<10 bytes>") == 4 and "more parts" not in out


def test_url_outside_the_base_shows_its_full_path(capsys) -> None:
    request = requests.Request("POST", "http://127.0.0.1:8042/tools/lookup", data="1.2.3",
                               headers={"Authorization": "Basic dXNlcjpwdw=="}).prepare()

    http.show_request(request)

    assert capsys.readouterr().out == ("POST /tools/lookup\nAuthorization: Basic <credentials>\n"
                                       "Content-Length: 5\n\n<5 bytes>\n")


def test_json_response_is_pretty_printed_and_truncated(capsys, make_response) -> None:
    results = [{"0020000D": {"vr": "UI", "Value": [f"1.2.{i}"]}} for i in range(10)]
    response = make_response(200, json.dumps(results).encode(), {
        "content-type": "application/dicom+json", "content-length": "999", "date": "today"})

    http.show_response(response, max_lines=6)

    assert capsys.readouterr().out == (
        "200 OK\n"
        "Content-Type: application/dicom+json\n"
        "\n"
        "[\n"
        '  {"0020000D": {"vr": "UI", "Value": ["1.2.0"]}},\n'
        '  {"0020000D": {"vr": "UI", "Value": ["1.2.1"]}},\n'
        '  {"0020000D": {"vr": "UI", "Value": ["1.2.2"]}},\n'
        '  {"0020000D": {"vr": "UI", "Value": ["1.2.3"]}},\n'
        '  {"0020000D": {"vr": "UI", "Value": ["1.2.4"]}},\n'
        "... (6 more lines)\n")  # 10 items + 2 brackets, 6 lines shown


def test_pretty_json_keeps_small_objects_on_one_line_and_splits_long_ones() -> None:
    url = "http://127.0.0.1:8765/v2/studies/" + "1" * 64 + "/series/" + "2" * 64
    value = {"00081199": {"vr": "SQ", "Value": [{
        "00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.7"]},
        "00081190": {"vr": "UR", "Value": [url]}}]},
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Anony Mous"}]}}

    text = http.pretty_json(value)

    assert json.loads(text) == value
    assert text == (
        "{\n"
        '  "00081199": {\n'
        '    "vr": "SQ",\n'
        '    "Value": [\n'
        "      {\n"
        '        "00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.7"]},\n'
        '        "00081190": {\n'
        '          "vr": "UR",\n'
        '          "Value": [\n'
        f'            "{url}"\n'
        "          ]\n"
        "        }\n"
        "      }\n"
        "    ]\n"
        "  },\n"
        '  "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Anony Mous"}]}\n'
        "}")


def test_short_json_is_printed_whole(capsys, make_response) -> None:
    response = make_response(200, b'{"sequence": 1, "action": "Create"}',
                             {"Content-Type": "application/json; charset=utf-8", "ETag": "7"})

    http.show_response(response)

    assert capsys.readouterr().out == ('200 OK\nContent-Type: application/json; charset=utf-8\n'
                                       'ETag: 7\n\n{\n  "sequence": 1,\n  "action": "Create"\n}\n')


def test_multipart_response_lists_parts(capsys, make_response) -> None:
    body = (b"--b1\r\nContent-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n"
            + b"D" * 50 + b"\r\n--b1\r\n\r\n" + b"E" * 7 + b"\r\n--b1--\r\n")
    response = make_response(200, body, {"Content-Type": "multipart/related; boundary=b1"})

    http.show_response(response)

    assert capsys.readouterr().out == (
        "200 OK\n"
        "Content-Type: multipart/related; boundary=b1\n"
        "\n"
        "2 parts:\n"
        "  part 1: application/dicom; transfer-syntax=1.2.840.10008.1.2.1, <50 bytes>\n"
        "  part 2: (no Content-Type), <7 bytes>\n")


def test_error_responses(capsys, make_response) -> None:
    http.show_response(make_response(401, b"", {"WWW-Authenticate": "Bearer", "Content-Length": "0"}))
    http.show_response(make_response(404, b"The specified study cannot be found.",
                                      {"Content-Type": "text/plain; charset=utf-8"}))
    # Orthanc sends JSON errors without a Content-Type.
    http.show_response(make_response(405, b'{"HttpStatus": 405}', {}))

    assert capsys.readouterr().out == (
        "401 Unauthorized\nWWW-Authenticate: Bearer\n\n<empty body>\n"
        "404 Not Found\nContent-Type: text/plain; charset=utf-8\n\n"
        "The specified study cannot be found.\n"
        '405 Method Not Allowed\n\n{\n  "HttpStatus": 405\n}\n')


def test_status_phrase_does_not_depend_on_the_server(capsys, make_response) -> None:
    response = make_response(204, b"", {"Location": "/v2/x"})
    response.reason = "no content (custom)"

    http.show_response(response)

    assert capsys.readouterr().out == "204 No Content\nLocation: /v2/x\n\n<empty body>\n"


def test_binary_response_is_summarised(capsys, make_response) -> None:
    http.show_response(make_response(200, b"\x89PNG\r\n" + b"\x00" * 94, {"Content-Type": "image/png"}))

    assert capsys.readouterr().out == "200 OK\nContent-Type: image/png\n\n<100 bytes>\n"


def test_authorization_without_a_scheme_is_hidden_entirely(capsys) -> None:
    request = requests.Request("GET", BASE + "/studies",
                               headers={"Authorization": "rawsecrettoken"}).prepare()

    http.show_request(request)

    assert capsys.readouterr().out == "GET /studies\nAuthorization: <credentials>\n"


def test_malformed_multipart_is_summarised_not_raised(capsys, make_response) -> None:
    request = requests.Request("POST", BASE + "/studies", data=b"no parts here",
                               headers={"Content-Type": "multipart/related"}).prepare()

    http.show_request(request)
    http.show_response(make_response(200, b"--x\r\nno blank line", {
        "Content-Type": "multipart/related; boundary=x"}))

    assert capsys.readouterr().out == (
        "POST /studies\nContent-Length: 13\nContent-Type: multipart/related\n\n<13 bytes>\n"
        "200 OK\nContent-Type: multipart/related; boundary=x\n\n<18 bytes>\n")


def test_show_body_spells_out_each_line_ending(capsys) -> None:
    body, _ = encode_multipart_related([b"<file one>"], boundary="BOUNDARY")

    http.show_body(body)

    assert capsys.readouterr().out == (
        "--BOUNDARY\\r\\n\n"
        "Content-Type: application/dicom\\r\\n\n"
        "\\r\\n\n"
        "<file one>\\r\\n\n"
        "--BOUNDARY--\\r\\n\n")


def test_show_body_output_has_no_carriage_return_or_control_byte(capsys) -> None:
    # JupyterLab rewrites "\r\n" (and a lone "\r") in a saved output; none may reach the notebook.
    http.show_body(b"bare LF\nbare CR\rlast\x00\xff")

    out = capsys.readouterr().out
    assert out == "bare LF\\n\nbare CR\\r\nlast\\x00\\xff\n"
    assert not [char for char in out if ord(char) < 0x20 and char != "\n"]
