"""Sphinx extension: after an HTML build, check every internal link, anchor and image.

Sphinx warns about most broken references while reading, but not about raw HTML in
notebooks, anchors in hand-written links, or resources loaded from the network. This
pass reads the written pages and emits a warning for each problem, so that a build
with ``-W`` fails on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# (tag, attribute) pairs that load or link to something.
_LINKING = {("a", "href"), ("img", "src"), ("script", "src"), ("link", "href"), ("source", "src")}
# Tags whose target the page itself loads: these must not come from the network.
_LOADED = {"img", "script", "link", "source"}


@dataclass
class PageLinks:
    """What one HTML page links to and which ids it defines."""

    links: list[tuple[str, str]] = field(default_factory=list)  # (tag, url)
    ids: set[str] = field(default_factory=set)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageLinks()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name"):
            if values.get(name) and (name == "id" or tag == "a"):
                self.page.ids.add(values[name] or "")
        if tag == "link" and "preconnect" in (values.get("rel") or ""):
            return
        for linking_tag, attr in _LINKING:
            if tag == linking_tag and values.get(attr):
                self.page.links.append((tag, values[attr] or ""))


def read_page(path: Path) -> PageLinks:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector.page


def check_site(outdir: Path) -> list[str]:
    """Return one message per broken internal link, missing image or remote resource."""
    pages = {p.resolve(): read_page(p) for p in sorted(outdir.rglob("*.html"))}
    problems = []
    for page_path, page in pages.items():
        where = page_path.relative_to(outdir.resolve())
        for tag, url in page.links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                if tag in _LOADED and not (tag == "link" and url.endswith(".html")):
                    problems.append(f"{where}: <{tag}> loads {url} from the network")
                continue
            if parts.scheme:  # mailto:, data:, javascript: ...
                continue
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{where}: <{tag}> {url} points to a missing file")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else read_page(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where}: <{tag}> {url} points to a missing anchor")
    return problems


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    problems = check_site(Path(app.outdir))
    for problem in problems:
        logger.warning("site check: %s", problem)
    if not problems:
        logger.info("site check: every internal link, anchor and image resolves")


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("build-finished", _on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
