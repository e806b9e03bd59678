"""Markdown prose -> safe HTML: paragraphs, emphasis, links, lists and images; raw HTML shown as text."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

# The alt text that marks an image as decoration: it is left out of what a screen reader reads.
DECORATIVE_ALT = "decorative"


@dataclass(frozen=True)
class ImageRef:
    """An image a Markdown text refers to, and the line (0-based, within the text) it is on."""

    src: str
    alt: str
    line: int


@cache
def _parser() -> MarkdownIt:
    # CommonMark with HTML off: `<script>` and any other tag is escaped and printed as text.
    # linkify and typographer stay off so the text a person typed is the text printed.
    md = MarkdownIt("commonmark", {"html": False})
    md.disable(["heading", "lheading", "code", "fence", "hr", "table"], ignoreInvalid=True)
    return md


def render_markdown(text: str, image_base: Path | None = None) -> str:
    """Return the HTML of a Markdown text; unsafe links (javascript: and the like) stay text.

    Image sources are relative to the content folder; with `image_base` they become file URLs
    there (the layouts' own base URL is the theme folder). An image whose alt text is
    DECORATIVE_ALT gets an empty alt and role="presentation": the tagged PDF draws it as an
    artifact, which a screen reader skips."""
    parser = _parser()
    tokens = parser.parse(text)
    for block in tokens:
        for child in block.children or []:
            if child.type != "image":
                continue
            src = str(child.attrs.get("src", ""))
            if image_base is not None and src and "://" not in src and not src.startswith("/"):
                child.attrs["src"] = (image_base / src).resolve().as_uri()
            if _alt(child).strip().lower() == DECORATIVE_ALT:
                child.children = []
                child.attrs["role"] = "presentation"
    return parser.renderer.render(tokens, parser.options, {})


def _alt(token) -> str:
    return "".join(c.content for c in (token.children or []))


def render_inline(text: str) -> str:
    """Return the HTML of one line of Markdown, without a wrapping paragraph."""
    return _parser().renderInline(text)


def parse_images(text: str) -> list[ImageRef]:
    """List the images a Markdown text refers to."""
    refs = []
    for block in _parser().parse(text):
        if block.type != "inline" or not block.children:
            continue
        for child in block.children:
            if child.type == "image":
                line = block.map[0] if block.map else 0
                refs.append(ImageRef(str(child.attrs.get("src", "")), _alt(child), line))
    return refs
