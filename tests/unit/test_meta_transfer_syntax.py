"""``dicomfile._head_transfer_syntax``: the transfer syntax read from a file's first bytes is pydicom's,
or it is left to pydicom (None). It decides whether a deflated dataset is inflated in bounded steps
first, so it must never name another syntax than pydicom's reader would."""

import struct
from pathlib import Path

import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from mock_server.dicomfile import _HEAD, _head_transfer_syntax, transfer_syntax_of
from tests.support.part10 import build_instance

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "data").glob("*.dcm")) + sorted((ROOT / "tests" / "data" / "microsoft-dcms").rglob("*.dcm"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_samples_give_pydicoms_transfer_syntax(path):
    head = path.read_bytes()[:_HEAD]
    assert _head_transfer_syntax(head) in (transfer_syntax_of(path), None)


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian])
def test_a_generated_file_gives_its_syntax(syntax, tmp_path):
    data = build_instance(transfer_syntax=syntax).data
    path = tmp_path / "a.dcm"
    path.write_bytes(data)
    assert _head_transfer_syntax(data[:_HEAD]) == transfer_syntax_of(path) == syntax


def element(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    if vr in (b"OB", b"UN"):
        return struct.pack("<HH2s2xL", group, element, vr, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def head(*elements: bytes) -> bytes:
    return b"\0" * 128 + b"DICM" + b"".join(elements) + element(0x0008, 0x0016, b"UI", b"1.2\0")


def test_the_last_of_two_transfer_syntaxes_counts_as_in_pydicom():
    data = head(element(2, 0x10, b"UI", b"1.2.840.10008.1.2.1\0"), element(2, 0x10, b"UI", b"1.2.840.10008.1.2.1.99"))
    assert _head_transfer_syntax(data) == DeflatedExplicitVRLittleEndian


@pytest.mark.parametrize("data", [
    head(element(2, 0x01, b"OB", b"\0\1"), element(2, 0x10, b"UI", b"1.2.840.10008.1.2.1.99"))[:150],  # cut short
    b"\0" * 128 + b"DICM" + struct.pack("<HHL", 2, 0x10, 22) + b"1.2.840.10008.1.2.1.99",  # implicit-VR meta
    head(struct.pack("<HH2s2xL", 2, 0x01, b"OB", 0xFFFFFFFF)),  # undefined length
    head(element(2, 0x10, b"UI", b"1.2.840.10008.1.2.1.99"))[:-12],  # the meta group does not end in the head
], ids=["cut-short", "implicit-meta", "undefined-length", "no-end"])
def test_what_the_head_cannot_tell_is_left_to_pydicom(data):
    assert _head_transfer_syntax(data) is None


def test_a_meta_group_without_a_transfer_syntax_has_none():
    assert _head_transfer_syntax(head(element(2, 0x02, b"UI", b"1.2\0"))) is None
