"""Sphinx extension: what a lesson page adds to its notebook, as tutorial sites do.

- Exercise solutions (code cells tagged ``solution``) are collapsed: the whole cell sits in a
  closed ``<details>`` labelled "Show the solution", through myst-nb's own hide-cell toggle, so a
  reader tries the exercise before seeing the answer. A solution's explanation (a Markdown cell
  tagged ``solution``) is collapsed the same way, under "Show the explanation".
- Under the title, a "Run this lesson" box links to the notebook file (a download) and says how
  to run it.

The notebook files are not changed: the download is the lesson as committed.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

from myst_nb.core.render import MditRenderMixin
from myst_nb.sphinx_ import HideCodeCellNode

from lessons import STAGE_DIR

SOLUTION_TAG = "solution"
SHOW_SOLUTION = "Show the solution"
HIDE_SOLUTION = "Hide the solution"
SHOW_EXPLANATION = "Show the explanation"
HIDE_EXPLANATION = "Hide the explanation"
MARKDOWN_SOLUTION = "cell_markdown_solution"


def is_solution(node: nodes.Node) -> bool:
    """True for the container myst-nb makes of a code cell tagged ``solution``."""
    return (isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"
            and SOLUTION_TAG in (node.get("cell_metadata") or {}).get("tags", []))


def _render_markdown_cell(original):  # type: ignore[no-untyped-def]
    """myst-nb renders a Markdown cell straight into the page, keeping no trace of its tags; a cell
    tagged ``solution`` is rendered into a container instead, so that it can be collapsed."""

    def render(self, token) -> None:  # type: ignore[no-untyped-def]
        if SOLUTION_TAG not in token.meta.get("metadata", {}).get("tags", []):
            return original(self, token)
        container = nodes.container(nb_element=MARKDOWN_SOLUTION, classes=["solution-explanation"])
        self.add_line_and_source_path(container, token)
        with self.current_node_context(container, append=True):
            self.render_children(token)
        return None

    return render


class CollapseSolutions(SphinxPostTransform):
    """Mark solution cells as myst-nb's ``hide-cell``, before myst-nb wraps hidden cells."""

    default_priority = 190  # myst-nb's HideInputCells runs at 199 and builds the <details>
    formats = ("html",)

    def run(self, **kwargs: object) -> None:
        for node in list(self.document.findall(is_solution)):
            node["hide_mode"] = "all"
            node["prompt_show"] = SHOW_SOLUTION
            node["prompt_hide"] = HIDE_SOLUTION
        for node in list(self.document.findall(nodes.container)):
            if node.get("nb_element") == MARKDOWN_SOLUTION and node.children:
                wrap = HideCodeCellNode(prompt_show=SHOW_EXPLANATION, prompt_hide=HIDE_EXPLANATION)
                wrap["classes"].append("above-input")
                wrap.extend(node.children)
                node.children = [wrap]


def _run_this_lesson(docname: str, notebook: str) -> nodes.Element:
    """The box under a lesson's title: how to run it, and the notebook file to download."""
    download = addnodes.download_reference("", "", refdoc=docname, reftarget=notebook, refexplicit=True,
                                           refdomain="", reftype="download")
    download += nodes.literal(notebook, notebook, classes=["xref", "download"])
    how = nodes.paragraph()
    how += [
        nodes.Text("From a clone of the repository, "),
        nodes.literal("make lab", "make lab"),
        nodes.Text(" starts JupyterLab with the local emulator running (the first time it installs the "
                   "packages, in about 2 minutes). Open "),
        nodes.literal(notebook, notebook),
        nodes.Text(" there and choose Run \N{RIGHTWARDS ARROW} Run All Cells, or run the cells one by one "
                   "from the top."),
    ]
    file = nodes.paragraph()
    file += [nodes.Text("The notebook file: "), download,
             nodes.Text(" (it imports the repository's "), nodes.literal("helpers", "helpers"),
             nodes.Text(" package, so run it from the clone).")]
    box = nodes.admonition("", nodes.title("", "Run this lesson"), how, file,
                           classes=["tip", "run-this-lesson"])
    return box


def _add_run_box(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not docname.startswith(f"{STAGE_DIR}/"):
        return
    source = Path(app.env.doc2path(docname))
    if source.suffix != ".ipynb":
        return
    section = doctree.next_node(nodes.section)
    if section is None:
        return
    section.insert(1, _run_this_lesson(docname, source.name))  # right under the title


def setup(app: Sphinx) -> dict[str, object]:
    if not getattr(MditRenderMixin.render_nb_cell_markdown, "_collapses_solutions", False):
        MditRenderMixin.render_nb_cell_markdown = _render_markdown_cell(MditRenderMixin.render_nb_cell_markdown)
        MditRenderMixin.render_nb_cell_markdown._collapses_solutions = True  # type: ignore[attr-defined]
    app.add_post_transform(CollapseSolutions)
    # Before Sphinx's own doctree-read collectors (priority 500), which register download links.
    app.connect("doctree-read", _add_run_box, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
