"""The emulator's HTTP/1.1 connections: uvicorn's httptools protocol with the limits uvicorn lacks, a
request-header timeout, a body idle timeout, a cap on open connections and on the size of the request
line and headers (Kestrel has them all: RequestHeadersTimeout, MinRequestBodyDataRate,
MaxConcurrentConnections, MaxRequestLineSize, MaxRequestHeadersTotalSize).

Without them a client that opens sockets and sends nothing keeps each open for ever, and about a
thousand such sockets use up the process's file descriptors; a client that sends headers without end
fills the server's memory. httptools (llhttp, the parser of Node.js) rather than h11: it parses in C,
which took about a fifth off the server's CPU time for a small WADO or metadata request here (README).
"""

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 30.0  # Kestrel's RequestHeadersTimeout
BODY_IDLE_TIMEOUT = 60.0
MAX_REQUEST_LINE = 8 * 1024  # Kestrel's MaxRequestLineSize: longer targets get 414
MAX_HEADER_BYTES = 32 * 1024  # Kestrel's MaxRequestHeadersTotalSize: more gets 431


def default_max_connections() -> int:
    """Half the file-descriptor limit (the rest are for data files and the index), at most 1000."""
    try:
        import resource  # not on Windows
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            soft = 4096
    except (ImportError, OSError, ValueError):
        soft = 1024
    return max(16, min(1000, soft // 2))


def _plain(status: bytes, text: str, extra: bytes = b"") -> bytes:
    body = text.encode()
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


BUSY = _plain(b"503 Service Unavailable", "The emulator has too many open connections; try again shortly.",
              b"Retry-After: 1\r\n")
TIMED_OUT = _plain(b"408 Request Timeout", "The request was not received in time.")


TOO_LONG = _plain(b"414 URI Too Long", "The request line is too long.")
TOO_LARGE = _plain(b"431 Request Header Fields Too Large", "The request headers are too large.")


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; httptools turns it into an HttpParserError."""


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above (set by ``protocol_class``).

    ``_reading`` follows the request being read: "idle" between requests, "head" from its first byte
    to the end of its headers, "body" until its end. Its timer runs while it is "head" or "body" and
    no earlier response is still going out (a pipelined request waits for that one, and uvicorn
    stops reading meanwhile); between requests uvicorn's keep-alive timeout applies.
    """

    header_timeout = HEADER_TIMEOUT
    body_idle_timeout = BODY_IDLE_TIMEOUT
    max_connections = 1000
    _read_timer: asyncio.TimerHandle | None = None
    _reading = "idle"
    _line_bytes = 0
    _header_bytes = 0
    _head_bytes = 0  # every byte received while reading a head, finished header lines or not
    _heads = 0  # heads begun on this connection
    _refusal: bytes | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(BUSY)
            transport.close()
            return
        self._arm(self.header_timeout)  # a connection that sends nothing is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        begun = self._heads
        super().data_received(data)
        if self._reading == "head" and self._heads == begun and not self.transport.is_closing():
            # httptools reports a header only once its line ends: count the bytes themselves, so a
            # header line that never ends cannot grow without bound either. A chunk in which this head
            # began is not counted (it may hold the end of the request before); it is one read at most.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_REQUEST_LINE + MAX_HEADER_BYTES:
                self._refuse_now(TOO_LARGE)

    # The parser's callbacks, in the order a request arrives.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading = "head"
        self._heads += 1
        self._line_bytes = self._header_bytes = self._head_bytes = 0
        if self._read_timer is None:
            self._arm(self.header_timeout)  # a new request began: the time runs from its first byte

    def on_url(self, url: bytes) -> None:
        self._line_bytes += len(url)
        self._refuse_if(self._line_bytes > MAX_REQUEST_LINE, TOO_LONG)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        self._refuse_if(self._header_bytes > MAX_HEADER_BYTES, TOO_LARGE)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading = "body"
        self._arm(self.body_idle_timeout)  # a body may follow; on_message_complete disarms at once if not
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._arm(self.body_idle_timeout)  # restarted by every chunk of the body
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._reading = "idle"
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self._reading == "idle":
            self._disarm()  # uvicorn's keep-alive timeout takes over until the next request begins
        else:
            # The next request was already arriving; its time runs afresh now that it is read again.
            self._arm(self.header_timeout if self._reading == "head" else self.body_idle_timeout)
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error with 400; a limit this class enforced gets its own answer.
        if self._refusal is None:
            super().send_400_response(msg)
            return
        self._refuse_now(self._refusal)

    def _refuse_if(self, over: bool, refusal: bytes) -> None:
        if over:
            self._refusal = refusal
            raise _Refused

    def _refuse_now(self, refusal: bytes) -> None:
        if not self._answering_earlier():
            self.transport.write(refusal)  # otherwise it would land inside the earlier response
        self.transport.close()

    def _answering_earlier(self) -> bool:
        """Whether the response to an earlier request is still going out while this one is read."""
        if self.pipeline:
            return True  # a request waits in line behind the one being answered
        cycle = self.cycle
        return self._reading == "head" and cycle is not None and not cycle.response_complete

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if self._answering_earlier():
            # The request waits for the earlier response (uvicorn reads nothing meanwhile): its time
            # starts again once that response is complete (on_response_complete re-arms it).
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(TIMED_OUT)  # nothing of a response is on the wire yet
        self.transport.close()


def protocol_class(header_timeout: float = HEADER_TIMEOUT, body_idle_timeout: float = BODY_IDLE_TIMEOUT,
                   max_connections: int | None = None) -> type[GuardedProtocol]:
    """A GuardedProtocol subclass with these limits, for ``uvicorn.Config(http=...)``."""
    return type("EmulatorProtocol", (GuardedProtocol,), {
        "header_timeout": header_timeout, "body_idle_timeout": body_idle_timeout,
        "max_connections": max_connections or default_max_connections(),
    })
