"""Every lesson notebook follows the template and makes every request of the original tutorial.

Static checks on the committed notebooks (nbval separately checks that their outputs are current):
the template's sections in order, exercises with a working cell and a collapsed solution, a valid
"What's next" link, no unrun cells, checks that read as sentences rather than bare asserts, few
server-flavor branches, and the original tutorial's requests found in the committed
``show_request`` output, so a request that was dropped or changed fails here. The original
tutorial's defects are listed, with the lesson that fixes each, on docs/coming-from-microsoft.md.
"""

import re

import pytest
from pydicom.datadict import keyword_for_tag

from helpers.samples import RED_TRIANGLE, STUDY_UID
from tests.notebooks.lesson_files import EXPECTED, headings, read, solutions, stream_text
from tests.support.lessons import NOTEBOOK_DIR, REPO, lesson_paths

S, SE, I = STUDY_UID, RED_TRIANGLE.series_uid, RED_TRIANGLE.sop_uid
INSTANCE = f"/studies/{S}/series/{SE}/instances/{I}"
DICOM_ALL = 'multipart/related; type="application/dicom"; transfer-syntax=*'
JSON = "application/dicom+json"
OCTET = 'multipart/related; type="application/octet-stream"'

# (method, path relative to the base URL, header name, header value or None for "any"); in a path,
# {n} stands for a number that depends on the server's history (a change-feed sequence number).
SEED_REQUESTS = {
    "00_dicom_in_brief": [],  # no server: it reads the sample files
    "01_authenticate": [
        ("GET", "/changefeed", "Authorization", "Bearer <token>"),
    ],
    "02_upload": [
        ("POST", "/studies", "Content-Type", 'multipart/related; type="application/dicom"; boundary=*'),
        ("POST", f"/studies/{S}", "Content-Type", 'multipart/related; type="application/dicom"; boundary=*'),
        ("POST", "/studies", "Content-Type", "application/dicom"),
        ("POST", "/studies", "Accept", JSON),
    ],
    "03_retrieve": [
        ("GET", f"/studies/{S}", "Accept", DICOM_ALL),
        ("GET", f"/studies/{S}/metadata", "Accept", JSON),
        ("GET", f"/studies/{S}/series/{SE}", "Accept", DICOM_ALL),
        ("GET", f"/studies/{S}/series/{SE}/metadata", "Accept", JSON),
        ("GET", INSTANCE, "Accept", "application/dicom; transfer-syntax=*"),
        ("GET", f"{INSTANCE}/metadata", "Accept", JSON),
        ("GET", f"{INSTANCE}/frames/1", "Accept", OCTET + "; transfer-syntax=1.2.840.10008.1.2.1"),
        ("GET", f"{INSTANCE}/frames/1", "Accept", OCTET + "; transfer-syntax=*"),
        ("GET", f"{INSTANCE}/frames/1", "Accept", OCTET),
        ("GET", f"{INSTANCE}/rendered?quality=90", "Accept", "image/jpeg"),
        ("GET", f"{INSTANCE}/frames/1/rendered", "Accept", "image/png"),
    ],
    "04_query": [
        ("GET", f"/studies?StudyInstanceUID={S}", "Accept", JSON),
        ("GET", f"/series?SeriesInstanceUID={SE}", "Accept", JSON),
        ("GET", f"/studies/{S}/series?SeriesInstanceUID={SE}", "Accept", JSON),
        ("GET", f"/studies/{S}/series", "Accept", JSON),
        ("GET", f"/instances?SOPInstanceUID={I}", "Accept", JSON),
        ("GET", f"/studies/{S}/instances?SOPInstanceUID={I}", "Accept", JSON),
        ("GET", f"/studies/{S}/instances", "Accept", JSON),
        ("GET", f"/studies/{S}/series/{SE}/instances?SOPInstanceUID={I}", "Accept", JSON),
        ("GET", f"/studies/{S}/series/{SE}/instances?SOPInstanceUID={I}", "Authorization", "Bearer <token>"),
        ("GET", f"/studies/{S}/series/{SE}/instances", "Accept", JSON),
        ("GET", "/studies?PatientName=anon&fuzzymatching=true", "Accept", JSON),
        ("GET", "/studies?StudyDate=20200901-20200930", "Accept", JSON),
    ],
    "05_delete": [
        ("DELETE", INSTANCE, "Authorization", "Bearer <token>"),
        ("DELETE", f"/studies/{S}/series/{SE}", "Authorization", "Bearer <token>"),
        ("DELETE", f"/studies/{S}", "Authorization", "Bearer <token>"),
    ],
    # 06 prints paths from the service URL (/v1/… and /v2/…); the v2 time windows vary with the clock.
    "06_change_feed": [
        ("GET", "/v1/changefeed/latest?includeMetadata=false", "Authorization", "Bearer <token>"),
        ("GET", "/v1/changefeed?offset={n}&limit=10", "Authorization", "Bearer <token>"),
        ("GET", "/v1/changefeed?offset={n}&limit=2&includeMetadata=false", "Authorization", "Bearer <token>"),
        ("GET", "/v2/changefeed?limit=201", "Authorization", "Bearer <token>"),
    ],
    # 07's CT study: its UIDs are hashes (data/make_ct_series.py), so the paths are matched by shape.
    "07_real_world_images": [
        ("POST", "/studies/{uid}", "Content-Type", 'multipart/related; type="application/dicom"; boundary=*'),
        ("GET", "/studies/{uid}/series/{uid}/instances?limit=20&offset=0&includefield=InstanceNumber", "Accept", JSON),
        ("GET", "/studies/{uid}/series/{uid}", "Accept", DICOM_ALL),
        ("GET", "/studies/{uid}/series/{uid}/instances/{uid}/frames/1,9", "Accept",
         'multipart/related; type="image/jp2"'),
        ("GET", "/studies/{uid}/series/{uid}/instances/{uid}/frames/9/rendered", "Accept", "image/png"),
    ],
}
NO_SERVER = {"00_dicom_in_brief"}  # lessons that make no request at all

COMING_FROM_MICROSOFT = REPO / "docs" / "coming-from-microsoft.md"
POINTER = "*Coming from Microsoft's tutorial* (`docs/coming-from-microsoft.md`)"
# The lessons that fix one of the original tutorial's defects, and so carry the one-line pointer.
FIXING_LESSONS = ["01_authenticate", "02_upload", "03_retrieve", "04_query"]

# Targets of issue 8: lesson code reads as a lesson, not as a test suite.
MAX_BARE_ASSERTS = 3
MAX_FLAVOR_BRANCHES = 2
FLAVOR_TESTS = ("client.flavor", "client.supports", "has_feed", "can_delete")
CITATION = re.compile(r"PS3\.\d+ (?:§|Annex|Table)")

# The original tutorial's defects, and a phrase that shows the notebooks say they fixed each.
FIXED_DEFECTS = {
    "credential.credentials[4]": r"credentials\[4\]",
    "resource instead of scope": r"\*scope\*",
    "token never renewed": r"fetched one token",
    "verify=False": r"verify=False",
    "invalid base_url line": r'base_url = f"\{Service URL\}/v\{version\}"',
    "missing Authorization on the last search": r"held only `Accept`",
    '"specific study" upload to /studies': r"posts to `/studies/\{study\}`",
    "missing slash in series{series}": r"series\{series\}",
    "form-data part headers": r"Content-Disposition: form-data",
    "undeclared requests_toolbelt": r"imported `requests_toolbelt`",
}

REQUIRED_SECTIONS = ["What you'll learn", "Prerequisites", "Time to learn", "Imports", "Exercises",
                     "Summary", "What's next"]

NOTEBOOKS = {path.stem: path for path in lesson_paths()}
LESSONS = list(NOTEBOOKS)  # every lesson notebook follows the template, not only the first five


def test_the_lessons_come_in_order():
    assert LESSONS[:len(EXPECTED)] == EXPECTED
    numbers = [int(name[:2]) for name in LESSONS]
    assert numbers == list(range(len(LESSONS))), "lesson numbers must run 00, 01, 02, ... without gaps"


@pytest.fixture(params=LESSONS)
def lesson(request):
    return request.param, read(NOTEBOOKS[request.param])


def _requests_shown(nb) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, headers) of every request the notebook printed with show_request."""
    shown = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = stream_text(cell).splitlines()
        for number, line in enumerate(lines):
            match = re.fullmatch(r"(GET|POST|PUT|DELETE) (/\S*)", line)
            if not match:
                continue
            headers = {}
            for header in lines[number + 1:]:
                if ": " not in header or header.startswith(" "):
                    break
                name, value = header.split(": ", 1)
                headers[name] = value
            shown.append((match[1], match[2], headers))
    return shown


def _path_matches(actual: str, expected: str) -> bool:
    pattern = re.escape(expected).replace(re.escape("{n}"), r"\d+").replace(re.escape("{uid}"), r"[0-9.]+")
    return re.fullmatch(pattern, actual) is not None


def _header_matches(actual: str | None, expected: str) -> bool:
    if actual is None:
        return False
    if expected.endswith("*") and "boundary=" in expected:
        return actual.startswith(expected[:-1])
    return actual == expected


def test_template_sections_in_order(lesson):
    name, nb = lesson
    found = [(level, text) for cell in nb.cells for level, text in headings(cell)]
    h1 = [text for level, text in found if level == 1]
    assert len(h1) == 1, f"{name}: exactly one H1 title, found {h1}"
    assert headings(nb.cells[0])[0][0] == 1, f"{name}: the first cell starts with the H1 title"
    titles = [text for level, text in found if level == 2]
    positions = []
    for section in REQUIRED_SECTIONS:
        matches = [i for i, title in enumerate(titles) if title.startswith(section)]
        assert matches, f"{name}: missing section '## {section}'"
        positions.append(matches[0])
    assert positions == sorted(positions), f"{name}: sections out of order: {titles}"
    body_sections = titles[positions[3] + 1:positions[4]]
    assert body_sections, f"{name}: no lesson sections between Imports and Exercises"


def _cell_after_heading(nb, heading: str):
    for index, cell in enumerate(nb.cells):
        if any(text.startswith(heading) for _, text in headings(cell)):
            return index, cell
    raise AssertionError(f"no heading {heading!r}")


def test_prerequisites_table_and_time(lesson):
    name, nb = lesson
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert re.search(r"^\| *Concept *\| *Importance *\| *Notes *\|$", text, re.MULTILINE), \
        f"{name}: Prerequisites needs a Concept | Importance | Notes table"
    time_section = text.split("## Time to learn", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"\b\d+ minutes\b", time_section), f"{name}: 'Time to learn' must say N minutes"
    assert re.search(r"\*Updated: [A-Z][a-z]+ \d{4}\*", text), f"{name}: missing the 'Updated' stamp"


def test_imports_cell_holds_only_imports(lesson):
    name, nb = lesson
    index, _ = _cell_after_heading(nb, "Imports")
    cell = nb.cells[index + 1]
    assert cell.cell_type == "code", f"{name}: the Imports heading must be followed by a code cell"
    statements = [line for line in cell.source.splitlines()
                  if line.strip() and not line.startswith((" ", "#", ")"))]
    assert statements and all(re.match(r"(import|from) \S", line) for line in statements), \
        f"{name}: the Imports cell must hold only imports: {statements}"


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def test_exercises_have_a_working_cell_then_a_solution_loaded_on_demand(lesson):
    # Question, then a cell the learner works in, then the solution cell: only a commented %load of
    # its file, so Run All never runs or shows it (tools/solutions.py), then the explanation, in a closed
    # <details> that Run All does not open.
    name, nb = lesson
    start, _ = _cell_after_heading(nb, "Exercises")
    end, _ = _cell_after_heading(nb, "Summary")
    exercises = [i for i in range(start, end)
                 if any(text.startswith("Exercise") for level, text in headings(nb.cells[i]) if level == 3)]
    assert len(exercises) >= 2, f"{name}: at least two exercises"
    for index in exercises:
        working, solution, explanation = nb.cells[index + 1:index + 4]
        where = f"{name}: exercise in cell {index}"
        assert working.cell_type == "code" and _tags(working) == ["exercise"], f"{where}: no working cell after it"
        assert "hint" in working.source.lower(), f"{where}: the working cell gives no hint"
        assert not working.metadata.get("jupyter"), f"{where}: the working cell must not be collapsed"
        assert solution.cell_type == "code" and _tags(solution) == ["solution"], \
            f"{where}: no solution cell, tagged solution, after the working cell"
        assert solution.metadata == {"tags": ["solution"]}, \
            f"{where}: the solution cell carries metadata JupyterLab would rewrite (run make regenerate)"
        path = solutions.solution_path(solution, NOTEBOOK_DIR)
        assert path.name.startswith(name[:3]), f"{where}: {path.name} must start with the lesson number"
        assert [line for line in solution.source.splitlines() if not line.startswith("#")] == [], \
            f"{where}: the solution cell must hold only comments and its %load line"
        assert solution.execution_count is not None and solution.outputs == [], \
            f"{where}: the solution cell must be run, with no output (run make regenerate)"
        code = path.read_text(encoding="utf-8")
        assert "expect" in code, f"{where}: {path.name} checks nothing (end it with expect or expect_value)"
        assert not re.match(r"#\s*solution", code, re.IGNORECASE), f"{where}: {path.name} must start neutrally"
        assert solutions.is_explanation(explanation), \
            f"{where}: the solution's explanation must follow it, tagged solution"
        assert solutions.explanation_text(explanation).strip(), f"{where}: the explanation is empty"
        assert explanation.metadata == {"tags": ["solution"]}, \
            f"{where}: the explanation carries metadata (a hidden input would open on Run All)"


def test_every_solution_file_belongs_to_one_solution_cell():
    loaded = [solutions.solution_path(cell, NOTEBOOK_DIR).name for path in lesson_paths()
              for cell in read(path).cells if solutions.is_solution_code(cell)]
    files = sorted(path.name for path in (NOTEBOOK_DIR / solutions.SOLUTIONS_DIR).glob("*.py"))
    assert sorted(loaded) == files, "each file in notebooks/solutions/ is loaded by exactly one solution cell"


def _code_lines(nb) -> list[str]:
    """The lesson's code lines, its solutions' included."""
    loaded = solutions.with_solutions(nb, NOTEBOOK_DIR)
    return [line for cell in loaded.cells if cell.cell_type == "code" for line in cell.source.splitlines()]


def count_bare_asserts(nb) -> int:
    return sum(1 for line in _code_lines(nb) if re.match(r"\s*assert\b", line))


def count_flavor_branches(nb) -> int:
    """if/elif statements and conditional expressions that test which server this is."""
    return sum(1 for line in _code_lines(nb)
               if any(test in line for test in FLAVOR_TESTS)
               and (re.match(r"\s*(if|elif)\b", line) or re.search(r"\sif\s", line)))


def test_checks_read_as_sentences_not_bare_asserts(lesson):
    name, nb = lesson
    assert count_bare_asserts(nb) <= MAX_BARE_ASSERTS, \
        f"{name}: {count_bare_asserts(nb)} bare asserts; use helpers.checks.expect / expect_value"


def test_server_differences_stay_out_of_the_cells(lesson):
    name, nb = lesson
    assert count_flavor_branches(nb) <= MAX_FLAVOR_BRANCHES, \
        f"{name}: {count_flavor_branches(nb)} server-flavor branches; move them into helpers.portable"


def _paragraphs(markdown: str) -> list[str]:
    """Blank-line separated blocks; a list item or table row counts as its own paragraph."""
    markdown = re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)
    found = []
    for block in re.split(r"\n\s*\n", markdown):
        if re.match(r"\s*([-*] |\d+\. |\|)", block):
            found += re.split(r"\n(?=\s*(?:[-*] |\d+\. |\|))", block)
        else:
            found.append(block)
    return found


def test_at_most_one_citation_per_paragraph(lesson):
    name, nb = lesson
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for paragraph in _paragraphs(cell.source):
                assert len(CITATION.findall(paragraph)) <= 1, f"{name}: more than one PS3.x citation in: {paragraph}"


def test_every_raw_tag_is_shown_with_its_keyword(lesson):
    # `00081199` alone means nothing to a newcomer: its keyword goes with it, in the same paragraph.
    name, nb = lesson
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for paragraph in _paragraphs(cell.source):
            for tag in re.findall(r"`([0-9A-F]{8})`", paragraph):
                keyword = keyword_for_tag(int(tag, 16))  # "" for what only looks like a tag (a date)
                assert not keyword or keyword in paragraph, f"{name}: tag {tag} without {keyword}: {paragraph}"


def test_the_dicom_primer_needs_no_server():
    nb = read(NOTEBOOKS["00_dicom_in_brief"])
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "connect(" not in code and "client." not in code and "requests" not in code


def test_necessary_dicom_prerequisites_link_to_the_primer(lesson):
    name, nb = lesson
    if name in NO_SERVER or name == "01_authenticate":
        return  # 00 is the primer; 01 needs no DICOM yet (it links to 00 as Helpful)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    rows = [row for row in text.splitlines() if row.startswith("|") and "| Necessary |" in row]
    assert any("(00_dicom_in_brief.ipynb)" in row for row in rows), \
        f"{name}: a Necessary prerequisite must link to 00_dicom_in_brief.ipynb"


def test_whats_next_links_to_the_next_lesson(lesson):
    name, nb = lesson
    index, cell = _cell_after_heading(nb, "What's next")
    section = cell.source.split("## What's next", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\]\(([^)#]+\.ipynb)\)", section)
    assert links, f"{name}: What's next must link to a notebook"
    for link in links:
        assert (NOTEBOOK_DIR / link).is_file(), f"{name}: What's next links to missing {link}"
    position = LESSONS.index(name)
    if position + 1 < len(LESSONS):
        assert links[0] == LESSONS[position + 1] + ".ipynb", f"{name}: What's next must lead to the next lesson"


def test_every_cell_ran_in_order_without_errors(lesson):
    name, nb = lesson
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.kernelspec.display_name == "Python 3 (ipykernel)"
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    # Unrun cells would escape nbval's comparison; a fresh "Restart & Run All" numbers them 1..n.
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1)), \
        f"{name}: re-run it with tests/notebooks/regenerate.py"
    for cell in code_cells:
        assert not [out for out in cell.outputs if out.output_type == "error"], f"{name}: error output"
        assert set(cell.metadata) <= {"tags", "jupyter"}, f"{name}: stray cell metadata {set(cell.metadata)}"
        for out in cell.outputs:
            assert "matplotlib.image.AxesImage at 0x" not in str(out.get("data", {}).get("text/plain", "")), \
                f"{name}: end image cells with plt.show()"


def test_no_insecure_or_secret_code(lesson):
    name, nb = lesson
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert "verify=False" not in cell.source, f"{name}: never disable TLS verification"
        text = cell.source + "".join(str(out) for out in cell.get("outputs", []))
        assert not re.search(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}", text), f"{name}: a token is written in the notebook"


def test_cites_sources_and_marks_azure_only(lesson):
    name, nb = lesson
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert re.search(r"PS3\.18 §\d+(\.\d+)*", text), f"{name}: quote the PS3.18 section behind the behaviour"
    assert re.search(r"\*\*Azure-only\.?\*\*", text), f"{name}: mark what is Azure-only with **Azure-only**"


def test_requests_are_shown_with_their_contract(lesson):
    name, nb = lesson
    if name in NO_SERVER:
        return
    shown = _requests_shown(nb)
    assert shown, f"{name}: show at least one request with show_request"
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "client.session." in code or "session.get(" in code, \
        f"{name}: show a raw requests call before any helper"
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "```http" in text, f"{name}: needs a wire-contract block"
    if name != "01_authenticate":  # 01 shows a request without a token on purpose
        for method, path, headers in shown:
            assert headers.get("Authorization") == "Bearer <token>", f"{name}: {method} {path} without a token"


@pytest.mark.parametrize("name", EXPECTED)
def test_seed_requests_are_made(name):
    shown = _requests_shown(read(NOTEBOOKS[name]))
    for method, path, header, value in SEED_REQUESTS[name]:
        assert any(m == method and _path_matches(p, path) and _header_matches(h.get(header), value)
                   for m, p, h in shown), f"{name}: no {method} {path} with {header}: {value}"


def test_the_original_tutorials_defects_are_listed_with_the_lesson_that_fixes_each():
    page = COMING_FROM_MICROSOFT.read_text(encoding="utf-8")
    rows = [row for row in page.splitlines() if row.startswith("|")]
    missing = [defect for defect, phrase in FIXED_DEFECTS.items()
               if not any(re.search(phrase, row) for row in rows)]
    assert not missing, f"defects of the original tutorial not on {COMING_FROM_MICROSOFT.name}: {missing}"
    for defect, phrase in FIXED_DEFECTS.items():
        row = next(row for row in rows if re.search(phrase, row))
        lessons = re.findall(r"\b(\d\d_[a-z_]+)\b", row)
        assert lessons and all(lesson in NOTEBOOKS for lesson in lessons), \
            f"{defect}: its row must name the lesson that fixes it: {row}"


def test_the_lessons_point_to_that_page_in_one_line():
    for name, path in NOTEBOOKS.items():
        text = "\n".join(cell.source for cell in read(path).cells if cell.cell_type == "markdown")
        assert "Fixed from the original tutorial" not in text, f"{name}: the defect lists live in the docs page"
        assert text.count(POINTER) == (1 if name in FIXING_LESSONS else 0), f"{name}: one pointer line, where it matters"

