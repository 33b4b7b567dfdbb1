"""Sphinx extension: put the tutorial notebooks into the site, in lesson order.

The notebooks live in ``<repo>/notebooks``; Sphinx only reads documents under its
source directory, so at ``config-inited`` the lessons (``[0-9][0-9]_*.ipynb``) are
copied into ``docs/lessons/`` (a build-only directory that ignores itself in git), with
their exercises' solution files and the files their Markdown cells reference by relative
path. The site reads each notebook through ``read_with_solutions`` (conf.py's
``nb_custom_formats``): each solution cell shows its file's code, collapsed by lessonpage.py,
while the file offered for download stays the lesson as committed. A Markdown
table of the learning path is generated from each notebook's title, "What you'll
learn" and "Time" sections, for the landing page to include.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tools import solutions  # conf.py puts the repository on the path
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.util import logging

logger = logging.getLogger(__name__)

LESSON_GLOB = "[0-9][0-9]_*.ipynb"
STAGE_DIR = "lessons"
TABLE_FILE = "_learning_path.md"
NOTEBOOKS_ENV = "DICOMWEB_DOCS_NOTEBOOKS"

# Markdown links/images and HTML src/href attributes with a relative target.
_MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Lesson:
    """What the learning-path table shows for one notebook."""

    docname: str
    title: str
    learn: list[str]
    minutes: str


def notebooks_dir(confdir: Path) -> Path:
    """Where the lessons are read from: ``$DICOMWEB_DOCS_NOTEBOOKS`` or ``<repo>/notebooks``."""
    override = os.environ.get(NOTEBOOKS_ENV)
    return Path(override).resolve() if override else (confdir.parent / "notebooks").resolve()


def _markdown_cells(nb: dict) -> list[str]:
    cells = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            cells.append("".join(source) if isinstance(source, list) else source)
    return cells


def _sections(markdown: str) -> dict[str, list[str]]:
    """Map each heading (lower-cased, any level) to the lines under it."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in markdown.splitlines():
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            current = sections.setdefault(_normalise(heading.group(1)), [])
        elif current is not None:
            current.append(line)
    return sections


def _normalise(heading: str) -> str:
    return heading.strip().lower().replace("\u2019", "'")


def _find_section(sections: dict[str, list[str]], prefix: str) -> list[str] | None:
    for name, lines in sections.items():
        if name.startswith(prefix):
            return lines
    return None


def _inline(text: str) -> str:
    """One line of the table: Markdown links reduced to their text (they are relative to the notebook)."""
    return re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text).strip()


def read_lesson(path: Path) -> Lesson:
    """Read the title, learning goals and time of a lesson notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    markdown = "\n\n".join(_markdown_cells(nb))
    title_match = re.search(r"^#\s+(.+?)\s*$", markdown, flags=re.MULTILINE)
    title = title_match.group(1) if title_match else path.stem
    sections = _sections(markdown)

    learn_lines = _find_section(sections, "what you'll learn") or []
    learn: list[str] = []
    for line in learn_lines:
        item = re.match(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)", line)
        if item:
            learn.append(_inline(item.group(1)))
        elif learn and line.startswith((" ", "\t")) and line.strip():
            learn[-1] = _inline(f"{learn[-1]} {line.strip()}")  # a wrapped list item
    time_lines = _find_section(sections, "time") or []
    minutes_match = re.search(r"(\d+)\s*(?:-|–|to)?\s*(\d+)?\s*min", " ".join(time_lines))
    if not minutes_match:
        # "Time" may also be a bold label in a paragraph: "**Time:** 15 minutes".
        minutes_match = re.search(r"time\W*(\d+)\s*(?:-|–|to)?\s*(\d+)?\s*min", markdown, re.I)
    if minutes_match:
        low, high = minutes_match.groups()
        minutes = f"{low}–{high} min" if high else f"{low} min"
    else:
        minutes = ""
        logger.warning("%s: no 'Time' (minutes) found for the learning path", path.name)
    if not learn:
        logger.warning("%s: no \"What you'll learn\" list found for the learning path", path.name)
    return Lesson(f"{STAGE_DIR}/{path.stem}", _inline(title), learn, minutes)


def learning_path_table(lessons: list[Lesson]) -> str:
    """The landing page's table, as a MyST list-table with absolute doc references."""
    lines = [
        "```{list-table}",
        ":header-rows: 1",
        ":widths: 30 55 15",
        ":name: learning-path-table",
        "",
        "* - Lesson",
        "  - What you'll learn",
        "  - Time",
    ]
    for lesson in lessons:
        lines.append(f"* - {{doc}}`{lesson.title} </{lesson.docname}>`")
        if lesson.learn:
            lines.append(f"  - - {lesson.learn[0]}")
            lines.extend(f"    - {goal}" for goal in lesson.learn[1:])
        else:
            lines.append("  -")
        lines.append(f"  - {lesson.minutes}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def read_with_solutions(text: str, notebooks_dir: str) -> nbformat.NotebookNode:
    """myst-nb's reader for the staged lessons: the notebook with each solution file in its cell, and
    each explanation without the ``<details>`` wrapper it needs in JupyterLab (lessonpage.py collapses
    it into the site's own box)."""
    notebook = solutions.with_solutions(nbformat.reads(text, as_version=4), Path(notebooks_dir))
    for cell in notebook.cells:
        if solutions.is_explanation(cell):
            cell.source = solutions.explanation_text(cell)
    return notebook


def _referenced_files(nb_path: Path, source_root: Path) -> list[Path]:
    """Files outside the notebook that its Markdown cells reference by relative path."""
    found = []
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for markdown in _markdown_cells(nb):
        for target in _MD_LINK.findall(markdown) + _HTML_LINK.findall(markdown):
            if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target, flags=re.I):
                continue  # absolute URL, mailto:, in-page anchor or site-absolute path
            relative = target.split("#", 1)[0].split("?", 1)[0]
            if not relative or relative.endswith(".ipynb"):
                continue
            candidate = (nb_path.parent / relative).resolve()
            if candidate.is_file() and candidate.is_relative_to(source_root):
                found.append(candidate)
    return found


STAGED_MARKER = "# build output of docs/_ext/lessons.py\n*\n"


def _clear_staged(srcdir: Path) -> None:
    """Remove what an earlier build staged (folders marked by their .gitignore)."""
    for child in srcdir.iterdir():
        if _is_staged(child):
            shutil.rmtree(child)


def _is_staged(path: Path) -> bool:
    marker = path / ".gitignore"
    return path.is_dir() and marker.is_file() and marker.read_text(encoding="utf-8") == STAGED_MARKER


def _staged_dir(path: Path) -> Path:
    """Create a build-only folder that git ignores through its own .gitignore."""
    path.mkdir(parents=True)
    (path / ".gitignore").write_text(STAGED_MARKER, encoding="utf-8")
    return path


def stage_lessons(app: Sphinx, config: Config) -> None:
    """Copy the lessons (and the files they reference) into the source directory."""
    srcdir = Path(app.srcdir)
    source = notebooks_dir(Path(app.confdir))
    notebooks = sorted(source.glob(LESSON_GLOB))
    if not notebooks:
        raise ConfigError(f"no lesson notebooks ({LESSON_GLOB}) in {source}")

    _clear_staged(srcdir)
    stage = _staged_dir(srcdir / STAGE_DIR)
    root = source.parent
    for nb_path in notebooks:
        shutil.copy2(nb_path, stage / nb_path.name)
        for ref in _referenced_files(nb_path, root):
            _stage_reference(srcdir, stage, root, source, ref)

    if (source / solutions.SOLUTIONS_DIR).is_dir():
        shutil.copytree(source / solutions.SOLUTIONS_DIR, stage / solutions.SOLUTIONS_DIR)

    lessons = [read_lesson(nb_path) for nb_path in notebooks]
    (stage / TABLE_FILE).write_text(learning_path_table(lessons), encoding="utf-8")
    logger.info("lessons: staged %d notebooks from %s", len(notebooks), source)


def _stage_reference(srcdir: Path, stage: Path, root: Path, source: Path, ref: Path) -> None:
    """Copy a referenced file so that the notebook's relative link still resolves.

    The stage sits one level below the source directory, as notebooks/ sits below the
    repository, so "../data/x.png" is staged as <srcdir>/data/x.png.
    """
    rel = ref.relative_to(root)
    if rel.parts[0] == source.name:
        target = stage / Path(*rel.parts[1:])
    elif len(rel.parts) == 1:
        logger.warning("a lesson links to %s, outside the notebooks; the site cannot serve it", rel)
        return
    else:
        top = srcdir / rel.parts[0]
        if not top.exists():
            _staged_dir(top)
        elif not _is_staged(top):
            raise ConfigError(f"a lesson references {rel}, which would land in the site source docs/{rel.parts[0]}/")
        target = srcdir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ref, target)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", stage_lessons)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
