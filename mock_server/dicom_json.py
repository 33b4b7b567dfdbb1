"""DICOM JSON (PS3.18 F.2) as Azure's WADO metadata writes it.

Tags ascending, no bulk-data VRs (OB, OD, OF, OL, OV, OW, UN: no BulkDataURI, no InlineBinary),
IS and DS as JSON numbers, empty elements as ``{"vr": "XX"}``, PN as ``{"Alphabetic": ...}``.
Deferred (large) values are never read just to be skipped.
"""

from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

BULK_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW", "US or SS or OW"})


def element_vr(ds: Dataset, tag: BaseTag) -> str:
    """The VR of a (possibly raw, possibly implicit-VR) element without reading its value."""
    elem = ds.get_item(tag, keep_deferred=True)
    vr = elem.VR if elem is not None else None
    if vr:
        return str(vr)
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def element_json(ds: Dataset, tag: BaseTag) -> dict[str, Any]:
    """The DICOM JSON of one non-bulk element; raises on values that cannot be decoded."""
    elem = ds[tag]
    if elem.VR == "SQ":
        items = [dataset_json(item)[0] for item in elem.value or []]
        return {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}
    result = elem.to_json_dict(bulk_data_element_handler=None, bulk_data_threshold=2**62)
    if "InlineBinary" in result or "BulkDataURI" in result:
        raise ValueError("binary value")
    return result


def dataset_json(ds: Dataset, drop: set[BaseTag] | None = None) -> tuple[dict[str, Any], list[BaseTag]]:
    """(DICOM JSON of ``ds``, tags that could not be converted and were left out).

    Group lengths and tags in ``drop`` are left out too (the latter silently).
    """
    out: dict[str, Any] = {}
    bad: list[BaseTag] = []
    for tag in sorted(ds.keys()):
        if tag.element == 0 or (drop and tag in drop):
            continue
        if element_vr(ds, tag) in BULK_VRS:
            continue
        try:
            out[f"{tag:08X}"] = element_json(ds, tag)
        except Exception:  # noqa: BLE001 - any undecodable value is reported, not fatal
            bad.append(tag)
    return out, bad
