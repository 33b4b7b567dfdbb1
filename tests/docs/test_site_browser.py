"""The built site in headless Chromium: pages load cleanly, images render, links resolve."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from .conftest import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
CONTENT_PAGES = ["index.html", "emulator.html", "other-servers.html", "teaching.html"] + [
    f"lessons/{nb.stem}.html" for nb in NOTEBOOKS
]
# Pages Sphinx generates besides the content pages.
GENERATED_PAGES = ["genindex.html", "search.html"]


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
            for element in page.locator("div.cell_output").all():
                element.scroll_into_view_if_needed()
                assert element.is_visible()

        page.screenshot(path=str(artifacts_dir / (path.replace("/", "__").removesuffix(".html") + ".png")), full_page=True)
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
