"""Print HTTP requests and responses the way they travel, minus secrets and noise.

The output is deterministic (same text on any host, port or run) so notebooks can commit it:
paths are shown relative to the service's base URL, the bearer token is hidden, and bodies are
summarised by size.
"""

import json
from http import HTTPStatus
from urllib.parse import urlsplit

import requests

from .multipart import Part, decode_body, is_multipart

# Headers requests adds on its own that say nothing about the DICOMweb contract.
NOISE_HEADERS = {"user-agent", "accept-encoding", "connection"}
# Response headers worth showing, with the spelling to print them in (servers differ in case).
RESPONSE_HEADERS = ["Content-Type", "ETag", "Location", "Warning", "WWW-Authenticate"]

_base_url: str | None = None


def set_base_url(url: str | None) -> None:
    """Show request paths relative to ``url`` (``connect()`` calls this)."""
    global _base_url
    _base_url = url.rstrip("/") if url else None


def _relative(url: str) -> str:
    if _base_url and url.startswith(_base_url + "/"):
        return url[len(_base_url):]
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _redact(value: str) -> str:
    scheme, space, _ = value.partition(" ")
    if not space:
        return "<credentials>"
    return f"{scheme} <token>" if scheme.lower() == "bearer" else f"{scheme} <credentials>"


def _parts_or_none(body: bytes, content_type: str) -> list[Part] | None:
    """The parts of a multipart body, or None if it is not one (or is malformed)."""
    if not is_multipart(content_type):
        return None
    try:
        return decode_body(body, content_type)
    except ValueError:
        return None


# A multipart body of more parts than this shows its first two and its last, with a count between.
MAX_PARTS_SHOWN = 4


def show_request(request: requests.Response | requests.PreparedRequest) -> None:
    """Print method, path, headers and a summary of the body of a request (or a response's request).

    A body of many parts (a whole series in one STOW) is summarised: its first two parts, a line
    counting the ones left out, and its last part."""
    if isinstance(request, requests.Response):
        request = request.request
    print(f"{request.method} {_relative(request.url or '')}")
    for name in sorted(request.headers, key=str.lower):
        if name.lower() in NOISE_HEADERS:
            continue
        value = _text(request.headers[name])
        print(f"{name}: {_redact(value) if name.lower() == 'authorization' else value}")
    body = request.body
    if not body:
        return
    print()
    if not isinstance(body, (bytes, str)):
        print("<streamed body>")
        return
    body = body.encode("utf-8") if isinstance(body, str) else body
    content_type = _text(request.headers.get("Content-Type", ""))
    parts = _parts_or_none(body, content_type)
    if parts is None:
        print(f"<{len(body)} bytes>")
        return
    boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip('"')
    for index, part in enumerate(parts):
        if len(parts) > MAX_PARTS_SHOWN and 2 <= index < len(parts) - 1:
            if index == 2:
                print(f"--{boundary}\n<{len(parts) - 3} more parts, {len(parts)} in all>")
            continue
        print(f"--{boundary}")
        for name, value in part.headers.items():
            print(f"{name.title()}: {value}")
        print(f"\n<{len(part.content)} bytes>")
    print(f"--{boundary}--")


# How show_body spells a line ending, so that it is visible and survives a notebook save.
_LINE_ENDINGS = {b"\r\n": "\\r\\n", b"\n": "\\n", b"\r": "\\r"}


def show_body(body: bytes) -> None:
    """Print a text body (a multipart/related body, say) line by line, its line endings spelled out.

    Each line is printed followed by ``\\r\\n`` or ``\\n``, as written: multipart needs CRLF line
    breaks (RFC 2046 §5.1.1), which a plain print would hide. Printing the raw ``\\r`` would also not
    survive saving the notebook: JupyterLab stores ``\\r\\n`` in an output as ``\\n``, and strict
    nbval then fails. Other control bytes and non-ASCII bytes are shown as ``\\xNN``.
    """
    for line in body.splitlines(keepends=True):
        text = line.rstrip(b"\r\n")
        ending = _LINE_ENDINGS.get(line[len(text):], "")
        shown = "".join(chr(byte) if 0x20 <= byte < 0x7F else f"\\x{byte:02x}" for byte in text)
        print(shown + ending)


def pretty_json(value: object, indent: int = 0, column: int = 0, width: int = 120) -> str:
    """JSON indented by 2 spaces, except that whatever fits in ``width`` stays on one line.

    DICOM JSON is mostly small ``{"vr": ..., "Value": [...]}`` objects, which read best one per line.
    ``indent`` is the current nesting indent, ``column`` where this value starts on its line.
    """
    compact = json.dumps(value, ensure_ascii=False)
    top_level = indent == 0 and column == 0  # always one entry per line at the top
    if not isinstance(value, (dict, list)) or not value or (column + len(compact) <= width
                                                              and not top_level):
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            prefix = f"{pad}{json.dumps(key, ensure_ascii=False)}: "
            items.append(prefix + pretty_json(item, indent + 2, len(prefix), width))
        opening, closing = "{", "}"
    else:
        items = [pad + pretty_json(item, indent + 2, len(pad), width) for item in value]
        opening, closing = "[", "]"
    return f"{opening}\n" + ",\n".join(items) + f"\n{' ' * indent}{closing}"


def _print_lines(text: str, max_lines: int) -> None:
    lines = text.splitlines()
    print("\n".join(lines[:max_lines]))
    if len(lines) > max_lines:
        print(f"... ({len(lines) - max_lines} more lines)")


def _print_text_or_size(body: bytes, max_lines: int) -> None:
    try:
        _print_lines(body.decode("utf-8"), max_lines)
    except UnicodeDecodeError:
        print(f"<{len(body)} bytes>")


def show_response(response: requests.Response, max_lines: int = 20) -> None:
    """Print the status line, the headers that matter, and a summary of the body."""
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = response.reason or ""
    print(f"{response.status_code} {phrase}".rstrip())
    for name in RESPONSE_HEADERS:
        if name in response.headers:
            print(f"{name}: {response.headers[name]}")
    print()
    content_type = response.headers.get("Content-Type", "").lower()
    body = response.content
    parts = _parts_or_none(body, response.headers.get("Content-Type", ""))
    if not body:
        print("<empty body>")
    elif parts is not None:
        print(f"{len(parts)} part{'s' if len(parts) != 1 else ''}:")
        for number, part in enumerate(parts, 1):
            print(f"  part {number}: {part.content_type or '(no Content-Type)'}, "
                  f"<{len(part.content)} bytes>")
    elif "json" in content_type or not content_type:
        try:
            _print_lines(pretty_json(json.loads(body)), max_lines)
        except ValueError:  # not JSON after all (a server that sent no Content-Type)
            _print_text_or_size(body, max_lines)
    elif content_type.startswith("text/"):
        _print_text_or_size(body, max_lines)
    else:
        print(f"<{len(body)} bytes>")
