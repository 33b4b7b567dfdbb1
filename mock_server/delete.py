"""DELETE of a study, series or instance (Azure-only, not part of DICOMweb)."""

import anyio
from starlette.requests import Request
from starlette.responses import Response

from .errors import not_found
from .storage import Store
from .wado import NOT_FOUND, level_of


async def delete(request: Request, study_uid: str, series_uid: str | None = None,
                 sop_uid: str | None = None) -> Response:
    """204 once every matching instance is deleted (each with a change-feed entry); 404 if none matched."""
    store: Store = request.app.state.store
    count = await anyio.to_thread.run_sync(store.delete, study_uid, series_uid, sop_uid, request.state.partition)
    if count == 0:
        raise not_found(NOT_FOUND[level_of(series_uid, sop_uid)])
    return Response(status_code=204)
