"""Heading levels of the filled layouts: an outline that never skips a level."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from culturebook.errors import Location, Problems


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []  # level, the start tag as written

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self.found.append((int(tag[1]), self.get_starttag_text() or f"<{tag}"))


def heading_levels(html: str) -> list[tuple[int, str]]:
    """The headings of an HTML document in order: (level, start tag)."""
    parser = _Headings()
    parser.feed(html)
    return parser.found


def check_heading_levels(html: str, template: Path, sources: list[Path],
                         problems: Problems) -> None:
    """A document's headings start at h1 and never skip a level going down (h2 then h4); the
    first skip is an error at the template line that writes the heading."""
    level = 0
    for found, tag in heading_levels(html):
        if found > level + 1:
            what = f"<h{found}> follows <h{level}>" if level else f"the first heading is <h{found}>"
            problems.error(_tag_location(tag, found, [template, *sources]),
                           f"heading level skipped in {template.name}: {what}",
                           f"use <h{level + 1}> here, so that a screen reader's outline has no "
                           "gap")
            return
        level = found


def _tag_location(tag: str, level: int, files: list[Path]) -> Location:
    """Where a rendered start tag is written in the layouts: the line with the same tag and
    class, else the first <hN of that level."""
    klass = re.search(r'class="([^"]*)"', tag)
    needles = ([f'<h{level} class="{klass[1]}"'] if klass else []) + [f"<h{level}"]
    for needle in needles:
        for path in files:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            for n, line in enumerate(lines, 1):
                if needle in line:
                    return Location(path, n, line.index(needle) + 1)
    return Location(files[0])
