"""Laid-out boxes read back: text out of its frame, lost words, how full pages are."""

from __future__ import annotations

import re
from collections.abc import Callable

from culturebook.errors import Location, Problems
from culturebook.project.content import Edition
from culturebook.render import paginate
from culturebook.render.words import Loss, excerpt, lost_words

PX_TO_MM = 25.4 / 96


def check_frames(document, edition: Edition, where: str, one_page: bool = False) -> None:
    """Fail with one problem per field whose text leaves its frame, runs into other text, or (for a
    one-page document) runs onto another page; each at the place in the content it comes from."""
    problems = Problems()
    texts = {r.path: r.text for r in reversed(edition.runs)}
    overflows = _frame_overflow(document.pages, texts)
    if one_page:
        overflows = _page_overflow(document) + overflows
    for field, message in overflows:
        run = next((r for r in edition.runs if r.path == field), None)
        loc = run.loc if run else Location(edition.files[-1])
        problems.error(loc, f"{field} is too long for {where}: {message}", "shorten the text")
    problems.raise_if_errors()


WORDS_HINT = "the layout lost them: shorten the text, or change the layout that hides it"


def check_words(document, edition: Edition, where: str,
                shown: Callable[[object, object], bool] | None = None) -> None:
    """Fail with one problem per field a reader cannot read whole (words.lost_words), at the place in
    the content it comes from: WeasyPrint drops, clips or covers text without a warning."""
    problems = Problems()
    for loss in lost_words(document.pages, shown):
        run = next((r for r in edition.runs if r.path == loss.field), None)
        loc = run.loc if run else Location(edition.files[-1])
        problems.error(loc, words_message(loss, where), WORDS_HINT)
    problems.raise_if_errors()


def words_message(loss: Loss, where: str) -> str:
    """`field: 3 words missing on page 1 of WHERE (reason): "fragment", "fragment"`, the words
    quoted up to about twelve."""
    n = loss.words
    quoted = ", ".join(f'"{fragment}"' for fragment in excerpt(loss.missing))
    return (f"{loss.field}: {n} word{'' if n == 1 else 's'} missing on page {loss.page} of {where} "
            f"({loss.reason}): {quoted}")


def frame_fill(page) -> float | None:
    """The share of its frame's height that a page's framed text takes: the heights of the fields
    in the first frame, summed. Near 1, the fields are about to run into each other."""
    frames: dict[tuple, float] = {}
    for _, (_, y0, _, y1, frame) in _field_boxes(page._page_box):
        if frame is not None:
            frames[frame] = frames.get(frame, 0.0) + (y1 - y0)
    for (_, fy0, _, fy1), height in frames.items():
        if fy1 > fy0:
            return round(height / (fy1 - fy0), 3)
    return None


def _page_overflow(document) -> list[tuple[str, str]]:
    """A one-page document that ran onto more pages: blame the fields on the extra pages."""
    if len(document.pages) <= 1:
        return []
    fields = [f for page in document.pages[1:] for f, _ in _field_boxes(page._page_box)]
    return [(f, f"it runs onto {len(document.pages)} pages") for f in fields[:1] or [""]]


def _frame_overflow(pages, texts: dict[str, str]) -> list[tuple[str, str]]:
    """Fields (elements with data-field) on these pages that leave their frame (data-frame) or
    overlap another.

    Read from the laid-out boxes, so text that would only be clipped or drawn over other text
    is measured: WeasyPrint itself keeps quiet about both. Of two fields that overlap, the one
    with the longer text is named as too long."""
    found = []
    for page in pages:
        boxes = list(_field_boxes(page._page_box))
        for field, (x0, y0, x1, y1, frame) in boxes:
            if frame is not None:
                fx0, fy0, fx1, fy1 = frame
                past = max(fy0 - y0, y1 - fy1, fx0 - x0, x1 - fx1)
                if past > 0.5:
                    found.append((field, f"it runs {past * PX_TO_MM:.1f} mm past its frame"))
                    continue
        for i, (field, (x0, y0, x1, y1, _)) in enumerate(boxes):
            for other, (ox0, oy0, ox1, oy1, _) in boxes[:i]:
                overlap = min(y1, oy1) - max(y0, oy0)
                if overlap > 0.5 and min(x1, ox1) > max(x0, ox0):
                    if len(texts.get(other, "")) > len(texts.get(field, "")):
                        field, other = other, field
                    found.append((field, f"it runs into {other} by {overlap * PX_TO_MM:.1f} mm"))
    return found


def _field_boxes(root):
    """(field, (x0, y0, x1, y1, frame rect or None)) for each element with data-field, in pixels;
    the rectangle covers the element's box and every line and text box inside it."""
    def extent(box):
        # Vertically the box and its lines (a line's height follows line-height; glyphs may
        # exceed it), so lines that run out of a box too short for them count; horizontally also
        # any text wider than the box (a word too long to wrap).
        x0, y0 = box.border_box_x(), box.border_box_y()
        x1, y1 = x0 + box.border_width(), y0 + box.border_height()
        stack = list(getattr(box, "children", []))
        while stack:
            child = stack.pop()
            x1 = max(x1, child.border_box_x() + child.border_width())
            if type(child).__name__ == "LineBox":
                y1 = max(y1, child.position_y + child.height)
            stack += getattr(child, "children", [])
        return x0, y0, x1, y1

    def walk(box, frame, seen):
        element = getattr(box, "element", None)
        if element is not None and element not in seen:
            if element.get("data-frame") is not None:
                seen.add(element)
                x, y = box.content_box_x(), box.content_box_y()
                frame = (x, y, x + box.width, y + box.height)
            elif element.get("data-field"):
                seen.add(element)
                yield element.get("data-field"), (*extent(box), frame)
                return
        for child in getattr(box, "children", []):
            yield from walk(child, frame, seen)

    yield from walk(root, None, set())


# The ids of the booklet's sections that pagination places: the text sections, and the designed
# sections that open on a left-hand page.
SECTIONS = re.compile(r"chapter-|milestones$|closing$|mission$|values$")


def page_fills(document) -> list[paginate.PageFill]:
    """How each page of a laid-out booklet is used (paginate.PageFill): its named page, how far
    down its text area its content reaches, and the sections (SECTIONS) that begin on it."""
    fills, seen = [], set()
    for number, page in enumerate(document.pages, 1):
        box = page._page_box  # private, but the only way to see named and blank pages
        top, height = box.content_box_y(), box.height
        bottom, starts = top, []
        for child in box.children:
            if type(child).__name__ == "MarginBox":
                continue
            for inner in _descendants(child):
                name = type(inner).__name__
                if name in ("LineBox", "InlineReplacedBox", "BlockReplacedBox") or (
                        name == "BlockBox" and inner.style["border_top_width"]):
                    bottom = max(bottom, inner.position_y + inner.margin_height())
                element = getattr(inner, "element", None)
                ident = element.get("id") if element is not None else None
                if ident and ident not in seen and SECTIONS.match(ident):
                    seen.add(ident)
                    starts.append((ident, round((inner.position_y - top) / height, 3)))
        kind = "blank" if box.page_type.blank else (box.page_type.name or "")
        fill = min(1.0, max(0.0, (bottom - top) / height)) if height else 0.0
        fills.append(paginate.PageFill(number, kind, round(fill, 3), box.page_type.blank,
                                       tuple(starts)))
    return fills


def _pages_of(document, ident: str) -> int:
    """On how many pages the element with this id has boxes."""
    return sum(1 for page in document.pages if ident in page.anchors)


def _descendants(box):
    stack = [box]
    while stack:
        box = stack.pop()
        yield box
        stack.extend(reversed(getattr(box, "children", None) or []))


def _elements(box) -> set:
    """The elements that have a box on a page (its root box)."""
    return {inner.element for inner in _descendants(box)
            if getattr(inner, "element", None) is not None}
