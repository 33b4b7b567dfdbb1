"""``dicomfile._head_transfer_syntax``: the transfer syntax read from a file's first bytes is pydicom's,
or it is left to pydicom (None). It decides whether a deflated dataset is inflated in bounded steps
first, so it must never name another syntax than pydicom's reader would."""

import struct
from pathlib import Path

import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from mock_server import dicomfile
from mock_server.dicomfile import _HEAD, _head_transfer_syntax, quick_to_inspect, transfer_syntax_of
from tests.support.part10 import build_instance

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "data").glob("*.dcm")) + sorted((ROOT / "tests" / "data" / "microsoft-dcms").rglob("*.dcm"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_samples_give_pydicoms_transfer_syntax(path):
    head = path.read_bytes()[:_HEAD]
    with path.open("rb") as f:
        assert _head_transfer_syntax(head) in (transfer_syntax_of(f), None)


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian])
def test_a_generated_file_gives_its_syntax(syntax, tmp_path):
    data = build_instance(transfer_syntax=syntax).data
    path = tmp_path / "a.dcm"
    path.write_bytes(data)
    with path.open("rb") as f:
        assert _head_transfer_syntax(data[:_HEAD]) == transfer_syntax_of(f) == syntax


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


@pytest.mark.parametrize("value, expected", [
    (b" 1.2.840.10008.1.2.1.99\0", None), (b"\t1.2.840.10008.1.2.1.99", None), (b"1.2.840.10008.1.2.1.99\n", None),
    (b"1.2.840.10008.1.2.1.99 \0", DeflatedExplicitVRLittleEndian), (b"1.2.840.10008.1.2.1\0", ExplicitVRLittleEndian),
], ids=["leading-space", "leading-tab", "trailing-newline", "padding", "plain"])
def test_a_syntax_with_anything_around_it_but_padding_is_left_to_pydicom(value, expected):
    """pydicom strips spaces, tabs and newlines around a UID; read here, a deflated syntax written so
    would pass for another and skip the bounded inflation."""
    assert _head_transfer_syntax(head(element(2, 0x10, b"UI", value))) == expected


def test_a_deflated_part_with_a_spaced_syntax_is_inflated_in_bounded_steps(tmp_path, monkeypatch):
    data = bytearray(build_instance(transfer_syntax=DeflatedExplicitVRLittleEndian).data)
    tag = struct.pack("<HH2sH", 2, 0x10, b"UI", 22)
    at = data.index(tag + b"1.2.840.10008.1.2.1.99")
    data[at:at + 8 + 22] = struct.pack("<HH2sH", 2, 0x10, b"UI", 24) + b" 1.2.840.10008.1.2.1.99\0"
    if data[132:136] == struct.pack("<HH", 2, 0):  # a File Meta group length: two bytes more
        struct.pack_into("<L", data, 140, struct.unpack_from("<L", data, 140)[0] + 2)
    path = tmp_path / "a.dcm"
    path.write_bytes(data)
    checked = []
    monkeypatch.setattr(dicomfile, "check_inflated_size", lambda f: checked.append(f) or 0)
    assert not quick_to_inspect(bytes(data))
    dicomfile.inspect_file(path, 2, None, bytes(data))
    assert len(checked) == 1
