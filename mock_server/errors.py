"""Error responses shaped like Azure's: plain-text messages, or an empty body where Azure sends none."""

from starlette.responses import Response

PLAIN_TEXT = "text/plain; charset=utf-8"


class DicomError(Exception):
    """An error that becomes an HTTP response; raise it anywhere in a request handler."""

    def __init__(self, status: int, message: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return error_response(self.status, self.message, self.headers)


def error_response(status: int, message: str = "", headers: dict[str, str] | None = None) -> Response:
    """Azure's ContentResult: ``text/plain; charset=utf-8`` with the message; no body if no message.

    A 5xx also says ``Connection: close``: the server closes the connection after it, and a client
    told so opens a new one for its next request instead of having a reused one reset.
    """
    if status >= 500:
        headers = {**(headers or {}), "Connection": "close"}
    if not message:
        return Response(status_code=status, headers=headers)
    return Response(message, status_code=status, media_type=PLAIN_TEXT, headers=headers)


def bad_request(message: str) -> DicomError:
    return DicomError(400, message)


def not_found(message: str = "The specified resource cannot be found.") -> DicomError:
    return DicomError(404, message)


def not_acceptable(message: str = "") -> DicomError:
    """406; Azure's Accept filter sends an empty body, the retrieve services send a message."""
    return DicomError(406, message)


def storage_full() -> DicomError:
    """507 when the emulator's disk is full (an emulator-only condition: Azure's storage scales)."""
    return DicomError(507, "The emulator's disk is full: the instances were not stored. Delete studies "
                           "or free disk space, then try again.")
