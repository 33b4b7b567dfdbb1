"""helpers.viewer: the links a lesson prints into the OHIF viewer that `make viewer` serves."""

from helpers.viewer import DEFAULT_URL, show_viewer_link, viewer_url

STUDY = "1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420"


def test_default_is_make_viewers_address() -> None:
    assert viewer_url(environ={}) == f"{DEFAULT_URL}/" == "http://127.0.0.1:3000/"
    assert viewer_url(STUDY, environ={}) == f"http://127.0.0.1:3000/viewer?StudyInstanceUIDs={STUDY}"


def test_the_variable_moves_it_and_an_empty_one_counts_as_unset() -> None:
    moved = {"DICOMWEB_VIEWER_URL": "http://127.0.0.1:3001/"}
    assert viewer_url(STUDY, environ=moved) == f"http://127.0.0.1:3001/viewer?StudyInstanceUIDs={STUDY}"
    assert viewer_url(environ={"DICOMWEB_VIEWER_URL": " "}) == "http://127.0.0.1:3000/"


def test_several_studies_are_one_comma_separated_parameter() -> None:
    assert viewer_url("1.2.3,4.5.6", environ={}).endswith("/viewer?StudyInstanceUIDs=1.2.3%2C4.5.6")


def test_show_viewer_link_says_how_to_start_the_viewer(capsys, monkeypatch) -> None:
    monkeypatch.delenv("DICOMWEB_VIEWER_URL", raising=False)
    show_viewer_link(STUDY)
    assert capsys.readouterr().out == (
        f"See it in the OHIF viewer (start it with `make viewer`): "
        f"http://127.0.0.1:3000/viewer?StudyInstanceUIDs={STUDY}\n")
