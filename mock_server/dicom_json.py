"""DICOM JSON (PS3.18 F.2) as Azure's WADO metadata writes it.

Tags ascending, no bulk-data VRs (OB, OD, OF, OL, OV, OW, UN: no BulkDataURI, no InlineBinary),
IS and DS as JSON numbers, empty elements as ``{"vr": "XX"}``, PN as ``{"Alphabetic": ...}``.
Deferred (large) values are never read just to be skipped.

pydicom's own conversion (``DataElement.to_json_dict``) is the reference. The common elements of a
STOW (ASCII text, well-formed numbers, little-endian binary numbers) are converted straight from the
bytes read instead, with the same result at a tenth of the cost (``tests/unit/test_dicom_json.py``
compares the two on random values of every such VR); anything else goes through pydicom.
"""

import re
import struct
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import _LUT_DESCRIPTOR_TAGS, BaseTag

BULK_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW", "US or SS or OW"})

# How pydicom's converters (pydicom.values) read each text VR, when the bytes are ASCII:
_SPLIT_THEN_RSTRIP = frozenset({"AS", "CS", "DA", "DT", "TM"})  # multi_string: rstrip(" \0"), split
_EACH_RSTRIPPED = frozenset({"SH", "LO", "UC"})  # convert_text: split, each rstrip("\0 ")
_SINGLE_RSTRIPPED = frozenset({"LT", "ST", "UT"})  # convert_single_string: rstrip("\0 ")
_BINARY = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d", "SV": "q", "UV": "Q"}
_FAST_VRS = (_SPLIT_THEN_RSTRIP | _EACH_RSTRIPPED | _SINGLE_RSTRIPPED | set(_BINARY)
             | {"AE", "UI", "UR", "PN", "IS", "DS"})
# VRs whose text the Specific Character Set decodes: read here only under a plain one (below).
_CHARSET_VRS = frozenset({"SH", "LO", "UC", "LT", "ST", "UT", "PN"})
# Character sets in which ASCII bytes read as pydicom reads them (under ISO 2022 ones, pydicom treats
# some ASCII PN values apart); the empty value is the default repertoire.
_PLAIN_CHARSETS = frozenset({"", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192"})
_CHARSET = BaseTag(0x00080005)
# Values that IS and DS read as Python's int and float read them (IS: at most 15 digits, which
# pydicom's float round trip keeps exact); anything else goes through pydicom.
_IS = re.compile(r" *[+-]?[0-9]{1,15} *")
_DS = re.compile(r" *[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *")


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


def plain_charset(ds: Dataset, inherited: bool = True) -> bool:
    """Whether ``ds``'s Specific Character Set (or, when it has none, its parent's: ``inherited``) is
    one in which ``_raw_json`` may read text."""
    raw = ds.get_item(_CHARSET, keep_deferred=True)
    if raw is None:
        return inherited
    value = raw.value if isinstance(raw, RawDataElement) else None
    if not isinstance(value, bytes) or not value.isascii():
        return False
    return all(term.strip(" \x00") in _PLAIN_CHARSETS for term in value.decode("ascii").split("\\"))


def element_json(ds: Dataset, tag: BaseTag, plain_text: bool = False) -> dict[str, Any]:
    """The DICOM JSON of one non-bulk element; raises on values that cannot be decoded.

    ``plain_text``: ``ds``'s character set is plain (``plain_charset``), so its text may be read here.
    """
    raw = ds.get_item(tag, keep_deferred=True)
    if isinstance(raw, RawDataElement):
        fast = _raw_json(raw, plain_text)
        if fast is not None:
            return fast
    elem = ds[tag]
    if elem.VR == "SQ":
        items = [dataset_json(item, inherited_plain=plain_text)[0] for item in elem.value or []]
        return {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}
    result = elem.to_json_dict(bulk_data_element_handler=None, bulk_data_threshold=2**62)
    if "InlineBinary" in result or "BulkDataURI" in result:
        raise ValueError("binary value")
    return result


def _raw_json(raw: RawDataElement, plain_text: bool = True) -> dict[str, Any] | None:
    """``to_json_dict`` of a raw element computed from its bytes, or None where only pydicom knows.

    Only explicit-VR little-endian values in memory; text only when ASCII without ESC, and text of
    the VRs a character set decodes only under a plain one (``plain_text``); numbers only when int()
    or float() reads them as pydicom does.
    """
    vr, data = raw.VR, raw.value
    if (not vr or vr not in _FAST_VRS or raw.is_implicit_VR or not raw.is_little_endian
            or not isinstance(data, bytes) or raw.tag in _LUT_DESCRIPTOR_TAGS
            or (not plain_text and vr in _CHARSET_VRS)):
        return None
    fmt = _BINARY.get(vr)
    if fmt is not None:
        size = struct.calcsize("<" + fmt)  # standard sizes, as pydicom's "=" format
        if len(data) % size:
            return None  # pydicom raises on a wrong length
        numbers = list(struct.unpack(f"<{len(data) // size}{fmt}", data))
        return {"vr": vr, "Value": numbers} if numbers else {"vr": vr}
    if not data.isascii() or b"\x1b" in data:
        return None
    text = data.decode("ascii")
    values: list[Any]
    if vr in _SPLIT_THEN_RSTRIP:
        values = text.rstrip(" \x00").split("\\")
    elif vr in _EACH_RSTRIPPED:
        values = [v.rstrip("\x00 ") for v in text.split("\\")]
    elif vr in _SINGLE_RSTRIPPED:
        values = [text.rstrip("\x00 ")]
    elif vr == "UI":
        values = [v.strip() for v in text.rstrip("\x00 ").split("\\")]  # convert_UI, then UID() strips
    elif vr == "UR":
        values = [text.rstrip()]
    elif vr == "AE":
        values = [v.strip() for v in text.split("\\")]
    elif vr == "PN":
        return _pn_json(text)
    else:  # IS, DS
        text = text.rstrip(" \x00") if vr == "IS" else text.strip()
        if not text:
            return {"vr": vr}
        pattern, number = (_IS, int) if vr == "IS" else (_DS, float)
        parts = text.split("\\")
        if not all(pattern.fullmatch(p) for p in parts):
            return None
        return {"vr": vr, "Value": [number(p) for p in parts]}
    if values == [""]:
        return {"vr": vr}  # pydicom: VM 0, an empty element
    return {"vr": vr, "Value": values}


def _pn_json(text: str) -> dict[str, Any] | None:
    """PN as pydicom's PersonName splits it: values by backslash, groups by ``=``, empty groups at
    the end dropped."""
    text = text.rstrip("\x00 ")
    names = text.split("\\")
    entries = []
    for name in names:
        groups = name.split("=")
        while groups and not groups[-1]:
            groups.pop()
        if len(groups) > 3 or (not groups and len(names) > 1):
            return None  # pydicom fails on an empty name among several
        if not groups:
            return {"vr": "PN"}
        entry = {"Alphabetic": groups[0]}
        if len(groups) > 1:
            entry["Ideographic"] = groups[1]
        if len(groups) > 2:
            entry["Phonetic"] = groups[2]
        entries.append(entry)
    return {"vr": "PN", "Value": entries}


def dataset_json(ds: Dataset, drop: set[BaseTag] | None = None, inherited_plain: bool = True
                 ) -> tuple[dict[str, Any], list[BaseTag]]:
    """(DICOM JSON of ``ds``, tags that could not be converted and were left out).

    Group lengths and tags in ``drop`` are left out too (the latter silently). ``inherited_plain``:
    for a sequence item, whether its parent's character set is plain.
    """
    out: dict[str, Any] = {}
    bad: list[BaseTag] = []
    plain_text = plain_charset(ds, inherited_plain)
    for tag in sorted(ds.keys()):
        if tag.element == 0 or (drop and tag in drop):
            continue
        if element_vr(ds, tag) in BULK_VRS:
            continue
        try:
            out[f"{tag:08X}"] = element_json(ds, tag, plain_text)
        except Exception:  # noqa: BLE001 - any undecodable value is reported, not fatal
            bad.append(tag)
    return out, bad
