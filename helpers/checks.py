"""Checks that read as part of a lesson: each prints one line when it holds, and says what to do when not.

``expect(r, status=200, content_type="application/dicom+json", count=3, of="instances")`` prints
``200 OK · application/dicom+json · 3 instances``; when the answer differs it raises ``CheckFailed``
with what was expected, what came back, and the likely fix. ``expect_value`` does the same for a
value read out of an answer (UIDs, a FailureReason, a list of entries).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from http import HTTPStatus

import requests

from .multipart import decode_body, is_multipart

# The usual reason for each status when a lesson cell is re-run on its own, and what to do about it.
HINTS = {
    401: "the request carried no valid token: use the session from helpers.connect() (client.session)",
    403: "the token lacks the role for this: use an identity with DICOM Data Owner",
    404: "run the notebook from the top: an earlier run's cleanup cell, or a delete further down, "
         "removed what this cell asks for",
    406: "the server cannot answer with that Accept header: compare it with the lesson's",
    409: "the server already holds this: run the notebook from the top, its setup removes leftovers",
}
RERUN_HINT = "run the notebook from the top (Kernel > Restart Kernel and Run All Cells)"


class CheckFailed(AssertionError):
    """A lesson's check did not hold; the message says expected, actual and what to do."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback through helpers/checks.py: the message is the lesson.
        return [f"CheckFailed: {self}"]


def phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status ("Not Found"), or "" for an unknown one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _media_type(content_type: str) -> str:
    """The Content-Type without its boundary (which changes with every request)."""
    kept = [param.strip() for param in content_type.split(";")
            if param.strip() and not param.strip().lower().startswith("boundary=")]
    return "; ".join(kept)


def _parse(content_type: str) -> tuple[str, dict[str, str]]:
    media, *params = content_type.split(";")
    pairs = (param.split("=", 1) for param in params if "=" in param)
    return media.strip().lower(), {name.strip().lower(): value.strip().strip('"').lower() for name, value in pairs}


def _type_matches(actual: str, expected: str) -> bool:
    """Same media type, and every parameter of ``expected`` with the same value (in any order)."""
    actual_media, actual_params = _parse(actual)
    expected_media, expected_params = _parse(expected)
    return actual_media == expected_media and all(actual_params.get(name) == value
                                                  for name, value in expected_params.items())


def _excerpt(response: requests.Response, limit: int = 300) -> str:
    content_type = response.headers.get("Content-Type", "")
    if not response.content:
        return "an empty body"
    if is_multipart(content_type) or not ("json" in content_type or content_type.startswith("text/")):
        return f"a {len(response.content)}-byte body"
    text = response.content.decode("utf-8", errors="replace").strip()
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def _plural(number: int, noun: str) -> str:
    if number == 1 and noun.endswith("ies"):
        noun = noun[:-3] + "y"
    elif number == 1 and noun.endswith("s"):
        noun = noun[:-1]
    return f"{number} {noun}"


def _describe_expected(status: Collection[int], content_type: str | None, parts: int | None,
                       part_type: str | None, count: int | None, of: str | None,
                       empty: bool | None) -> str:
    words = [" or ".join(f"{code} {phrase(code)}".strip() for code in status)]
    if content_type:
        words.append(content_type)
    if parts is not None:
        words.append(_plural(parts, "parts"))
    if part_type:
        words.append(f"parts of {part_type}")
    if count is not None:
        words.append(_plural(count, of or "items"))
    if empty:
        words.append("an empty body")
    return " · ".join(words)


def expect(response: requests.Response, status: int | Collection[int] = 200, *,
           content_type: str | None = None, parts: int | None = None, part_type: str | None = None,
           count: int | None = None,
           of: str | None = None, empty: bool | None = None, hint: str | None = None,
           quiet: bool = False) -> None:
    """Check an answer and print one line saying what came back.

    ``status`` is one code or several; ``content_type`` is the media type the response must have,
    with at least the parameters given (case-insensitive, in any order); ``parts`` is the number of
    multipart parts, ``part_type`` the media type each part must have; ``count`` the length of a JSON
    array answer; ``of`` names its items (e.g. "instances") and prints how many came back, when
    ``count`` is not given; ``empty`` says the body must be empty.
    ``hint`` replaces the usual advice printed when the check fails; ``quiet`` prints nothing when
    the check holds (for a check inside a loop or a function).
    """
    statuses = (status,) if isinstance(status, int) else tuple(status)
    actual_type = response.headers.get("Content-Type", "")
    problems = []
    if response.status_code not in statuses:
        problems.append(f"status {response.status_code}")
    if content_type and not _type_matches(actual_type, content_type):
        problems.append(f"Content-Type {_media_type(actual_type) or '(none)'}")
    found_parts = found_count = None
    part_types: list[str] = []
    if not problems and (parts is not None or part_type is not None):
        decoded = decode_body(response.content, actual_type) if is_multipart(actual_type) else []
        found_parts = len(decoded)
        part_types = sorted({_media_type(part.content_type or "") for part in decoded})
        if parts is not None and found_parts != parts:
            problems.append(_plural(found_parts, "parts"))
        elif part_type is not None and not all(_type_matches(part.content_type or "", part_type)
                                               for part in decoded):
            problems.append(f"parts of {', '.join(part_types) or 'no type'}")
    if not problems and response.content and "json" in actual_type.lower():
        try:
            answer = json.loads(response.content)
        except ValueError:
            problems.append("a body that is not JSON")
        else:
            if isinstance(answer, list):
                found_count = len(answer)
    if not problems and count is not None and found_count != count:
        problems.append(_plural(found_count or 0, of or "items"))
    if not problems and empty and response.content:
        problems.append(f"a {len(response.content)}-byte body")
    if problems:
        request = response.request
        where = f"{request.method} {request.path_url}: " if request is not None else ""
        advice = hint or HINTS.get(response.status_code, RERUN_HINT)
        raise CheckFailed(
            f"{where}expected {_describe_expected(statuses, content_type, parts, part_type, count, of, empty)}; "
            f"got {', '.join(problems)} ({response.status_code} {phrase(response.status_code)}, "
            f"{_excerpt(response)}). What to do: {advice}.")
    if quiet:
        return
    line = [f"{response.status_code} {phrase(response.status_code)}".rstrip()]
    if actual_type:
        line.append(_media_type(actual_type))
    if found_parts is not None:
        line.append(_plural(found_parts, "parts") + (f" of {', '.join(part_types)}" if part_types else ""))
    elif found_count is not None and (count is not None or of):
        line.append(_plural(found_count, of or "items"))
    elif not response.content:
        line.append("empty body")
    print(" · ".join(line))


def expect_value(what: str, actual: object, expected: object, hint: str | None = None,
                 quiet: bool = False) -> None:
    """Check that ``actual`` equals ``expected``; print ``what: actual`` (unless ``quiet``: a cell that
    prints its own table), or fail naming both."""
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}. "
                          f"What to do: {hint or RERUN_HINT}.")
    if not quiet:
        print(f"{what}: {actual}")
