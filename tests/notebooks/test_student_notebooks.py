"""tools/student_notebooks.py: the lessons without solutions still run, and hide nothing else."""

from pathlib import Path

import nbformat
import pytest

from tests.notebooks.lesson_files import execute, read
from tests.support.lessons import lesson_paths
from tools import student_notebooks


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    output = tmp_path_factory.mktemp("student")
    return {path.stem: path for path in student_notebooks.write_student_notebooks(output)}


def test_every_lesson_gets_a_student_version(written: dict[str, Path]) -> None:
    assert sorted(written) == [path.stem for path in lesson_paths()]


@pytest.mark.parametrize("lesson", [path.stem for path in lesson_paths()])
def test_only_solutions_and_outputs_are_removed(written: dict[str, Path], lesson: str) -> None:
    original = read(Path(student_notebooks.NOTEBOOKS) / f"{lesson}.ipynb")
    student = read(written[lesson])
    kept = [cell for cell in original.cells if "solution" not in cell.metadata.get("tags", [])]
    removed = len(original.cells) - len(kept)
    assert [cell.source for cell in student.cells] == [cell.source for cell in kept]
    assert removed >= 4, "every lesson has at least two exercises, each with solution code and its explanation"
    working = [cell for cell in student.cells if "exercise" in cell.metadata.get("tags", [])]
    assert len(working) >= 2, "each exercise keeps the learner's working cell"
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.notebook_run
@pytest.mark.parametrize("lesson", [path.stem for path in lesson_paths()])
def test_student_version_runs_top_to_bottom(written: dict[str, Path], lesson: str, kernel_env) -> None:
    # No later cell may depend on a solution: a learner who skips an exercise still gets to the end.
    execute(written[lesson], kernel_env)


def test_output_path_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    assert student_notebooks.main([str(not_a_folder)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_pictures_beside_the_lessons_are_copied_along(tmp_path: Path) -> None:
    lessons, output = tmp_path / "notebooks", tmp_path / "student"
    (lessons / "images").mkdir(parents=True)
    (lessons / "images" / "hierarchy.svg").write_text("<svg/>")
    (tmp_path / "outside.png").write_bytes(b"png")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "![the hierarchy](images/hierarchy.svg) <img src=\"../outside.png\"> [next](01_next.ipynb)"
        " [web](https://example.org/x.png)")])
    nbformat.write(nb, lessons / "00_first.ipynb")

    written = student_notebooks.write_student_notebooks(output, lessons)

    assert written == [output / "00_first.ipynb"]
    assert (output / "images" / "hierarchy.svg").read_text() == "<svg/>"
    assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*")) == [
        "00_first.ipynb", "images", "images/hierarchy.svg"]  # nothing from outside the lessons


def test_solution_cells_are_dropped_and_the_exercise_cell_kept() -> None:
    exercise = nbformat.v4.new_code_cell("answer = ...  # your turn", metadata={"tags": ["exercise"]})
    solution = nbformat.v4.new_code_cell(
        "answer = 42", metadata={"tags": ["solution", "nbval-ignore-output"], "jupyter": {"source_hidden": True}})
    explanation = nbformat.v4.new_markdown_cell("42, because…", metadata={"tags": ["solution"]})
    nb = nbformat.v4.new_notebook(cells=[exercise, solution, explanation])

    (cell,) = student_notebooks.student_version(nb).cells

    assert cell.source == exercise.source
    assert cell.metadata == {"tags": ["exercise"]}


def test_keep_leaves_a_learners_copy_alone(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    first, *others = lesson_paths()
    worked = tmp_path / first.name
    worked.write_text("a learner's work")

    assert student_notebooks.main(["--keep", str(tmp_path)]) == 0

    assert worked.read_text() == "a learner's work"
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == sorted(p.name for p in (first, *others))
    assert str(worked) not in capsys.readouterr().out.splitlines()
    assert student_notebooks.main([str(tmp_path)]) == 0  # without --keep: rewritten
    assert read(worked).cells
