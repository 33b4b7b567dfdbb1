"""Azure's data partitions: the ``/partitions/{name}/`` route segment, its checks, and ``GET /partitions``.

Off by default, as on Azure (``DicomServer:Features:EnableDataPartitions``). Mirrors, without their
code, Microsoft's PopulateDataPartitionFilterAttribute.cs (the filter every STOW, WADO, QIDO and
DELETE action runs), PartitionService.cs, PartitionNameValidator.cs and PartitionController.cs:

* partitions off and a partition in the path: 400 "Data partitions feature is disabled.";
* partitions on and none in the path: 400 "PartitionName value is missing in the route segment.";
* a name that is not 1-64 characters of ``[A-Za-z0-9_.-]``: 400 "The specified PartitionName is invalid. ";
* STOW creates the partition (after a Write role check: GetOrAddPartitionHandler); every other
  action needs it to exist (after a Read role check: GetPartitionHandler), else 400 "Specified
  PartitionName does not exist.".

The change feed stays at the base URL and reads every partition.
"""

import os
import re

import anyio
from starlette.requests import Request
from starlette.responses import Response

from .auth import Principal, authorize, authorize_partition
from .errors import DicomError, bad_request, storage_full
from .responses import JSONResponse
from .storage import DEFAULT_PARTITION, Partition, Store, StorageFull

ENV_VAR = "DicomServer__Features__EnableDataPartitions"
"""The environment variable of Azure's own setting (ASP.NET configuration: ``:`` becomes ``__``)."""

FEATURE_DISABLED = "Data partitions feature is disabled."  # DicomCoreResource.DataPartitionsFeatureDisabled
MISSING_PARTITION = "PartitionName value is missing in the route segment."  # DataPartitionsMissingPartition
NOT_FOUND = "Specified PartitionName does not exist."  # DicomCoreResource.DataPartitionNotFound
INVALID_NAME = "The specified PartitionName is invalid. "  # DicomCoreResource.InvalidPartitionName (its space)
CANNOT_DISABLE = ("Data partitions feature cannot be disabled while existing data has already been "
                  "partitioned.")  # DicomCoreResource.DataPartitionFeatureCannotBeDisabled
MAX_NAME_LENGTH = 64
# PartitionNameValidator's pattern; like .NET's, Python's "$" also matches before a final newline.
_NAME = re.compile(r"^[A-Za-z0-9_.-]*$")


def enabled_from_env(value: str | None = None) -> bool:
    """Whether ``$DicomServer__Features__EnableDataPartitions`` switches partitions on (``true``, any case)."""
    value = os.environ.get(ENV_VAR) if value is None else value
    return (value or "").strip().lower() == "true"


def check_name(name: str) -> None:
    """PartitionNameValidator: 400 unless ``name`` is 1-64 characters of letters, digits, ``_``, ``.``, ``-``."""
    if not name.strip() or len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        raise bad_request(INVALID_NAME)


def _resolve(store: Store, name: str, create: bool) -> Partition:
    check_name(name)
    if create:
        try:
            return store.get_or_add_partition(name)
        except StorageFull:
            raise storage_full() from None
    with store.snapshot() as snap:
        partition = snap.partition(name)
    if partition is None:
        raise bad_request(NOT_FOUND)
    return partition


async def select(request: Request, principal: Principal, name: str | None, create: bool) -> str:
    """The partition a request works in (its stored name), after Azure's partition filter checks.

    ``name`` is the route's partition segment (None on a route without one); ``create`` for STOW.
    """
    enabled: bool = request.app.state.partitions_enabled
    if not enabled:
        if name is not None:
            raise bad_request(FEATURE_DISABLED)
        return DEFAULT_PARTITION
    if name is None:
        raise bad_request(MISSING_PARTITION)
    authorize(principal, write=create)
    authorize_partition(principal, name)  # the emulator's classroom tokens only
    partition = await anyio.to_thread.run_sync(_resolve, request.app.state.store, name, create)
    return partition.name


def _entry(partition: Partition) -> dict:
    # Partition.cs: explicit partitionKey/partitionName, CreatedDate camel-cased by MVC's serializer.
    return {"partitionKey": partition.key, "partitionName": partition.name, "createdDate": partition.created}


def _all(store: Store) -> list[Partition]:
    with store.snapshot() as snap:
        return snap.partitions()


def check_enabled(request: Request) -> None:
    """PartitionController: 400 when the feature is off, before the handler's Read role check."""
    if not request.app.state.partitions_enabled:
        raise DicomError(400, FEATURE_DISABLED)


async def list_partitions(request: Request) -> Response:
    """``GET /partitions``: every partition, ``Microsoft.Default`` included (it always exists).

    Microsoft's docs list a 204 for no partitions; the controller answers 200 with the list, and
    Microsoft.Default is created with the database, so the list is never empty.
    """
    partitions = await anyio.to_thread.run_sync(_all, request.app.state.store)
    return JSONResponse([_entry(p) for p in partitions])
