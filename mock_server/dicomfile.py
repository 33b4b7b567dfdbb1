"""Reading and validating one uploaded DICOM file the way Azure's STOW does (StoreDatasetValidator).

The file has been spooled to disk (its preamble zeroed as it was written, ``zero_preamble``); it is
read with pydicom's ``defer_size`` so pixel data is never loaded, checked, and described either as a
``StagedInstance`` or as a ``Failure`` carrying Azure's failure code and error comments. Validation
changes nothing on disk: the store moves and fsyncs the file (``Store.add_all``).
"""

import contextlib
import functools
import io
import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.tag import BaseTag, Tag
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from .dicom_json import dataset_json
from .responses import compact_json
from .storage import FrameLayout, StagedInstance
from .uids import is_valid_uid

# Azure failure and warning codes (FailureReasonCodes.cs).
PROCESSING_FAILURE = 272
VALIDATION_FAILURE = 43264
SOP_INSTANCE_ALREADY_EXISTS = 45070
DATASET_DOES_NOT_MATCH_SOP_CLASS = 45063
VALIDATION_WARNING = 1

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
_PIXEL_TAGS = (Tag(0x7FE00010), Tag(0x7FE00008), Tag(0x7FE00009))
_UNDEFINED = 0xFFFFFFFF
# pydicom inflates a deflated dataset whole, in memory: a small file could otherwise cost gigabytes.
MAX_INFLATED_BYTES = 256 * 1024 * 1024


class InflationTooLarge(ValueError):
    """A deflated dataset inflates to more than ``MAX_INFLATED_BYTES``."""


def check_inflated_size(f: BinaryIO, limit: int = MAX_INFLATED_BYTES) -> int:
    """Inflate the deflated dataset of the Part 10 file ``f`` in bounded steps; its size, or InflationTooLarge."""
    f.seek(0)
    read_preamble(f, False)
    _read_file_meta_info(f)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    while True:
        chunk = f.read(1 << 16)
        data = inflater.decompress(chunk, 1 << 20)
        while True:
            total += len(data)
            if total > limit:
                raise InflationTooLarge(f"the deflated dataset inflates to more than {limit} bytes")
            if not inflater.unconsumed_tail:
                break
            data = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
        if not chunk or inflater.eof:
            return total


@dataclass
class Failure:
    """An instance that was not stored: FailedSOPSequence item content."""

    reason: int
    sop_class_uid: str | None = None
    sop_uid: str | None = None
    comments: list[str] = field(default_factory=list)
    multi_valued: bool = False  # an indexed attribute had several values (Azure's Warning: 299)


@dataclass
class Accepted:
    """A staged instance plus the warnings to report for it."""

    staged: StagedInstance
    warning_reasons: list[int] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    multi_valued: bool = False


# Attributes Azure indexes for QIDO; invalid values fail the instance in v1 and are dropped in v2.
_INDEXED = {
    "PatientName": "PN", "PatientID": "LO", "PatientBirthDate": "DA", "AccessionNumber": "SH",
    "ReferringPhysicianName": "PN", "StudyDate": "DA", "StudyDescription": "LO", "Modality": "CS",
    "PerformedProcedureStepStartDate": "DA", "ManufacturerModelName": "LO",
}
_MAX_LEN = {"LO": 64, "SH": 16, "CS": 16, "PN": 64}
_CS = re.compile(r"^[A-Z0-9 _]*$")
_DA = re.compile(r"^[0-9]{8}$")


def _tag_text(tag: int) -> str:
    tag = Tag(tag)
    return f"({tag.group:04x},{tag.element:04x})"  # fo-dicom's DicomTag.ToString(): lower-case hex


def _value_problem(vr: str, value: str) -> str | None:
    """Why ``value`` does not validate for ``vr``, or None."""
    for single in value.split("\\"):
        single = single.rstrip(" ") if vr != "DA" else single.strip(" ")
        if not single:
            continue
        if vr == "DA":
            if not _DA.match(single):
                return "one of the date values does not match the pattern YYYYMMDD"
            try:
                date(int(single[:4]), int(single[4:6]), int(single[6:]))
            except ValueError:
                return "one of the date values is not a valid date"
        elif vr == "PN":
            if any(len(group) > _MAX_LEN["PN"] for group in single.split("=")):
                return "value length exceeds maximum length of 64"
            if single.count("^") > 4 * (single.count("=") + 1):
                return "value contains too many name components"
        else:
            if len(single) > _MAX_LEN[vr]:
                return f"value length exceeds maximum length of {_MAX_LEN[vr]}"
            if vr == "CS" and not _CS.match(single):
                return "value contains invalid character"
    return None


_CONTROL_EXCEPT_ESC = re.compile(r"[\x00-\x1a\x1c-\x1f]")


def _minimum_problem(vr: str, value: str) -> str | None:
    """Azure's ElementMinimumValidator on the first value (the check of core and, in v1, indexed
    attributes): the ValidationErrorCode message, or None."""
    first = value.split("\\")[0].rstrip("\0").rstrip(" ")
    if not first:
        return None
    if vr == "DA":
        try:
            if not _DA.match(first.strip(" ")):
                raise ValueError(first)
            text = first.strip(" ")
            date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return "Value cannot be parsed as a valid date."
        return None
    if vr == "PN":
        groups = first.split("=")
        if len(groups) > 3:
            return "Value contains more than 3 groups."
        for group in groups:
            if len(group) > 64:
                return "One or more group of person name exceeds maxium length of 64."
            if _CONTROL_EXCEPT_ESC.search(group):
                return "Value contains invalid character."
        if any(len(g.split("^")) > 5 for g in groups):
            return "Value contains more than 5 components."
        return None
    if len(first) > _MAX_LEN[vr]:
        return f"Value length exceeds maximum length of {_MAX_LEN[vr]}."
    if vr == "LO" and _CONTROL_EXCEPT_ESC.search(first):
        return "Value contains invalid character."
    return None


_CHECKED_VRS = frozenset({"DA", "CS", "SH", "LO", "PN"})
_INDEXED_TAGS = frozenset(Tag(k) for k in _INDEXED)


def _other_element_warnings(ds: Dataset, dropped: set[BaseTag]) -> list[str]:
    """v2's GenerateValidationWarnings for the other top-level elements: fo-dicom's validation of
    each, a warning and the element dropped when it fails. The emulator checks the VRs it knows
    (DA, CS, SH, LO, PN); sequence items are not looked into."""
    comments = []
    for tag in sorted(ds.keys()):
        if tag in _INDEXED_TAGS or tag in dropped or tag.group == 0x0002:
            continue
        elem = ds.get_item(tag, keep_deferred=True)
        vr = getattr(elem, "VR", None)
        if vr is None or vr not in _CHECKED_VRS:
            try:
                vr = vr or dictionary_VR(tag)
            except KeyError:
                continue
            if vr not in _CHECKED_VRS:
                continue
        text = _raw_text(ds, tag)
        if not text:
            continue
        problem = _value_problem(vr, text)
        if problem:
            # fo-dicom's GetString drops the trailing padding before validating and quoting the value.
            comments.append(f'DICOM100: {_tag_text(tag)} - Content "{text.rstrip(" ")}" does not validate VR '
                            f"{vr}: {problem}")
            dropped.add(tag)
    return comments


def _element_failure(keyword: str, vr: str, message: str) -> str:
    """ElementValidationException as StoreValidationResultBuilder formats it."""
    return (f"DICOM100: {_tag_text(Tag(keyword))} - Dicom element '{keyword}' failed validation for VR '{vr}': "
            f"{message}")


@functools.lru_cache(maxsize=256)
def _tag(keyword: str | int) -> BaseTag:
    return Tag(keyword)


def _raw_text(ds: Dataset, keyword: str | int) -> str | None:
    """An element's value as text (None if absent) without pydicom's own VR conversion."""
    elem = ds.get_item(_tag(keyword), keep_deferred=True)
    if elem is None:
        return None
    value = elem.value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\x00")
    if value is None:
        return ""
    return str(value)


def _data_end(ds: Dataset) -> int | None:
    """Where the last top-level element ends in the file, when that can be told without reading it."""
    keys = list(ds.keys())
    if not keys:
        return None
    elem = ds.get_item(max(keys), keep_deferred=True)
    if not isinstance(elem, RawDataElement) or elem.value_tell is None:
        return None
    if elem.length != _UNDEFINED:
        return elem.value_tell + elem.length
    if isinstance(elem.value, bytes):
        return elem.value_tell + len(elem.value) + 8  # + the sequence delimitation item
    return None


def number_of_frames(ds: Dataset) -> int:
    """NumberOfFrames, read leniently: 1 when it is absent, below 1 or not a number."""
    try:
        return max(int(ds.get("NumberOfFrames") or 1), 1)
    except (TypeError, ValueError):
        return 1


@functools.lru_cache(maxsize=64)
def syntax_kind(transfer_syntax: str) -> tuple[bool, bool]:
    """(encapsulated, deflated) of a transfer syntax, worked out once: pydicom's UID() validates its value."""
    uid = pydicom.uid.UID(transfer_syntax)
    return uid.is_encapsulated, uid.is_deflated


def _native_frame_bytes(ds: Dataset, transfer_syntax: str) -> int | None:
    """Bytes of one frame of native, not deflated Pixel Data in whole bytes per sample; None for any other."""
    if transfer_syntax == DEFLATED or syntax_kind(transfer_syntax)[0] or _PIXEL_TAGS[0] not in ds:
        return None
    try:
        bits = int(ds.get("BitsAllocated") or 0)
        frame = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel") or 1) * bits // 8
    except (AttributeError, TypeError, ValueError):
        return None
    return frame if frame > 0 and not bits % 8 else None


def _frame_count(ds: Dataset, frame: int | None) -> int:
    """Frames of the instance; for native pixel data (``frame`` bytes each, from ``_native_frame_bytes``),
    only the frames its PixelData holds in full."""
    if not any(tag in ds for tag in _PIXEL_TAGS):
        return 0
    count = number_of_frames(ds)
    if frame is None:
        return count
    elem = ds.get_item(_PIXEL_TAGS[0], keep_deferred=True)
    try:
        length = elem.length if isinstance(elem, RawDataElement) else len(elem.value or b"")
    except TypeError:
        return count
    return count if length == _UNDEFINED else min(count, length // frame)


def _frame_layout(ds: Dataset, frame: int | None) -> FrameLayout | None:
    """Where the frames of native, not deflated Pixel Data (``frame`` bytes each) lie in the file;
    None for any other."""
    elem = ds.get_item(_PIXEL_TAGS[0], keep_deferred=True)
    if frame is None or not isinstance(elem, RawDataElement) or elem.value_tell is None or elem.length == _UNDEFINED:
        return None
    return FrameLayout(elem.value_tell, frame)


def transfer_syntax_of(f: BinaryIO) -> str:
    """The TransferSyntaxUID of the meta group of the Part 10 file open as ``f``, read from its start
    ("" when unreadable)."""
    f.seek(0)
    try:
        read_preamble(f, False)
        meta = _read_file_meta_info(f)
    except Exception:  # noqa: BLE001 - the full read reports the problem
        return ""
    return str(meta.get("TransferSyntaxUID", "") or "").rstrip("\x00 ")


PREAMBLE = 128


def zero_preamble(written: int, data: bytes) -> bytes:
    """``data``, the bytes of a spooled file from offset ``written`` on, with any of the first
    ``PREAMBLE`` bytes replaced by zeros: Azure ignores the preamble and stores zeros in its place."""
    if written >= PREAMBLE:
        return data
    head = min(PREAMBLE - written, len(data))
    return b"\0" * head + data[head:]


_HEAD = 4096  # read first: the preamble, DICM and (nearly always) the whole meta group
# Explicit VRs with a reserved field and a 4-byte length (PS3.5 7.1.2), as pydicom's reader has them.
_LONG_LENGTH_VRS = frozenset(str(vr).encode("ascii") for vr in EXPLICIT_VR_LENGTH_32)


_PLAIN_UID = re.compile(r"[0-9.]+")


def _head_transfer_syntax(head: bytes) -> str | None:
    """The TransferSyntaxUID of the meta group in ``head`` (a file's first bytes), or None when it
    cannot be told from them alone: then pydicom's own reader decides (``transfer_syntax_of``).

    The meta group is explicit VR little endian; as pydicom's reader, the last (0002,0010) counts.
    """
    found = None
    at = 132
    while at + 8 <= len(head):
        group, element = struct.unpack_from("<HH", head, at)
        if group != 2:
            return found
        vr = head[at + 4:at + 6]
        if not (vr.isalpha() and vr.isupper()):
            return None  # not explicit VR: left to pydicom
        if vr in _LONG_LENGTH_VRS:
            if at + 12 > len(head):
                return None
            (length,) = struct.unpack_from("<L", head, at + 8)
            start = at + 12
        else:
            (length,) = struct.unpack_from("<H", head, at + 6)
            start = at + 8
        if length == _UNDEFINED or start + length > len(head):
            return None
        if element == 0x0010:
            found = head[start:start + length].decode("latin-1").rstrip("\x00 ")
            if not _PLAIN_UID.fullmatch(found):
                return None  # pydicom's UID() strips more (leading spaces, tabs, newlines): it decides
        at = start + length
    return None


def quick_to_inspect(data: bytes) -> bool:
    """Whether ``inspect_file`` of a file with these bytes is quick: its transfer syntax, told by its
    first bytes, is not deflated (a deflated dataset is inflated, up to 256 MiB, to be read)."""
    syntax = _head_transfer_syntax(data[:_HEAD])
    return syntax is not None and syntax != DEFLATED


def inspect_file(path: Path, api_version: int, path_study: str | None, data: bytes | None = None
                 ) -> Accepted | Failure:
    """Validate the spooled file at ``path`` (read only, never changed); ``data``, when given, is its
    content, read from memory instead (pydicom reads a file with a system call per element)."""
    f: BinaryIO = io.BytesIO(data) if data is not None else path.open("rb")
    # The file is closed at the end of the block (pydicom reopens it by name for a deferred value);
    # the buffer stays open, as pydicom reads deferred values from it.
    with f if data is None else contextlib.nullcontext(f):
        size = len(data) if data is not None else os.fstat(f.fileno()).st_size
        head = f.read(_HEAD)
        if size < 132 or head[128:132] != b"DICM":
            return Failure(VALIDATION_FAILURE)
        try:
            meta_syntax = _head_transfer_syntax(head)
            if (meta_syntax if meta_syntax is not None else transfer_syntax_of(f)) == DEFLATED:
                check_inflated_size(f)
            f.seek(0)
            ds = pydicom.dcmread(f, defer_size=4096)
            transfer_syntax = str(ds.file_meta.get("TransferSyntaxUID", "") or "").rstrip("\x00 ")
            end = _data_end(ds)
        except Exception:  # noqa: BLE001 - pydicom raises many types on malformed input
            return Failure(VALIDATION_FAILURE)
    if transfer_syntax == DEFLATED:
        end = None  # offsets are into the inflated stream, not the file
    if not transfer_syntax or not is_valid_uid(transfer_syntax) or (end is not None and end != size):
        return Failure(VALIDATION_FAILURE)

    uids: dict[str, str] = {}
    for keyword in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        text = _raw_text(ds, keyword)
        uids[keyword] = (text or "").rstrip("\x00 ")
    sop_class = uids["SOPClassUID"] if is_valid_uid(uids["SOPClassUID"]) else None
    sop_uid = uids["SOPInstanceUID"] if is_valid_uid(uids["SOPInstanceUID"]) else None

    # IndexedDicomTagHasMultipleValues: ValidateDicomTag notes a multi-valued attribute it checks, the
    # indexed ones in v1, the required core tags in v2 (PatientID; a multi-valued UID fails anyway).
    checked = ("PatientID",) if api_version >= 2 else tuple(_INDEXED)
    multi = any("\\" in (_raw_text(ds, k) or "") for k in checked)

    def fail(comment: str) -> Failure:
        return Failure(VALIDATION_FAILURE, sop_class, sop_uid, [comment], multi_valued=multi)

    for keyword, value in uids.items():
        uid_tag = _tag_text(Tag(keyword))
        if not value:
            return fail(f"DICOM100: {uid_tag} - The required tag '{uid_tag}' is missing.")
        if not is_valid_uid(value):
            return fail(f"DICOM100: {uid_tag} - Dicom element '{keyword}' failed validation for VR 'UI': "
                        f"DICOM UID is invalid.")
    patient_id = _raw_text(ds, "PatientID")
    pid_tag = _tag_text(Tag("PatientID"))
    missing_pid = f"DICOM100: {pid_tag} - The required tag '{pid_tag}' is missing."
    if patient_id is None or (api_version == 1 and not patient_id.strip()):
        return fail(missing_pid)
    # PatientID is a required core tag: the minimum validator's error fails the instance (409) in v1 and v2.
    pid_problem = _minimum_problem("LO", patient_id)
    if pid_problem:
        return fail(_element_failure("PatientID", "LO", pid_problem))
    if path_study is not None and uids["StudyInstanceUID"].lower() != path_study.lower():
        # StoreValidationResultBuilder formats it as every tag error: ErrorMessageFormat, DICOM100.
        return fail(f"DICOM100: {_tag_text(Tag('StudyInstanceUID'))} - The StudyInstanceUid in the payload does not "
                    "match the specified StudyInstanceUid.")

    comments: list[str] = []
    dropped: set[BaseTag] = set()
    if api_version >= 2 and not patient_id.strip():
        # ValidateStringItemWithLeniency: a blank PatientID is a warning in v2, and it is dropped.
        comments.append(missing_pid)
        dropped.add(Tag("PatientID"))
    for keyword, vr in _INDEXED.items():
        text = _raw_text(ds, keyword)
        if not text or keyword == "PatientID":
            continue
        if api_version == 1:
            # v1 validates the indexed attributes with the minimum validator; any error fails the instance.
            problem = _minimum_problem(vr, text)
            if problem:
                return fail(_element_failure(keyword, vr, problem))
            continue
        problem = _value_problem(vr, text)
        if problem:
            # v2: fo-dicom's own validation, a warning; the attribute is dropped from the metadata.
            comments.append(f'DICOM100: {_tag_text(Tag(keyword))} - Content "{text.rstrip(" ")}" does not validate '
                            f"VR {vr}: {problem}")
            dropped.add(Tag(keyword))
    if api_version >= 2:
        comments += _other_element_warnings(ds, dropped)
    try:
        metadata, bad = dataset_json(ds, dropped)
    except Exception:  # noqa: BLE001
        return Failure(PROCESSING_FAILURE, sop_class, sop_uid)
    for tag in bad:
        comments.append(f"DICOM100: {_tag_text(tag)} - Content could not be decoded; the attribute is "
                        "left out of the metadata")

    warnings: list[int] = []
    if transfer_syntax == IMPLICIT_VR_LITTLE_ENDIAN:
        warnings.append(DATASET_DOES_NOT_MATCH_SOP_CLASS)
    if api_version >= 2 and comments:
        warnings.append(VALIDATION_WARNING)
    if api_version == 1:
        comments = []  # v1 reports no attribute warnings

    frame = _native_frame_bytes(ds, transfer_syntax)
    staged = StagedInstance(
        study_uid=uids["StudyInstanceUID"], series_uid=uids["SeriesInstanceUID"], sop_uid=uids["SOPInstanceUID"],
        sop_class_uid=uids["SOPClassUID"], transfer_syntax=transfer_syntax, path=path, file_size=size,
        frame_count=_frame_count(ds, frame), metadata=compact_json(metadata), frame_layout=_frame_layout(ds, frame),
        elements=metadata)
    return Accepted(staged, warnings, comments, multi_valued=multi)
