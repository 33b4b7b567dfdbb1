"""HTTP connection limits uvicorn lacks: a request-header timeout, a body idle timeout and a cap on
open connections (Kestrel has all three: RequestHeadersTimeout, MinRequestBodyDataRate,
MaxConcurrentConnections).

Without them a client that opens sockets and sends nothing keeps each open for ever, and about a
thousand such sockets use up the process's file descriptors.
"""

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 30.0  # Kestrel's RequestHeadersTimeout
BODY_IDLE_TIMEOUT = 60.0


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


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits above (set by ``protocol_class``)."""

    header_timeout = HEADER_TIMEOUT
    body_idle_timeout = BODY_IDLE_TIMEOUT
    max_connections = 1000
    _read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(BUSY)
            transport.close()
            return
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._read_timer is None:
                self._arm(self.header_timeout)  # a new request began: the time runs from its first byte
        elif state is h11.SEND_BODY:
            self._arm(self.body_idle_timeout)  # restarted by every chunk of the body
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        # uvicorn's keep-alive timeout takes over until the next request begins.
        self._disarm()
        super().on_response_complete()

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
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(TIMED_OUT)  # nothing of a response is on the wire yet
        self.transport.close()


def protocol_class(header_timeout: float = HEADER_TIMEOUT, body_idle_timeout: float = BODY_IDLE_TIMEOUT,
                   max_connections: int | None = None) -> type[GuardedH11Protocol]:
    """A GuardedH11Protocol subclass with these limits, for ``uvicorn.Config(http=...)``."""
    return type("EmulatorH11Protocol", (GuardedH11Protocol,), {
        "header_timeout": header_timeout, "body_idle_timeout": body_idle_timeout,
        "max_connections": max_connections or default_max_connections(),
    })
