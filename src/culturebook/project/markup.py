"""Markdown prose -> safe HTML: paragraphs, emphasis, links, lists and images; raw HTML shown as text."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import escape

from culturebook.project.scripts import units

# The last two words of a paragraph are kept on one line (no word alone on a last line) where
# together they are this short: short enough for any column the layouts set prose in.
KEEP_LAST_CHARS = 20
KEEP_OPEN = '<span style="white-space: nowrap">'
BIND = "\u00a0"  # no-break space

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
    for n, block in enumerate(tokens):
        if block.type == "inline" and n > 0 and tokens[n - 1].type == "paragraph_open":
            _keep_last_in(block)
    return parser.renderer.render(tokens, parser.options, {})


def keep_last(text: str) -> str:
    """Plain text as HTML with its last two words (or CJK characters) kept on one line where they
    are short enough (KEEP_LAST_CHARS): a quote, a statement or a paragraph never ends on a line
    of one word, whatever the width it is set in."""
    head, tail = _split_last(text)
    if not tail:
        return str(escape(text))
    if BIND in tail:
        return str(escape(head + tail))
    return f"{escape(head)}{KEEP_OPEN}{escape(tail)}</span>"


def _split_last(text: str) -> tuple[str, str]:
    """`text` cut before its last two break units when they are short enough to keep together
    (the second part empty when not). Words are bound by a no-break space in place of the space
    between them, which adds no element to lay out or tag; CJK characters, with no space to
    replace, are kept in one span (KEEP_OPEN) by keep_last."""
    pieces = units(text)
    if len(pieces) < 2 or len(pieces[-2][0]) + len(pieces[-1][0]) > KEEP_LAST_CHARS:
        return text, ""
    stripped = text.rstrip()
    at = stripped.rindex(pieces[-2][0], 0, len(stripped) - len(pieces[-1][0]))
    head, tail = text[:at], text[at:]
    if pieces[-1][1]:  # a space between them: bind it
        first = len(pieces[-2][0])
        tail = tail[:first] + BIND + tail[first:].lstrip()
    return head, tail


def _keep_last_in(block) -> None:
    """Keep the last two words of a paragraph together, where both are in its last run of text."""
    children = block.children or []
    if not children or children[-1].type != "text":
        return
    head, tail = _split_last(children[-1].content)
    if not tail:
        return
    last = children.pop()
    if BIND in tail:
        parts = (("text", head + tail),)
    else:
        parts = (("text", head), ("html_inline", KEEP_OPEN), ("text", tail),
                 ("html_inline", "</span>"))
    for kind, content in parts:
        if content:
            token = Token(kind, "", 0, content=content)
            token.level = last.level
            children.append(token)


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
