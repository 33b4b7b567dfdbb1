"""Fakes for the helper tests: a transport adapter that answers requests without a network."""

from collections.abc import Callable

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


def _make_response(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
                  request: requests.PreparedRequest | None = None) -> requests.Response:
    """A requests.Response built by hand, as a server would have sent it."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers = CaseInsensitiveDict(headers or {})
    response.request = request
    response.url = request.url if request else ""
    return response


class FakeAdapter(BaseAdapter):
    """Records every request and answers with ``handler(request)``."""

    def __init__(self, handler: Callable[[requests.PreparedRequest], requests.Response]) -> None:
        super().__init__()
        self.handler = handler
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        response = self.handler(request)
        response.request = request
        response.url = request.url
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def make_response() -> Callable[..., requests.Response]:
    """Build a requests.Response by hand: make_response(status, body, headers)."""
    return _make_response


@pytest.fixture
def fake_server() -> Callable[[requests.Session, Callable], FakeAdapter]:
    """Mount a FakeAdapter on a session for http:// and https:// URLs."""

    def mount(session: requests.Session, handler: Callable) -> FakeAdapter:
        adapter = FakeAdapter(handler)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return adapter

    return mount
