"""regenerate.committed_form: what `make regenerate` changes in an executed notebook before it is written."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.notebooks.regenerate import committed_form

RUN, DEFAULT = "http://127.0.0.1:37573", "http://127.0.0.1:8765"


def _stdout(text: str) -> nbformat.NotebookNode:
    return new_output("stream", name="stdout", text=text)


def test_outputs_show_the_default_url_and_nothing_else_changes() -> None:
    source = f'print("{RUN}/v2")'
    nb = new_notebook(cells=[
        new_markdown_cell(f"The run used {RUN}/v2."),
        new_code_cell(source, outputs=[
            _stdout(f"base URL: {RUN}/v2\nother: {RUN}0/v2 and http://127.0.0.1:8042/dicom-web\n"),
            new_output("execute_result", data={"text/plain": f"'{RUN}/v1'",
                                               "application/json": {"url": [f"{RUN}/v2/studies"]}},
                       execution_count=1),
        ]),
    ])

    committed_form(nb, RUN, DEFAULT)

    markdown, code = nb.cells
    assert markdown.source == f"The run used {RUN}/v2." and code.source == source  # outputs only
    stream, result = code.outputs
    assert stream.text == (f"base URL: {DEFAULT}/v2\n"
                           f"other: {RUN}0/v2 and http://127.0.0.1:8042/dicom-web\n")  # another port stays
    assert result.data == {"text/plain": f"'{DEFAULT}/v1'", "application/json": {"url": [f"{DEFAULT}/v2/studies"]}}
    nbformat.validate(nb)


def test_solution_cells_keep_no_outputs_and_only_their_tag() -> None:
    # A solution cell that a learner loaded and ran, then saved: back to no output, and no collapsed
    # state for JupyterLab to rewrite when it opens the notebook.
    solution = new_code_cell("print(401)", outputs=[_stdout("401\n")],
                             metadata={"tags": ["solution"], "collapsed": True, "jupyter": {"outputs_hidden": True}})
    other = new_code_cell("print(1)", outputs=[_stdout("1\n")], metadata={"tags": ["exercise"]})
    nb = new_notebook(cells=[solution, other])

    committed_form(nb, RUN, DEFAULT)
    committed_form(nb, RUN, DEFAULT)  # a second regenerate changes nothing more

    assert solution.outputs == [] and solution.metadata == {"tags": ["solution"]}
    assert other.outputs == [_stdout("1\n")] and other.metadata["tags"] == ["exercise"]


def test_consecutive_prints_to_one_stream_are_one_output() -> None:
    # How the kernel split the prints into messages depends on timing; the file must not.
    stderr = new_output("stream", name="stderr", text="warning\n")
    cell = new_code_cell("...", outputs=[_stdout("a\n"), _stdout("b\n"), stderr, _stdout("c\n"), _stdout("d\n")])
    nb = new_notebook(cells=[cell])

    committed_form(nb, RUN, DEFAULT)

    assert cell.outputs == [_stdout("a\nb\n"), stderr, _stdout("c\nd\n")]
