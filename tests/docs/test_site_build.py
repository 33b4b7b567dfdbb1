"""The docs build: lessons in order from the notebooks, no execution, strict about links and images."""

from __future__ import annotations

import base64
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from .conftest import DOCS, REPO, build_site

sys.path.insert(0, str(DOCS / "_ext"))
import lessons  # noqa: E402  (the docs extension under test)
import sitecheck  # noqa: E402
import wirelexer  # noqa: E402

# A 1x1 PNG, enough for an image output.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360f8cfc0f01f0005000201a5f0a1b20000000049454e44ae426082"
    )
).decode()


def _lesson(directory: Path, name: str, *, extra_markdown: str = "", code: str = "x = 1", outputs=None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            f"# Title of {name}\n\n## What you'll learn\n\n- first goal of {name}\n- second goal\n\n"
            "## Time\n\n15 minutes"
        ),
        nbformat.v4.new_code_cell(code, execution_count=1, outputs=outputs or []),
        nbformat.v4.new_markdown_cell(f"## Summary\n\nDone.\n\n{extra_markdown}"),
    ]
    path = directory / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of docs/ (the build writes its staging folder there) and a notebooks folder;
    tools/solutions.py beside them, where conf.py finds it."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs, ignore=shutil.ignore_patterns("_build", "lessons", "__pycache__"))
    (tmp_path / "tools").mkdir()
    for name in ("__init__.py", "solutions.py"):
        shutil.copy2(REPO / "tools" / name, tmp_path / "tools")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    return docs, notebooks


def _build(project: tuple[Path, Path]):
    docs, notebooks = project
    result = build_site(docs.parent / "out", docs_dir=docs, notebooks=notebooks)
    return result, docs.parent / "out" / "html"


def test_lessons_are_picked_up_in_order_and_other_notebooks_ignored(project) -> None:
    _, notebooks = project
    for name in ("03_query", "01_auth", "10_extra", "02_store"):
        _lesson(notebooks, name)
    _lesson(notebooks, "scratch")
    result, html = _build(project)
    assert result.returncode == 0, result.stderr
    index = (html / "index.html").read_text(encoding="utf-8")
    positions = [index.index(f'href="lessons/{name}.html"') for name in ("01_auth", "02_store", "03_query", "10_extra")]
    assert positions == sorted(positions)
    assert not (html / "lessons" / "scratch.html").exists()
    # The learning-path table is built from each notebook's title, goals and time.
    table = index[index.index('id="learning-path-table"'):]
    table = table[: table.index("</table>")]
    assert [table.index(f"Title of {name}") for name in ("01_auth", "02_store", "03_query", "10_extra")] == sorted(
        table.index(f"Title of {name}") for name in ("01_auth", "02_store", "03_query", "10_extra")
    )
    assert "<li><p>first goal of 10_extra</p></li>" in table and table.count("15 min") == 4


def test_committed_outputs_are_shown_without_executing(project) -> None:
    _, notebooks = project
    output = nbformat.v4.new_output("stream", name="stdout", text="output committed with the notebook\n")
    image = nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
    _lesson(notebooks, "01_only", code="raise SystemExit('executed at build time')", outputs=[output, image])
    result, html = _build(project)
    assert result.returncode == 0, result.stderr
    page = (html / "lessons" / "01_only.html").read_text(encoding="utf-8")
    assert "output committed with the notebook" in page
    assert "executed at build time" in page  # the source, shown as code
    assert "SystemExit: executed" not in page
    # The lesson's one output image (the site's own pages may bring others, e.g. the viewer's screenshot).
    images = [path for path in (html / "_images").glob("*.png") if path.name in page]
    assert len(images) == 1


def test_solutions_are_collapsed_and_the_page_links_its_notebook(project) -> None:
    _, notebooks = project
    path = _lesson(notebooks, "01_only", code="print('the worked exercise')")
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("# %load solutions/01_answer.py", metadata={"tags": ["solution"]}))
    nbformat.write(nb, path)
    (notebooks / "solutions").mkdir()
    (notebooks / "solutions" / "01_answer.py").write_text("print('the answer')\n", encoding="utf-8")
    committed = path.read_bytes()

    result, html = _build(project)
    assert result.returncode == 0, result.stderr
    page = (html / "lessons" / "01_only.html").read_text(encoding="utf-8")
    # The solution cell, its file loaded into it, inside a closed <details>; the other cell stays open.
    solution = page[page.index('<div class="cell tag_solution'):]
    assert solution.index("<details") < solution.index("Show the solution") < solution.index("the answer")
    assert "<details open" not in page and page.count("<details") == 1
    assert page.index("the worked exercise") < page.index('<div class="cell tag_solution')
    # "Run this lesson", right under the title, with the notebook file as committed.
    box = page[page.index('class="tip run-this-lesson admonition"'):]
    assert page.index("</h1>") < page.index("run-this-lesson") < page.index("first goal of 01_only")
    text = re.sub(r"<[^>]+>", "", box[: box.index("</div>")])
    assert "make lab starts JupyterLab" in text and "Open 01_only.ipynb there" in text and "Run All Cells" in text
    download = box[box.index('href="', box.index("reference download")) + 6:]
    download = download[: download.index('"')]
    assert download.endswith("/01_only.ipynb")
    assert (html / "lessons" / download).resolve().read_bytes() == committed


def test_links_between_lessons_resolve(project) -> None:
    _, notebooks = project
    _lesson(notebooks, "01_first", extra_markdown="Next: [the second lesson](02_second.ipynb)")
    _lesson(notebooks, "02_second", extra_markdown="Back to [the first](01_first.ipynb#what-youll-learn)")
    result, html = _build(project)
    assert result.returncode == 0, result.stderr
    assert 'href="02_second.html"' in (html / "lessons" / "01_first.html").read_text(encoding="utf-8")


def test_broken_internal_link_fails_the_build(project) -> None:
    _, notebooks = project
    _lesson(notebooks, "01_first", extra_markdown="Next: [the missing lesson](02_missing.ipynb)")
    result, _ = _build(project)
    assert result.returncode != 0
    assert "02_missing.ipynb" in result.stderr


def test_broken_anchor_in_raw_html_fails_the_build(project) -> None:
    _, notebooks = project
    _lesson(notebooks, "01_first", extra_markdown='<a href="#no-such-section">jump</a>')
    result, _ = _build(project)
    assert result.returncode != 0
    assert "#no-such-section points to a missing anchor" in result.stderr


def test_missing_image_fails_the_build(project) -> None:
    _, notebooks = project
    _lesson(notebooks, "01_first", extra_markdown="![a picture](missing-picture.png)")
    result, _ = _build(project)
    assert result.returncode != 0
    assert "missing-picture.png" in result.stderr


def test_images_referenced_outside_the_notebooks_are_copied(project) -> None:
    docs, notebooks = project
    (docs.parent / "data").mkdir()
    (docs.parent / "data" / "diagram.png").write_bytes(base64.b64decode(PNG))
    _lesson(notebooks, "01_first", extra_markdown="![a diagram](../data/diagram.png)")
    result, html = _build(project)
    assert result.returncode == 0, result.stderr
    page = (html / "lessons" / "01_first.html").read_text(encoding="utf-8")
    assert "diagram.png" in page and list((html / "_images").glob("diagram*.png"))
    # What the build staged is ignored by git through its own .gitignore.
    assert (docs / "data" / ".gitignore").read_text() == lessons.STAGED_MARKER


def test_no_notebooks_is_a_clear_error(project) -> None:
    result, _ = _build(project)
    assert result.returncode != 0
    assert "no lesson notebooks" in result.stderr


def test_read_lesson_takes_title_goals_and_time(tmp_path: Path) -> None:
    path = _lesson(tmp_path, "04_query")
    lesson = lessons.read_lesson(path)
    assert lesson == lessons.Lesson("lessons/04_query", "Title of 04_query",
                                    ["first goal of 04_query", "second goal"], "15 min")


def test_read_lesson_joins_wrapped_goals_and_drops_relative_links(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Query\n\n## What you\u2019ll learn\n\n1. Search by [PatientName](02_upload.ipynb)\n"
            "   with fuzzy matching.\n2. Read a 204.\n\n**Time:** 20\u201325 minutes"
        )
    ]
    nbformat.write(nb, tmp_path / "04_query.ipynb")
    lesson = lessons.read_lesson(tmp_path / "04_query.ipynb")
    assert lesson.learn == ["Search by PatientName with fuzzy matching.", "Read a 204."]
    assert lesson.minutes == "20\u201325 min"


def test_wire_contract_blocks_highlight_without_errors() -> None:
    from pygments.token import Error

    sketch = ("POST {base_url}/studies\nAccept: application/dicom+json\n\n--{boundary}\n<blue-circle.dcm>\n"
              "\u2192 409 Conflict\n")
    tokens = list(wirelexer.WireContractLexer().get_tokens(sketch))
    assert Error not in {token for token, _ in tokens}
    assert ("Accept" in {value for _, value in tokens}) and ("POST" in {value for _, value in tokens})


def test_site_check_reports_broken_links_anchors_images_and_remote_scripts(tmp_path: Path) -> None:
    (tmp_path / "other.html").write_text('<h1 id="top">Other</h1>', encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<a href="other.html#top">ok</a> <a href="other.html#gone">bad anchor</a>'
        ' <a href="nowhere.html">bad page</a> <img src="_images/none.png">'
        ' <script src="https://cdn.example.org/x.js"></script> <a href="https://example.org/">external</a>',
        encoding="utf-8",
    )
    assert sorted(sitecheck.check_site(tmp_path)) == sorted(
        [
            "index.html: <a> other.html#gone points to a missing anchor",
            "index.html: <a> nowhere.html points to a missing file",
            "index.html: <img> _images/none.png points to a missing file",
            "index.html: <script> loads https://cdn.example.org/x.js from the network",
        ]
    )
