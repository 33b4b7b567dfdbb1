"""helpers.samples: the constants match the files in data/."""

from io import BytesIO

import pydicom
import pytest

from helpers import samples


@pytest.mark.parametrize("sample", samples.ALL, ids=lambda s: s.name)
def test_constants_match_the_file(sample: samples.Sample) -> None:
    data = sample.data()
    ds = pydicom.dcmread(BytesIO(data))

    assert data == sample.path.read_bytes()
    assert sample.path == samples.DATA_DIR / f"{sample.name}.dcm"
    assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, ds.SOPClassUID) == (
        samples.STUDY_UID, sample.series_uid, sample.sop_uid, sample.sop_class_uid)
    assert sample.study_uid == samples.STUDY_UID


def test_three_samples_in_two_series() -> None:
    assert [s.name for s in samples.ALL] == ["blue-circle", "green-square", "red-triangle"]
    assert samples.GREEN_SQUARE.series_uid == samples.RED_TRIANGLE.series_uid
    assert samples.BLUE_CIRCLE.series_uid != samples.RED_TRIANGLE.series_uid
    assert len({s.sop_uid for s in samples.ALL}) == 3


def test_missing_file_says_how_to_make_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(samples, "DATA_DIR", tmp_path)

    with pytest.raises(FileNotFoundError, match="make_samples.py"):
        samples.BLUE_CIRCLE.data()
