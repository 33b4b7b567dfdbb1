"""The built site in headless Chromium: pages load cleanly, images render, links resolve."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from playwright.sync_api import Locator

from tests.support.lessons import lesson_paths

from .conftest import NOTEBOOKS_DIR

NOTEBOOKS = lesson_paths(NOTEBOOKS_DIR)
CONTENT_PAGES = ["index.html", "emulator.html", "other-servers.html", "teaching.html", "coming-from-microsoft.html"] + [
    f"lessons/{nb.stem}.html" for nb in NOTEBOOKS
]
# Pages Sphinx generates besides the content pages.
GENERATED_PAGES = ["genindex.html", "search.html"]


# The code blocks a reader copies from: lesson cells and code/console blocks, not cell outputs
# (docs/conf.py's copybutton_selector).
CODE_BLOCKS = "div:not(.output) > div.highlight"


def _solution_cells(notebook: Path, cell_type: str = "code") -> int:
    """How many cells of ``cell_type`` in the committed notebook are tagged ``solution``."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum(1 for cell in nb["cells"]
               if cell["cell_type"] == cell_type and "solution" in cell.get("metadata", {}).get("tags", []))


def _image_outputs(notebook: Path) -> int:
    """How many image outputs the committed notebook carries."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum(
        1
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        if any(mime.startswith("image/") for mime in output.get("data", {}))
    )


def _open(chromium, url: str):
    """Open ``url`` in a fresh page, recording console errors and non-local requests."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url} {request.failure}"))

    def _local_only(route) -> None:
        # The site must work offline: anything not from the local server is a defect.
        if urlsplit(route.request.url).hostname == "127.0.0.1" or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems.append(f"request to the network: {route.request.url}")
            route.abort()

    page.route("**/*", _local_only)
    response = page.goto(url, wait_until="load")
    return context, page, response, problems


def test_every_lesson_is_in_the_site_in_order(site_url: str, chromium) -> None:
    context, page, response, problems = _open(chromium, f"{site_url}/index.html")
    try:
        assert response is not None and response.status == 200
        nav = page.locator(".sidebar-tree a.reference").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        lessons = [href for href in nav if href.startswith("lessons/")]
        assert lessons == [f"lessons/{nb.stem}.html" for nb in NOTEBOOKS]
        assert "emulator.html" in nav and "other-servers.html" in nav and "teaching.html" in nav
        rows = page.locator("#learning-path table tbody tr")
        assert rows.count() == len(NOTEBOOKS)
        assert problems == []
    finally:
        context.close()


def test_browser_tests_cover_every_page(built_site: Path) -> None:
    pages = sorted(str(p.relative_to(built_site)) for p in built_site.rglob("*.html"))
    assert pages == sorted(CONTENT_PAGES + GENERATED_PAGES)


@pytest.mark.parametrize("path", CONTENT_PAGES + GENERATED_PAGES)
def test_page_loads_and_renders(site_url: str, chromium, artifacts_dir: Path, path: str) -> None:
    context, page, response, problems = _open(chromium, f"{site_url}/{path}")
    try:
        assert response is not None and response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        page.wait_for_load_state("networkidle")
        if path == "search.html":
            # The search page has no heading of its own; it must find the lessons offline.
            page.goto(f"{site_url}/search.html?q=WADO", wait_until="load")
            first_result = page.locator("#search-results li a").first
            first_result.wait_for(state="visible", timeout=30_000)
        else:
            heading = page.locator("article h1").first
            assert heading.is_visible() and heading.inner_text().strip()

        images = page.locator("article img")
        sizes = images.evaluate_all("els => els.map(e => [e.currentSrc, e.complete, e.naturalWidth, e.naturalHeight])")
        broken = [src for src, complete, width, height in sizes if not (complete and width > 0 and height > 0)]
        assert broken == [], f"images that did not render: {broken}"

        if path.startswith("lessons/"):
            notebook = NOTEBOOKS_DIR / (Path(path).stem + ".ipynb")
            assert len(sizes) >= _image_outputs(notebook)
            assert page.locator("div.cell_input").first.is_visible()
            assert page.locator("div.cell_output").first.is_visible()
            # Every output shows, except a solution's (collapsed with it: see the solution test).
            for element in page.locator("div.cell:not(.tag_solution) div.cell_output").all():
                element.scroll_into_view_if_needed()
                assert element.is_visible()

        shot = artifacts_dir / (path.replace("/", "__").removesuffix(".html") + ".png")
        page.screenshot(path=str(shot), full_page=True)
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def test_sample_images_render_in_the_retrieve_lesson(site_url: str, chromium) -> None:
    """The lesson that shows the sample pictures has image outputs that the browser decodes."""
    with_images = [nb for nb in NOTEBOOKS if _image_outputs(nb)]
    assert with_images, "no lesson carries an image output (the sample pictures)"
    for notebook in with_images:
        context, page, _, _ = _open(chromium, f"{site_url}/lessons/{notebook.stem}.html")
        try:
            widths = page.locator("div.cell_output img").evaluate_all("els => els.map(e => e.naturalWidth)")
            assert len(widths) == _image_outputs(notebook)
            assert all(width > 0 for width in widths)
        finally:
            context.close()


def test_internal_links_resolve(site_url: str, chromium) -> None:
    """Every internal link on every content page reaches a page, and its anchor exists there."""
    context, page, _, _ = _open(chromium, f"{site_url}/index.html")
    links: set[tuple[str, str]] = set()
    ids_by_page: dict[str, set[str]] = {}
    try:
        for path in CONTENT_PAGES:
            url = f"{site_url}/{path}"
            page.goto(url, wait_until="load")
            hrefs = page.locator("a[href]").evaluate_all("els => els.map(e => e.href)")
            for href in hrefs:
                if href.startswith(site_url):
                    links.add((url, href))
        missing = []
        for source, href in sorted(links):
            target, fragment = urldefrag(href)
            if "/_downloads/" in target:  # a file to save (a lesson's notebook), not a page to open
                response = page.request.get(target)
                if response.status != 200:
                    missing.append(f"{source} -> {href}: {response.status}")
                continue
            if target not in ids_by_page:
                response = page.goto(target, wait_until="load")
                if response is None or response.status != 200:
                    missing.append(f"{source} -> {href}: {response.status if response else 'no response'}")
                    ids_by_page[target] = set()
                    continue
                ids_by_page[target] = set(page.locator("[id]").evaluate_all("els => els.map(e => e.id)"))
            if fragment and fragment not in ids_by_page[target]:
                missing.append(f"{source} -> {href}: no element with id {fragment!r}")
        assert len(links) > len(CONTENT_PAGES)
        assert missing == [], "\n".join(missing)
    finally:
        context.close()


def _assert_collapsed(container: Locator, content: Locator, label: str) -> None:
    """``container`` holds one closed <details> labelled ``label`` that hides ``content`` until clicked."""
    toggle = container.locator("details.hide")
    assert toggle.count() == 1 and toggle.get_attribute("open") is None
    assert not content.is_visible()
    summary = toggle.locator("summary")
    assert summary.inner_text().strip().startswith(label)
    summary.click()
    assert content.is_visible() and toggle.get_attribute("open") is not None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_every_solution_is_collapsed_until_asked_for(site_url: str, chromium, notebook: Path) -> None:
    context, page, _, problems = _open(chromium, f"{site_url}/lessons/{notebook.stem}.html")
    try:
        solutions = page.locator("div.cell.tag_solution")
        assert solutions.count() == _solution_cells(notebook) >= 1
        for index in range(solutions.count()):
            solution = solutions.nth(index)
            # Neither the code nor an output shows until the box is opened.
            assert not solution.locator("div.cell_output").is_visible()
            _assert_collapsed(solution, solution.locator("div.cell_input pre"), "Show the solution")
        # Each solution's explanation (a Markdown cell tagged solution) is collapsed the same way.
        explanations = page.locator("div.solution-explanation")
        assert explanations.count() == _solution_cells(notebook, "markdown")
        for index in range(explanations.count()):
            box = explanations.nth(index)
            _assert_collapsed(box, box.locator("details.hide p:not(.admonition-title)").first, "Show the explanation")
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_every_code_block_has_a_copy_button(site_url: str, chromium, path: str) -> None:
    context, page, _, problems = _open(chromium, f"{site_url}/{path}")
    try:
        blocks = page.locator(CODE_BLOCKS)
        with_button = page.locator(f"{CODE_BLOCKS}:has(> button.copybtn)")
        if path.startswith("lessons/"):
            assert blocks.count() >= 1
        assert with_button.count() == blocks.count()
        assert page.locator("div.output button.copybtn").count() == 0  # outputs are not code to run
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def test_copy_button_copies_the_command_without_its_prompt(site_url: str, chromium) -> None:
    context, page, _, _ = _open(chromium, f"{site_url}/index.html")
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url)
        # The landing page's first console block ("$ make lab"): the copy is the command alone.
        block = page.locator("div.highlight-console div.highlight").first
        shown = block.locator("pre").inner_text().strip().splitlines()
        commands = [line.removeprefix("$ ") for line in shown if line.startswith("$ ")]
        assert commands and "make lab" in commands[0]
        block.hover()
        block.locator("button.copybtn").click()
        page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''", polling=100,
                               timeout=10_000)
        assert page.evaluate("() => navigator.clipboard.readText()").strip().splitlines() == commands
    finally:
        context.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_lesson_page_links_its_notebook_and_says_how_to_run_it(site_url: str, chromium, notebook: Path) -> None:
    context, page, _, _ = _open(chromium, f"{site_url}/lessons/{notebook.stem}.html")
    try:
        box = page.locator("article .run-this-lesson")
        assert box.count() == 1 and box.is_visible()
        assert "make lab" in box.inner_text() and f"Open {notebook.name} there" in box.inner_text()
        link = box.locator("a.download")
        assert link.inner_text() == notebook.name
        response = page.request.get(urljoin(page.url, link.get_attribute("href")))
        assert response.status == 200 and response.body() == notebook.read_bytes()
    finally:
        context.close()
