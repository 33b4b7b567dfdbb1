"""mock_server.connections with short timeouts, in process: a tiny ASGI app behind uvicorn and the
emulator's GuardedProtocol, and raw sockets that send what real clients rarely do (a header line that
never ends, a pipelined request behind a slow answer, a body that never comes)."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from mock_server.connections import protocol_class

SLOW = 1.5  # seconds the /slow answer takes, longer than the timeouts below
TIMEOUT = 1.0


async def app(scope, receive, send) -> None:  # noqa: ANN001 - a bare ASGI app
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":  # read the whole body, then answer
        while (await receive()).get("more_body"):
            pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
    if scope["path"] == "/slow":
        await send({"type": "http.response.body", "body": b"sl", "more_body": True})
        await asyncio.sleep(SLOW)
        await send({"type": "http.response.body", "body": b"ow"})
    else:
        await send({"type": "http.response.body", "body": b"fast"})


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off",
                            http=protocol_class(header_timeout=TIMEOUT, body_idle_timeout=TIMEOUT))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(10)


def read_until_closed(sock: socket.socket, limit: float = 10.0) -> tuple[bytes, float]:
    """Everything received until the server closes the connection, and how long that took."""
    start, data = time.monotonic(), b""
    sock.settimeout(limit)
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - start


def test_a_header_line_that_never_ends_gets_431(address) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 1024 * 1024:
                sock.sendall(b"a" * 4096)
                sent += 4096
                time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, _ = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:60]
    assert sent < 1024 * 1024  # refused long before a megabyte of header


def test_a_pipelined_request_waits_for_the_slow_answer_then_times_out(address) -> None:
    with socket.create_connection(address) as sock:
        # Request 2's head begins while request 1 is answered, and never ends.
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n")
        answer, took = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"\r\n\r\nslow" in answer  # not cut short at 1 s
    assert answer.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 408 " in answer
    assert SLOW + TIMEOUT * 0.8 < took < SLOW + TIMEOUT * 4


def test_a_pipelined_body_that_never_comes_times_out(address) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        answer, took = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"\r\n\r\nslow" in answer
    assert took < SLOW + TIMEOUT * 4  # closed, not left open for ever


def test_a_keep_alive_request_half_sent_after_an_answer_times_out(address) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\n")
        time.sleep(SLOW + 0.3)  # the first answer is complete; now one more byte of request 2
        sock.sendall(b"H")
        answer, took = read_until_closed(sock)
    assert b"\r\n\r\nslow" in answer and b"HTTP/1.1 408 " in answer
    assert took < TIMEOUT * 4
