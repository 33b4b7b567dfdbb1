"""The Starlette application: Azure's versioned routes, authentication and error mapping."""

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from . import changefeed, delete, frames, partitions, qido, rendered, stow, wado
from .auth import authenticate, authorize
from .cors import Cors, CorsPolicy
from .errors import DicomError, error_response
from .paths import AspNetPaths
from .qido_tags import Level
from .storage import Store
from .transcode import MAX_TRANSCODE_BYTES
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
             before_role: Callable[[Request], None] | None = None,
             partitioned: bool = False, creates_partition: bool = False,
             before_partition: Callable[[Request], None] | None = None,
             ) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: API version, base URL, authentication, data partition, authorization and path-UID checks.

    Azure checks the role in the handler, after its filters, which run in this order: resource filters
    (``before_partition``: STOW's Consumes), the controller's data-partition filter (``partitioned``:
    STOW, WADO, QIDO and DELETE; ``partitions.select``, creating the partition for STOW with
    ``creates_partition``), then action filters (``before_role``: STOW's Accept filter). Every answer
    after authentication carries ``api-supported-versions``.

    The handler is called with the request and the validated study/series/instance UIDs (as keyword
    arguments ``study_uid``, ``series_uid``, ``sop_uid`` when the route has them) plus any other
    path parameters.
    """

    async def wrapped(request: Request) -> Response:
        params = dict(request.path_params)
        segment = params.pop("version")
        partition_segment = params.pop("partition", None)
        version = api_version(segment)
        if version is None:
            return Response(status_code=404)  # Azure: unknown API versions have no route
        request.state.api_version = version
        # RetrieveURL keeps the version segment as requested (e.g. v1.0-prerelease); assumed from Azure's
        # UrlResolver, which builds it from the request's route values.
        request.state.base_url = f"{str(request.base_url).rstrip('/')}/{segment.lower()}"
        if partition_segment is not None:
            # UrlResolver adds the partition route value, the name as the request spelled it.
            request.state.base_url += f"/partitions/{partition_segment}"
        request.state.partition = partitions.DEFAULT_PARTITION
        # Repeated Authorization headers are joined, as ASP.NET Core does: then no token validates (401).
        authorization = ", ".join(request.headers.getlist("authorization")) or None
        principal = authenticate(authorization, request.app.state.secret)
        try:
            if before_partition is not None:
                before_partition(request)
            if partitioned:
                request.state.partition = await partitions.select(request, principal, partition_segment,
                                                                  creates_partition)
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


def _transactions(v: str) -> list[Route]:
    """The STOW, QIDO, WADO and DELETE routes under ``v`` (the version, or version and partition)."""
    study = v + "/studies/{study}"
    series = study + "/series/{series}"
    instance = series + "/instances/{instance}"
    get, post, delete_ = ["GET"], ["POST"], ["DELETE"]

    def read(handler: Handler) -> Handler:
        return endpoint(handler, partitioned=True)

    def store() -> Handler:
        return endpoint(stow.stow, write=True, partitioned=True, creates_partition=True,
                        before_partition=stow.check_consumes, before_role=stow.check_accept)

    return [
        Route(v + "/studies", store(), methods=post),
        Route(study, store(), methods=post),
        Route(v + "/studies", read(_qido("study")), methods=get),
        Route(v + "/series", read(_qido("series")), methods=get),
        Route(v + "/instances", read(_qido("instance")), methods=get),
        Route(study + "/series", read(_qido("series")), methods=get),
        Route(study + "/instances", read(_qido("instance")), methods=get),
        Route(series + "/instances", read(_qido("instance")), methods=get),
        Route(study, read(wado.retrieve), methods=get),
        Route(series, read(wado.retrieve), methods=get),
        Route(instance, read(wado.retrieve), methods=get),
        Route(study + "/metadata", read(wado.metadata), methods=get),
        Route(series + "/metadata", read(wado.metadata), methods=get),
        Route(instance + "/metadata", read(wado.metadata), methods=get),
        Route(instance + "/frames/{frame_list}", read(frames.frames), methods=get),
        Route(instance + "/rendered", read(rendered.rendered), methods=get),
        Route(instance + "/frames/{frame}/rendered", read(rendered.rendered), methods=get),
        Route(study, endpoint(delete.delete, write=True, partitioned=True), methods=delete_),
        Route(series, endpoint(delete.delete, write=True, partitioned=True), methods=delete_),
        Route(instance, endpoint(delete.delete, write=True, partitioned=True), methods=delete_),
    ]


def routes() -> list[Route]:
    """Every route under ``/{version}``; the version itself is checked by ``endpoint``.

    Azure registers each transaction twice (VersionedRoute and VersionedPartitionRoute), with partitions
    on or off; the data-partition filter then answers 400 for the one that does not fit. The change
    feed and ``/partitions`` itself stay at the base URL.
    """
    v = "/{version}"
    get = ["GET"]
    table = [
        *_transactions(v),
        *_transactions(v + "/partitions/{partition}"),
        Route(v + "/partitions", endpoint(partitions.list_partitions, before_role=partitions.check_enabled),
              methods=get),
        Route(v + "/changefeed", endpoint(changefeed.changefeed), methods=get),
        Route(v + "/changefeed/latest", endpoint(changefeed.changefeed_latest), methods=get),
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
               cors: CorsPolicy | None = None, max_transcode_bytes: int = MAX_TRANSCODE_BYTES,
               partitions_enabled: bool = False) -> Starlette:
    """The emulator's ASGI app over ``store``, accepting tokens signed with ``secret``.

    ``cors`` defaults to the loopback-origins policy (``cors.CorsPolicy()``); files above
    ``max_transcode_bytes`` are served only as stored (Azure's MaxDicomFileSize);
    ``partitions_enabled`` switches on Azure's data partitions (off by default, as on Azure).
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
    app.state.max_transcode_bytes = max_transcode_bytes
    app.state.partitions_enabled = partitions_enabled
    app.state.cors = cors if cors is not None else CorsPolicy()
    return app
