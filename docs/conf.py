"""Sphinx configuration for the tutorial's static site.

The lessons are the notebooks in ../notebooks, rendered with their committed outputs
(nothing is executed at build time). Build with ``make docs``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tools.solutions, for the lessons' exercises

project = "DICOMweb tutorial"
author = "dicomweb-tutorial contributors"
copyright = "dicomweb-tutorial contributors"

extensions = [
    "myst_nb",
    "lessons",  # stages ../notebooks into lessons/ and writes the learning-path table
    "sitecheck",  # fails the build on broken internal links, anchors and images
    "wirelexer",  # highlights the lessons' templated HTTP request/response sketches
    "lessonpage",  # collapses exercise solutions; a "Run this lesson" box with the notebook file
    "sphinx_copybutton",  # a copy button on every code block
]

# Copy buttons on what a reader runs (lesson cells, console and code blocks), not on cell outputs;
# a console block copies its commands without the "$ " prompt and without what they print.
copybutton_selector = "div:not(.output) > div.highlight pre"
copybutton_exclude = ".linenos, .gp, .go"

exclude_patterns = ["_build", "lessons/_learning_path.md", "**/.ipynb_checkpoints"]

# Notebooks are shown as committed: their outputs were produced against the emulator.
nb_execution_mode = "off"
# The staged lessons are read with their exercises' solutions loaded into the solution cells.
nb_custom_formats = {".ipynb": ["lessons.read_with_solutions", {"notebooks_dir": str(Path(__file__).parent / "lessons")}]}
nb_output_stderr = "show"
nb_merge_streams = True
# No widget JavaScript from a CDN: the site must work offline.
nb_ipywidgets_js = {}

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Every warning fails the build (make docs passes -W); unresolved references too.
nitpicky = True

html_theme = "furo"
html_title = "DICOMweb tutorial"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
# The theme credit in the footer names a person; the project names none.
html_show_sphinx = False
