"""The DICOM JSON read straight from the bytes is pydicom's, value for value (``dicom_json._raw_json``).

Random values of every VR the shortcut reads, tricky characters weighted in, are converted both
ways; wherever the shortcut answers, pydicom gives the same JSON (same types: 1 is not 1.0), and
where pydicom fails the shortcut must leave the value to it. Whole files, the lesson samples and
Microsoft's, give the same metadata either way.
"""

import io
import json
import random
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from mock_server import dicom_json
from mock_server.dicom_json import _FAST_VRS, _raw_json, dataset_json
from tests.support.part10 import build_instance

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "data").glob("*.dcm")) + sorted((ROOT / "tests" / "data" / "microsoft-dcms").rglob("*.dcm"))
# A public tag of each VR (so that pydicom's dictionary agrees with the file), and a private one.
PUBLIC = {"AE": "RetrieveAETitle", "AS": "PatientAge", "CS": "Modality", "DA": "StudyDate", "DT": "AcquisitionDateTime",
          "TM": "StudyTime", "UI": "SOPInstanceUID", "SH": "AccessionNumber", "LO": "StudyDescription",
          "UC": "StrainAdditionalInformation", "LT": "AdditionalPatientHistory", "ST": "InstitutionAddress",
          "UT": "PixelDataProviderURL", "UR": "RetrieveURL", "PN": "PatientName", "IS": "SeriesNumber",
          "DS": "SliceThickness", "US": "Rows", "SS": "PixelPaddingValue", "UL": "SimpleFrameList",
          "SL": "ReferencePixelX0", "FL": "RecommendedDisplayFrameRateInFloat", "FD": "EffectiveEchoTime",
          "SV": "SelectorSVValue", "UV": "SelectorUVValue"}
PRIVATE = Tag(0x0009, 0x1010)
TEXT_CHARS = " " * 6 + "\x00" * 2 + "\\" * 4 + "=" * 3 + "^" * 2 + "0123456789" * 2 + "+-.eE_" + "ABCxyz" + "\t\n"
RARE = ["\x1b", "\xe9", "\xff"]


def reference(raw: RawDataElement) -> str | None:
    """pydicom's JSON of ``raw`` (as the emulator's fallback computes it), or None if pydicom fails."""
    ds = Dataset()
    ds[raw.tag] = raw
    try:
        elem = ds[raw.tag]
        result = elem.to_json_dict(bulk_data_element_handler=None, bulk_data_threshold=2**62)
    except Exception:  # noqa: BLE001 - pydicom failing is an outcome under test
        return None
    return json.dumps(result)


def random_value(rng: random.Random, vr: str) -> bytes:
    if vr in ("US", "SS", "UL", "SL", "FL", "FD", "SV", "UV"):
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 2, 4, 6, 8, 12, 16, 3, 5, 7])))
    if vr in ("IS", "DS") and rng.random() < 0.5:
        # Mostly well-formed numbers, so the shortcut's own branch is exercised, not only its refusals.
        parts = [rng.choice(["", " ", "+", "-"]) + str(rng.randrange(-10**6, 10**6))
                 + (rng.choice(["", ".", ".5", "e3", "E-2", ".25e+1"]) if vr == "DS" else "")
                 + rng.choice(["", " "]) for _ in range(rng.randrange(1, 4))]
        return "\\".join(parts).encode("latin-1")
    chars = [rng.choice(TEXT_CHARS) for _ in range(rng.randrange(0, 16))]
    if chars and rng.random() < 0.08:
        chars[rng.randrange(len(chars))] = rng.choice(RARE)
    return "".join(chars).encode("latin-1")


@pytest.mark.parametrize("vr", sorted(_FAST_VRS))
def test_the_shortcut_gives_pydicoms_json_or_leaves_the_value_to_it(vr):
    rng = random.Random(f"dicom-json-{vr}")
    answered = 0
    for n in range(3000):
        tag = Tag(PUBLIC[vr]) if n % 2 else PRIVATE
        value = random_value(rng, vr)
        raw = RawDataElement(tag, vr, len(value), value, 0, False, True)
        fast = _raw_json(raw)
        expected = reference(raw)
        if fast is None:
            continue
        answered += 1
        assert expected is not None, f"pydicom fails on {value!r} ({vr}), the shortcut answered {fast}"
        assert json.dumps(fast) == expected, f"{vr} {value!r}"
    assert answered > 600  # the shortcut is taken, not only refused


@pytest.mark.parametrize("value, expected", [
    (b"CT\\MR ", {"vr": "CS", "Value": ["CT", "MR"]}),
    (b"  ", {"vr": "CS"}),
    (b"", {"vr": "CS"}),
])
def test_typical_values_take_the_shortcut(value, expected):
    assert _raw_json(RawDataElement(Tag("Modality"), "CS", len(value), value, 0, False, True)) == expected


def test_what_only_pydicom_reads_is_left_to_it():
    def raw(vr: str, value: bytes, implicit: bool = False, little: bool = True) -> RawDataElement:
        return RawDataElement(Tag(PUBLIC[vr]), None if implicit else vr, len(value), value, 0, implicit, little)

    assert _raw_json(raw("CS", b"CT", implicit=True)) is None
    assert _raw_json(raw("US", b"\x00\x01", little=False)) is None
    assert _raw_json(raw("LO", "Müller".encode("utf-8"))) is None  # the character set decides
    assert _raw_json(raw("LO", b"\x1b$B")) is None  # an ISO 2022 escape
    assert _raw_json(raw("IS", b"1.0")) is None  # pydicom's IS reads it as 1
    assert _raw_json(raw("DS", b"nan")) is None
    assert _raw_json(raw("IS", b"9007199254740993")) is None  # pydicom rounds it through a float
    assert _raw_json(raw("PN", b"Synthetic^Ana"), plain_text=False) is None  # an ISO 2022 character set
    assert _raw_json(raw("CS", b"CT"), plain_text=False) == {"vr": "CS", "Value": ["CT"]}  # not one it decodes
    assert _raw_json(RawDataElement(Tag(0x0028, 0x1101), "US", 6, b"\x00\x01\x00\x00\x10\x00", 0, False, True)) is None


@pytest.mark.parametrize("charset, plain", [
    (None, True), (b"", True), (b"ISO_IR 100", True), (b"ISO_IR 192", True), (b"\\ISO_IR 100 ", True),
    (b"ISO 2022 IR 87", False), (b"\\ISO 2022 IR 87", False), (b"ISO_IR 13", False), ("Müller".encode(), False),
])
def test_text_is_read_here_only_under_a_plain_character_set(charset, plain):
    ds = Dataset()
    if charset is not None:
        ds[Tag(0x00080005)] = RawDataElement(Tag(0x00080005), "CS", len(charset), charset, 0, False, True)
    assert dicom_json.plain_charset(ds) is plain


def test_an_iso_2022_name_gets_pydicoms_answer_even_where_pydicom_fails():
    """pydicom fails on some ASCII names under ISO 2022 IR 87 (``=`` before ``^``); the element is then
    left out (and a v2 STOW warns), with the shortcut as without it."""
    def raw(tag: str, vr: str, value: bytes) -> RawDataElement:
        return RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)

    ds = Dataset()
    ds[Tag("SpecificCharacterSet")] = raw("SpecificCharacterSet", "CS", b"ISO 2022 IR 87")
    ds[Tag("PatientName")] = raw("PatientName", "PN", b"Synthetic=^Ana")
    metadata, bad = dataset_json(ds)
    assert bad == [Tag("PatientName")] and "00100010" not in metadata


def files() -> list[tuple[str, bytes]]:
    generated = [build_instance(PatientName="Synthetic^Zoë=山田^太郎", StudyDescription="A\\B ",
                                ImageType=["ORIGINAL", "PRIMARY"], PixelSpacing=["0.5", "0.5"], InstanceNumber="7",
                                SpecificCharacterSet="ISO_IR 192"),
                 build_instance(PatientName="Synthetic^Ana", SliceThickness="1.25", WindowCenter=["40", "400"])]
    return ([(p.relative_to(ROOT).as_posix(), p.read_bytes()) for p in SAMPLES]
            + [(f"generated-{n}", inst.data) for n, inst in enumerate(generated)])


@pytest.mark.parametrize("name, data", files(), ids=lambda v: v if isinstance(v, str) else "")
def test_whole_files_give_the_same_metadata_either_way(name, data, monkeypatch):
    fast = dataset_json(pydicom.dcmread(io.BytesIO(data), defer_size=4096))
    monkeypatch.setattr(dicom_json, "_raw_json", lambda raw, plain_text=True: None)
    slow = dataset_json(pydicom.dcmread(io.BytesIO(data), defer_size=4096))
    assert json.dumps(fast[0]) == json.dumps(slow[0])
    assert fast[1] == slow[1]
