"""The Starlette application: Azure's versioned routes, authentication and error mapping."""

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from . import changefeed, delete, frames, qido, stow, wado
from .auth import authenticate, authorize
from .cors import Cors, CorsPolicy
from .errors import DicomError, error_response
from .paths import AspNetPaths
from .qido_tags import Level
from .storage import Store
from .uids import check_uid
from .versions import SUPPORTED_HEADER, SUPPORTED_VALUE, api_version

DEFAULT_MAX_REQUEST_BYTES = 2 * 1024**3  # Azure's 2 GB STOW limit

Handler = Callable[..., Awaitable[Response]]
# Route parameter -> (handler keyword, attribute named in the 400 for a bad UID).
_PATH_UIDS = {
    "study": ("study_uid", "StudyInstanceUid"),
    "series": ("series_uid", "SeriesInstanceUid"),
    "instance": ("sop_uid", "SopInstanceUid"),
}


def endpoint(handler: Handler, write: bool = False,
             before_role: Callable[[Request], None] | None = None) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: API version, base URL, authentication, authorization and path-UID checks.

    Azure checks the role in the handler, after its action filters: ``before_role`` runs such a filter
    (STOW's Accept filter) between authentication and the role check. Every answer after
    authentication carries ``api-supported-versions``.

    The handler is called with the request and the validated study/series/instance UIDs (as keyword
    arguments ``study_uid``, ``series_uid``, ``sop_uid`` when the route has them) plus any other
    path parameters.
    """

    async def wrapped(request: Request) -> Response:
        params = dict(request.path_params)
        segment = params.pop("version")
        version = api_version(segment)
        if version is None:
            return Response(status_code=404)  # Azure: unknown API versions have no route
        request.state.api_version = version
        # RetrieveURL keeps the version segment as requested (e.g. v1.0-prerelease); assumed from Azure's
        # UrlResolver, which builds it from the request's route values.
        request.state.base_url = f"{str(request.base_url).rstrip('/')}/{segment.lower()}"
        # Repeated Authorization headers are joined, as ASP.NET Core does: then no token validates (401).
        authorization = ", ".join(request.headers.getlist("authorization")) or None
        principal = authenticate(authorization, request.app.state.secret)
        try:
            if before_role is not None:
                before_role(request)
            authorize(principal, write)
            kwargs = {}
            for key, (keyword, name) in _PATH_UIDS.items():
                if key in params:
                    kwargs[keyword] = check_uid(params.pop(key), name)
            kwargs.update(params)
            response = await handler(request, **kwargs)
        except DicomError as error:
            error.headers.setdefault(SUPPORTED_HEADER, SUPPORTED_VALUE)
            raise
        response.headers.setdefault(SUPPORTED_HEADER, SUPPORTED_VALUE)
        return response

    return wrapped


def _qido(level: Level) -> Handler:
    async def call(request: Request, study_uid: str | None = None, series_uid: str | None = None) -> Response:
        return await qido.search(request, level=level, study_uid=study_uid, series_uid=series_uid)

    return call


def routes() -> list[Route]:
    """Every route under ``/{version}``; the version itself is checked by ``endpoint``."""
    v = "/{version}"
    study = v + "/studies/{study}"
    series = study + "/series/{series}"
    instance = series + "/instances/{instance}"
    get, post, delete_ = ["GET"], ["POST"], ["DELETE"]
    table = [
        Route(v + "/studies", endpoint(stow.stow, write=True, before_role=stow.check_filters), methods=post),
        Route(study, endpoint(stow.stow, write=True, before_role=stow.check_filters), methods=post),
        Route(v + "/studies", endpoint(_qido("study")), methods=get),
        Route(v + "/series", endpoint(_qido("series")), methods=get),
        Route(v + "/instances", endpoint(_qido("instance")), methods=get),
        Route(study + "/series", endpoint(_qido("series")), methods=get),
        Route(study + "/instances", endpoint(_qido("instance")), methods=get),
        Route(series + "/instances", endpoint(_qido("instance")), methods=get),
        Route(v + "/changefeed", endpoint(changefeed.changefeed), methods=get),
        Route(v + "/changefeed/latest", endpoint(changefeed.changefeed_latest), methods=get),
        Route(study, endpoint(wado.retrieve), methods=get),
        Route(series, endpoint(wado.retrieve), methods=get),
        Route(instance, endpoint(wado.retrieve), methods=get),
        Route(study + "/metadata", endpoint(wado.metadata), methods=get),
        Route(series + "/metadata", endpoint(wado.metadata), methods=get),
        Route(instance + "/metadata", endpoint(wado.metadata), methods=get),
        Route(instance + "/frames/{frame_list}", endpoint(frames.frames), methods=get),
        Route(instance + "/rendered", endpoint(frames.rendered), methods=get),
        Route(instance + "/frames/{frame}/rendered", endpoint(frames.rendered), methods=get),
        Route(study, endpoint(delete.delete, write=True), methods=delete_),
        Route(series, endpoint(delete.delete, write=True), methods=delete_),
        Route(instance, endpoint(delete.delete, write=True), methods=delete_),
    ]
    for route in table:
        # Starlette answers HEAD on GET routes; ASP.NET Core's [HttpGet] does not (405).
        assert route.methods is not None  # every route of the table names its methods
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
    return error_response(500, "The server encountered an internal error. Please retry the request. If the issue "
                               "persists, please contact support.")  # DicomApiResource.InternalServerError


class _EmulatorApp(Starlette):
    """Starlette with CORS outermost, around even the 500 handler: Azure's UseCors runs before its
    exception handling, so every answer carries the CORS headers."""

    def build_middleware_stack(self):  # noqa: ANN201 - Starlette's own signature
        return Cors(super().build_middleware_stack(), self.state.cors)


def create_app(store: Store, secret: bytes, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
               cors: CorsPolicy | None = None) -> Starlette:
    """The emulator's ASGI app over ``store``, accepting tokens signed with ``secret``.

    ``cors`` defaults to the loopback-origins policy (``cors.CorsPolicy()``).
    """
    app = _EmulatorApp(
        routes=routes(),
        exception_handlers={DicomError: _dicom_error, HTTPException: _http_error, Exception: _unexpected},
        middleware=[Middleware(AspNetPaths)],
    )
    app.router.redirect_slashes = False  # AspNetPaths already ignores one trailing slash, as ASP.NET Core
    app.state.store = store
    app.state.secret = secret
    app.state.max_request_bytes = max_request_bytes
    app.state.cors = cors if cors is not None else CorsPolicy()
    return app
