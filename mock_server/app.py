"""The Starlette application: Azure's versioned routes, authentication and error mapping."""

import importlib
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from . import delete, frames, stow, wado
from .auth import authenticate, authorize
from .errors import DicomError, error_response
from .paths import AspNetPaths
from .storage import Store
from .uids import check_uid

VERSIONS = {"v1": 1, "v2": 2}
DEFAULT_MAX_REQUEST_BYTES = 2 * 1024**3  # Azure's 2 GB STOW limit

Handler = Callable[..., Awaitable[Response]]
_UID_NAMES = {"study": "StudyInstanceUID", "series": "SeriesInstanceUID", "instance": "SOPInstanceUID"}


def endpoint(handler: Handler, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: API version, base URL, authentication, authorization and path-UID checks.

    The handler is called with the request and the validated study/series/instance UIDs (as keyword
    arguments ``study_uid``, ``series_uid``, ``sop_uid`` when the route has them) plus any other
    path parameters.
    """

    async def wrapped(request: Request) -> Response:
        params = dict(request.path_params)
        version = VERSIONS.get(params.pop("version"))
        if version is None:
            return Response(status_code=404)  # Azure: unknown API versions have no route
        request.state.api_version = version
        request.state.base_url = f"{str(request.base_url).rstrip('/')}/v{version}"
        authorize(authenticate(request.headers.get("authorization"), request.app.state.secret), write)
        kwargs = {}
        for key, name in _UID_NAMES.items():
            if key in params:
                kwargs[{"study": "study_uid", "series": "series_uid", "instance": "sop_uid"}[key]] = check_uid(
                    params.pop(key), name)
        kwargs.update(params)
        return await handler(request, **kwargs)

    return wrapped


def _lazy(module: str, function: str) -> Handler:
    """A handler from a module that may not exist yet in this checkout (imported on first use)."""

    async def call(request: Request, **kwargs) -> Response:
        try:
            mod = importlib.import_module(f"mock_server.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mock_server.{module}":
                raise
            raise DicomError(501, f"'{module}' is not implemented in this build of the emulator.") from None
        return await getattr(mod, function)(request, **kwargs)

    return call


def _qido(level: str) -> Handler:
    search = _lazy("qido", "search")

    async def call(request: Request, study_uid: str | None = None, series_uid: str | None = None) -> Response:
        return await search(request, level=level, study_uid=study_uid, series_uid=series_uid)

    return call


async def _stow(request: Request, study_uid: str | None = None) -> Response:
    return await stow.stow(request, study_uid)


async def _rendered(request: Request, study_uid: str, series_uid: str, sop_uid: str,
                    frame: str | None = None) -> Response:
    return await frames.rendered(request, study_uid, series_uid, sop_uid, frame)


async def _frames(request: Request, study_uid: str, series_uid: str, sop_uid: str, frames_list: str) -> Response:
    return await frames.frames(request, study_uid, series_uid, sop_uid, frames_list)


def routes() -> list[Route]:
    v = "/{version}"
    study = v + "/studies/{study}"
    series = study + "/series/{series}"
    instance = series + "/instances/{instance}"
    get, post, delete_ = ["GET"], ["POST"], ["DELETE"]
    table = [
        Route(v + "/studies", endpoint(_stow, write=True), methods=post),
        Route(study, endpoint(_stow, write=True), methods=post),
        Route(v + "/studies", endpoint(_qido("study")), methods=get),
        Route(v + "/series", endpoint(_qido("series")), methods=get),
        Route(v + "/instances", endpoint(_qido("instance")), methods=get),
        Route(study + "/series", endpoint(_qido("series")), methods=get),
        Route(study + "/instances", endpoint(_qido("instance")), methods=get),
        Route(series + "/instances", endpoint(_qido("instance")), methods=get),
        Route(v + "/changefeed", endpoint(_lazy("changefeed", "changefeed")), methods=get),
        Route(v + "/changefeed/latest", endpoint(_lazy("changefeed", "changefeed_latest")), methods=get),
        Route(study, endpoint(wado.retrieve), methods=get),
        Route(series, endpoint(wado.retrieve), methods=get),
        Route(instance, endpoint(wado.retrieve), methods=get),
        Route(study + "/metadata", endpoint(wado.metadata), methods=get),
        Route(series + "/metadata", endpoint(wado.metadata), methods=get),
        Route(instance + "/metadata", endpoint(wado.metadata), methods=get),
        Route(instance + "/frames/{frames_list}", endpoint(_frames), methods=get),
        Route(instance + "/rendered", endpoint(_rendered), methods=get),
        Route(instance + "/frames/{frame}/rendered", endpoint(_rendered), methods=get),
        Route(study, endpoint(delete.delete, write=True), methods=delete_),
        Route(series, endpoint(delete.delete, write=True), methods=delete_),
        Route(instance, endpoint(delete.delete, write=True), methods=delete_),
    ]
    for route in table:
        # Starlette answers HEAD on GET routes; ASP.NET Core's [HttpGet] does not (405).
        route.methods.discard("HEAD")
    return table


async def _dicom_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DicomError)
    return exc.response()


_METHOD_ORDER = ("GET", "POST", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path, as ASP.NET Core's 405 lists them in ``Allow``."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods, key=lambda m: (_METHOD_ORDER + (m,)).index(m)))


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown routes and methods: status only, empty body, like Azure's routing.
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return Response(status_code=exc.status_code, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this response is sent, so the server logs its traceback.
    return error_response(500, "An unexpected error occurred while processing the request.")


def create_app(store: Store, secret: bytes, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> Starlette:
    """The emulator's ASGI app over ``store``, accepting tokens signed with ``secret``."""
    app = Starlette(
        routes=routes(),
        exception_handlers={DicomError: _dicom_error, HTTPException: _http_error, Exception: _unexpected},
        middleware=[Middleware(AspNetPaths)],
    )
    app.router.redirect_slashes = False  # AspNetPaths already ignores one trailing slash, as ASP.NET Core
    app.state.store = store
    app.state.secret = secret
    app.state.max_request_bytes = max_request_bytes
    return app
