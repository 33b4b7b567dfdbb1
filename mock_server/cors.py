"""CORS as Azure's DICOM service answers it: ASP.NET Core's CorsMiddleware with the service's CORS settings.

Azure runs ``UseCors`` before authentication, exception handling and routing
(``DicomServerServiceCollectionExtensions.DicomServerStartupFilter``), so:

* every answer to a request with an allowed ``Origin`` carries ``Access-Control-Allow-Origin`` (the
  origin itself, with ``Vary: Origin``), 401s and 404s included;
* a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) never reaches
  authentication or routing: it is answered 204 with an empty body, with the CORS headers only when
  the origin, method and headers are allowed (ASP.NET Core's ``CorsService``);
* a request from an origin not allowed is served as usual, without CORS headers (the browser then
  refuses the answer to the page).

Azure's settings are allowed origins, headers and methods (each a list or ``*``), a max age and
"allow credentials". The emulator listens on loopback, so by default it allows any port of
``http://localhost`` and ``http://127.0.0.1``, any header and method, with a 10-minute max age.
"""

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENV_VAR = "DICOM_EMULATOR_CORS_ORIGINS"
DEFAULT_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")
# ASP.NET Core's CorsConstants: simple methods and request headers are left out of the Allow lists.
_SIMPLE_METHODS = {"GET", "HEAD", "POST"}
_SIMPLE_HEADERS = {"origin", "accept", "accept-language", "content-language"}


def _origin_pattern(origin: str) -> re.Pattern[str]:
    # "scheme://host:*" allows any port (and none); anything else is compared whole, ignoring case.
    if origin.endswith(":*"):
        return re.compile(re.escape(origin[:-2]) + r"(:[0-9]{1,5})?", re.IGNORECASE)
    return re.compile(re.escape(origin.rstrip("/")), re.IGNORECASE)


@dataclass(frozen=True)
class CorsPolicy:
    """Azure's CORS settings: origins, headers, methods (``*`` = any), max age, allow credentials."""

    origins: tuple[str, ...] = DEFAULT_ORIGINS
    headers: tuple[str, ...] = ("*",)
    methods: tuple[str, ...] = ("*",)
    max_age: int | None = 600
    allow_credentials: bool = False

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.origins or any(_origin_pattern(o).fullmatch(origin) for o in self.origins)

    def allow_origin_value(self, origin: str) -> tuple[str, bool]:
        """``Access-Control-Allow-Origin`` and whether ``Vary: Origin`` goes with it."""
        if "*" in self.origins and not self.allow_credentials:
            return "*", False
        return origin, True


def origins_from(cli_origins: Iterable[str] | None, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The allowed origins: ``--cors-origin`` values, else the environment variable, else loopback.

    ``none`` (alone) switches CORS off: an empty tuple. The variable holds origins separated by
    commas or white space.
    """
    values = list(cli_origins or [])
    if not values:
        env = (environ if environ is not None else os.environ).get(ENV_VAR, "")
        values = [v for v in re.split(r"[\s,]+", env) if v]
    if not values:
        return DEFAULT_ORIGINS
    if [v.lower() for v in values] == ["none"]:
        return ()
    return tuple(v.rstrip("/") if not v.endswith(":*") else v for v in values)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class Cors:
    """ASGI middleware applying ``policy`` (no policy origins: CORS off, nothing added)."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    def _origin_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        value, vary = self.policy.allow_origin_value(origin)
        out = [(b"access-control-allow-origin", value.encode("latin-1"))]
        if vary:
            out.append((b"vary", b"Origin"))
        if self.policy.allow_credentials:
            out.append((b"access-control-allow-credentials", b"true"))
        return out

    def _preflight_headers(self, origin: str, headers: Headers) -> list[tuple[bytes, bytes]]:
        p = self.policy
        method = headers["access-control-request-method"].strip()
        requested = _split(headers.get("access-control-request-headers"))
        if not p.allows_origin(origin):
            return []
        if "*" not in p.methods and method.upper() not in {m.upper() for m in p.methods}:
            return []
        if "*" not in p.headers:
            allowed = {h.lower() for h in p.headers} | _SIMPLE_HEADERS
            if any(h.lower() not in allowed for h in requested):
                return []
        out = self._origin_headers(origin)
        methods = [method] if "*" in p.methods else list(p.methods)
        methods = [m for m in methods if m.upper() not in _SIMPLE_METHODS]
        if methods:
            out.append((b"access-control-allow-methods", ",".join(methods).encode("latin-1")))
        allow_headers = requested if "*" in p.headers else list(p.headers)
        allow_headers = [h for h in allow_headers if h.lower() not in _SIMPLE_HEADERS]
        if allow_headers:
            out.append((b"access-control-allow-headers", ",".join(allow_headers).encode("latin-1")))
        if p.max_age is not None:
            out.append((b"access-control-max-age", str(p.max_age).encode("latin-1")))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.policy.origins:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await send({"type": "http.response.start", "status": 204,
                        "headers": self._preflight_headers(origin, headers)})
            await send({"type": "http.response.body", "body": b""})
            return
        extra = self._origin_headers(origin) if self.policy.allows_origin(origin) else []

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, receive, send_with_cors)
