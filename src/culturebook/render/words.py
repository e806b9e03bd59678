"""Laid-out pages -> the content words a reader cannot see.

WeasyPrint loses text without a word: the lines of an absolutely positioned box that runs past the
sheet are dropped from the layout, `max-lines` drops lines, `overflow: hidden` and `text-overflow:
ellipsis` clip, a page-margin box pushes its text off the page, a positioned box with a background
paints over text, `visibility: hidden` and a transparent colour draw nothing. Each element a layout
marks with `data-field` names the content field it shows; here its text (leaving out nested fields,
checked on their own) is compared with the text of the boxes a reader can see, and what is not seen
is reported as the field's missing words.

Pure: it reads the laid-out boxes (`page._page_box`, private but stable in WeasyPrint 70) and walks
each page's tree once.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

PAST_EDGE = "past the page's edge"
CLIPPED = "clipped by overflow"
HIDDEN = "hidden"
COVERED = "covered by another box"
DROPPED = "dropped by the layout"

TOLERANCE = 1.0  # px: a text box counts as visible if it is inside by this much
IN_FLOW = (0, 0, 0)  # the painting layer of content outside any positioned box
POSITIONED = frozenset(("relative", "absolute", "fixed", "sticky"))
_OWN_TEXT = ("::first-letter", "::first-line")  # pseudo-elements that hold the element's own text

# What a comparison leaves out: every kind of space (and the invisible ones: zero-width space, word
# joiner, BOM), soft hyphens, and the hyphens hyphenation inserts at line ends (U+002D, U+2010,
# U+2011). Case does not count either, nor compatibility forms (text-transform: uppercase,
# full-width).
_IGNORED = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + \
    "\u00ad\u200b\u2060\ufeff-\u2010\u2011"
_STRIP = str.maketrans("", "", _IGNORED)
_INVISIBLE = str.maketrans("", "", "\u00ad\u200b\u2060\ufeff")  # left out of the words shown
_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]")


@dataclass(frozen=True)
class Loss:
    """A field whose words a reader cannot see: `missing` holds them in order, consecutive words as
    one fragment; `page` (1-based) is where the first of them is (or, when the layout dropped them,
    where the field's last box is)."""

    field: str
    page: int
    missing: tuple[str, ...]
    reason: str

    @property
    def words(self) -> int:
        """How many words are missing (a CJK character counts as a word)."""
        return sum(_count_words(fragment) for fragment in self.missing)


def lost_words(pages, shown: Callable[[object, object], bool] | None = None) -> list[Loss]:
    """The losses of every field shown on these laid-out pages (weasyprint.document.Page objects),
    in the order the fields first appear.

    A field's element that has no box at all was either left out by the theme (display: none) or
    dropped whole by the layout (an item of a flex box too short for it): `shown(element, root)`
    tells which, and a dropped one loses every word. Without `shown`, such elements are not
    checked."""
    walk = _Walk()
    for number, page in enumerate(pages, 1):
        walk.page(page, number)
    # Several elements may show one field (the organisation on both covers): one loss per field.
    by_field: dict[str, list[Loss]] = {record.field: [] for record in walk.records.values()}
    for record in walk.records.values():
        loss = record.loss()
        if loss is not None:
            by_field[loss.field].append(loss)
    root = next((box.element for box in pages[0]._page_box.children
                 if getattr(box, "element", None) is not None), None) if pages else None
    if shown is not None and root is not None:
        for element, page in _boxless_fields(root, walk.records):
            text = own_text(element).strip()
            if text and shown(element, root):
                name = element.get("data-field")
                by_field.setdefault(name, []).append(Loss(name, page, (text,), DROPPED))
    return [Loss(name, losses[0].page, tuple(f for loss in losses for f in loss.missing),
                 losses[0].reason) for name, losses in by_field.items() if losses]


def _boxless_fields(root, records: dict) -> list[tuple[object, int]]:
    """The elements with data-field that no box shows, each with the page where the field before
    it in the document ended (where it would have been)."""
    found, page = [], 1
    for element in root.iter():
        if not isinstance(element.tag, str) or element.get("data-field") is None:
            continue
        record = records.get(element)
        if record is not None:
            page = record.last_page or page
        else:
            found.append((element, page))
    return found


# --- what each field's element shows ------------------------------------------------------------


@dataclass
class _Record:
    """One element with data-field: the text of its boxes, in document order, each piece with why it
    cannot be seen (None when it can) and its page."""

    element: object
    field: str
    pieces: list[tuple[str, str | None, int]] = field(default_factory=list)
    last_page: int = 0
    at_edge: bool = False  # its last line is the last that fits on its page

    def loss(self) -> Loss | None:
        expected = own_text(self.element)
        wanted = _comparable(expected)
        if not wanted:
            return None
        seen = [(_comparable(text), page) for text, reason, page in self.pieces if reason is None]
        if wanted in "".join(text for text, _ in seen):  # also a running element on every page
            return None
        letters, origin = _normalised(expected)
        why: list[str | None] = [DROPPED] * len(letters)  # a letter in no box was dropped
        pages: list[int | None] = [None] * len(letters)
        every = [(_comparable(text), page, reason) for text, reason, page in self.pieces]
        lost = _align(letters, every, why, pages)
        # What a later copy shows (a running element on every page) is seen.
        _align(letters, [(text, page, None) for text, page in seen], why, pages)
        if lost:  # the boxes' text differs from the element's (e.g. text-transform: full-width)
            for a, _, size in difflib.SequenceMatcher(
                    None, letters, "".join(text for text, _ in seen), autojunk=False) \
                    .get_matching_blocks():
                why[a:a + size] = [None] * size
        missing = [i for i, reason in enumerate(why) if reason is not None]
        if not missing:
            return None
        reason, page = why[missing[0]], pages[missing[0]] or self.last_page
        if reason == DROPPED and self.at_edge:
            reason = PAST_EDGE
        fragments = _fragments(expected, {origin[i] for i in missing},
                               {origin[i] for i, r in enumerate(why) if r is None})
        return Loss(self.field, page, fragments, reason)


def _comparable(text: str) -> str:
    return unicodedata.normalize("NFKD", text).translate(_STRIP).casefold()


def _align(letters: str, pieces: list[tuple[str, int, str | None]], why: list, pages: list) -> bool:
    """Find each box text (comparable, in document order) in the expected letters, after the one
    before it, and mark the letters it covers as seen (reason None) or not; True if some box text
    that can be seen was not found (its text is not the element's)."""
    at, lost = 0, False
    for text, page, reason in pieces:
        if not text:
            continue
        found = letters.find(text, at)
        if found < 0:
            lost = lost or reason is None and letters.find(text) < 0
            continue
        end = found + len(text)
        if reason is None or why[found] is not None:  # seen in one copy is seen
            why[found:end] = [reason] * len(text)
            pages[found:end] = [page] * len(text)
        at = end
    return lost


def own_text(element) -> str:
    """An element's text, leaving out that of nested elements with their own data-field; a line
    break around HTML's blocks, so that the words of two paragraphs do not run together."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            block = "\n" if child.tag in _BLOCKS else ""
            if child.get("data-field") is None:
                parts += [block, own_text(child), block]
            else:
                parts.append(block)
        parts.append(child.tail or "")
    return "".join(parts)


_BLOCKS = frozenset("address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 "
                    "h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul".split())


def _normalised(text: str) -> tuple[str, list[int]]:
    """The text as compared (see _IGNORED), with the index in `text` each letter comes from."""
    letters, origin = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch).casefold():
            if c not in _IGNORED:
                letters.append(c)
                origin.append(i)
    return "".join(letters), origin


def _fragments(text: str, missing: set[int], present: set[int]) -> tuple[str, ...]:
    """The missing words of `text`, consecutive ones joined: a word with any missing letter is missing
    whole, except in CJK text, written without spaces, where the missing run of characters is."""
    lost = [False] * len(text)
    for match in re.finditer(r"\S+", text):
        start, end = match.span()
        if not any(i in missing for i in range(start, end)):
            continue
        if _CJK.search(match.group()):
            for i in range(start, end):
                lost[i] = i in missing
        else:
            lost[start:end] = [True] * (end - start)
    fragments, current, pending = [], [], []
    for i, ch in enumerate(text):
        if lost[i]:
            current += pending + [ch]
            pending = []
        elif current and (i not in present):  # a space, or a letter compared as nothing
            pending.append(ch)
        elif current:
            fragments.append(current)
            current, pending = [], []
    if current:
        fragments.append(current)
    shown = ("".join(f).translate(_INVISIBLE) for f in fragments)
    return tuple(" ".join(f.split()) for f in shown if f.strip())


def _units(fragment: str) -> list[str]:
    """A fragment as the words it counts as, each with the spaces after it: a CJK character (with
    the punctuation after it) is a word."""
    units = []
    for token in re.findall(r"\S+\s*", fragment):
        units += re.findall(r".\W*", token) if _CJK.search(token) else [token]
    return units


def _count_words(fragment: str) -> int:
    return max(len(_units(fragment)), 1)


def excerpt(fragments: tuple[str, ...], limit: int = 12) -> list[str]:
    """The fragments up to about `limit` words; where they are cut, an ellipsis."""
    shown: list[str] = []
    left = limit
    for fragment in fragments:
        if left <= 0:
            shown[-1] += "…"
            break
        units = _units(fragment)
        if len(units) > left:
            shown.append("".join(units[:left]).rstrip() + "…")
            break
        shown.append(fragment)
        left -= len(units)
    return shown


# --- the walk ------------------------------------------------------------------------------------


@dataclass
class _Cover:
    """A box that paints over what is below it: an opaque background or an image."""

    rect: tuple[float, float, float, float]
    key: tuple
    first: int  # its place in the tree, and the place after its last descendant
    last: int = 0


class _Walk:
    """Walks each page's boxes once, collecting the field text boxes and the boxes that cover."""

    def __init__(self) -> None:
        from weasyprint.formatting_structure import boxes
        from weasyprint.layout.absolute import AbsolutePlaceholder

        self.boxes = boxes
        self.placeholder = AbsolutePlaceholder
        self.inline = (boxes.LineBox, boxes.InlineBox)  # they clip nothing
        self.records: dict[object, _Record] = {}  # by element, in order of appearance
        self.fields: dict[object, _Record | None] = {}

    def page(self, page, number: int) -> None:
        self.number = number
        self.width, self.height = page.width, page.height
        self.order = 0
        self.texts: list[tuple] = []
        self.covers: list[_Cover] = []
        root = page._page_box
        for child in root.children:
            self.walk(child, None, None, 1.0, IN_FLOW, None)
        for record, box, *rest in self.texts:
            pieces = self.visible(box, *rest)
            mark = box.style["hyphenate_character"]  # added where hyphenation broke a word
            if mark and box.style["hyphens"] != "none" and pieces and pieces[-1][0].endswith(mark):
                text, reason, page = pieces[-1]
                pieces[-1] = (text[:-len(mark)], reason, page)
            record.pieces += pieces
            record.last_page = number
            line = rest[-1]
            # Whether a line more would have been past the page: the layout drops the lines of an
            # absolutely positioned box there.
            record.at_edge = line is not None and \
                line.position_y + 2 * line.height > self.height + TOLERANCE

    def walk(self, box, clip, record, opacity, layer, line) -> None:
        """One box and its descendants: `clip` is the rectangle the ancestors' overflow leaves,
        `record` the innermost field (False in generated content), `opacity` the ancestors'
        together, `layer` the painting layer (see visible), `line` the line box the box is in."""
        if type(box) is self.placeholder:
            box = box._box
        style = box.style
        self.order += 1
        first = self.order
        element = box.element
        if element is not None and record is not False:
            if "::" in box.element_tag and not box.element_tag.endswith(_OWN_TEXT):
                record = False  # generated content (::before, ::marker): the field's text has none
            else:
                try:
                    found = self.fields[element]
                except KeyError:
                    found = self.fields[element] = self.record_for(element)
                if found is not None:
                    record = found
        if isinstance(box, self.boxes.TextBox):
            if record and box.text:
                self.text(box, style, clip, record, opacity, layer, line)
            return
        opacity *= style["opacity"]
        if style["position"] in POSITIONED or style["opacity"] < 1:
            z = style["z_index"]
            z = z if isinstance(z, int) else 0
            layer = (-1 if z < 0 else 1, z, first)
        cover = None
        if element is not None and opacity > 0.5 and style["visibility"] == "visible":
            cover = self.cover(box, style, clip, layer, first, opacity)
        if isinstance(box, self.boxes.LineBox):
            line = box
        elif not isinstance(box, self.inline) and style["overflow"] != "visible" \
                and not box.is_for_root_element:
            x, y = box.padding_box_x(), box.padding_box_y()
            rect = (x, y, x + box.padding_width(), y + box.padding_height())
            clip = rect if clip is None else _intersection(clip, rect)
        for child in getattr(box, "children", ()):
            self.walk(child, clip, record, opacity, layer, line)
        if cover is not None:
            cover.last = self.order

    def record_for(self, element) -> _Record | None:
        name = element.get("data-field")
        if name is None:
            return None
        return self.records.setdefault(element, _Record(element, name))

    def cover(self, box, style, clip, layer, first, opacity) -> _Cover | None:
        """The box as a cover, if it paints an opaque background or is an image."""
        if not (style["background_color"].alpha * opacity > 0.5
                or isinstance(box, self.boxes.ReplacedBox)
                or any(kind != "none" for kind, _ in style["background_image"])):
            return None
        x, y = box.border_box_x(), box.border_box_y()
        rect = (x, y, x + box.border_width(), y + box.border_height())
        if clip is not None:
            rect = _intersection(clip, rect)
        if rect[2] <= rect[0] or rect[3] <= rect[1]:
            return None
        cover = _Cover(rect, layer, first)
        self.covers.append(cover)
        return cover

    def text(self, box, style, clip, record, opacity, layer, line) -> None:
        hidden = (opacity == 0 or style["visibility"] != "visible" or style["color"].alpha == 0
                  or style["font_size"] < 1e-6)
        self.texts.append((record, box, hidden, clip, layer, self.order, line))

    def visible(self, box, hidden, clip, layer, order, line) -> list[tuple[str, str | None, int]]:
        """The text of a box in pieces, each with why it cannot be seen (None: it can).

        A box is seen whole or not at all, within TOLERANCE, vertically; across, character by
        character. Painting order, roughly CSS's: a layer is (0, 0, 0) outside positioned boxes,
        else (1, z-index, place in the tree) of the nearest positioned ancestor ((-1, ...) for a
        negative z-index); a cover in a higher layer paints over the text, unless it holds it."""
        text, page = box.text, self.number
        if hidden:
            return [(text, HIDDEN, page)]
        x0, x1 = box.position_x, box.position_x + box.width
        y0, y1 = box.position_y, box.position_y + box.height
        if line is not None:  # the line's height, not the glyphs' (line-height may be tighter)
            ly0, ly1 = line.position_y, line.position_y + line.height
            if min(y1, ly1) > max(y0, ly0):
                y0, y1 = max(y0, ly0), min(y1, ly1)
        if y0 < -TOLERANCE or y1 > self.height + TOLERANCE:
            return [(text, PAST_EDGE, page)]
        if clip is not None and (y0 < clip[1] - TOLERANCE or y1 > clip[3] + TOLERANCE):
            return [(text, CLIPPED, page)]
        covers = [(c.rect[0], c.rect[2]) for c in self.covers
                  if c.key > layer and not c.first < order <= c.last
                  and c.rect[1] < y1 - TOLERANCE and c.rect[3] > y0 + TOLERANCE
                  and c.rect[0] < x1 - TOLERANCE and c.rect[2] > x0 + TOLERANCE]
        cut = _ellipsis_limit(box, line)
        if (x0 >= -TOLERANCE and x1 <= self.width + TOLERANCE and not covers and cut is None
                and (clip is None or (x0 >= clip[0] - TOLERANCE and x1 <= clip[2] + TOLERANCE))):
            return [(text, None, page)]
        pieces: list[tuple[str, str | None, int]] = []
        for ch, (a, b) in zip(text, _char_edges(box), strict=True):
            if a < -TOLERANCE or b > self.width + TOLERANCE:
                reason = PAST_EDGE
            elif clip is not None and (a < clip[0] - TOLERANCE or b > clip[2] + TOLERANCE):
                reason = CLIPPED
            elif cut is not None and b > cut:
                reason = CLIPPED
            elif any(a < c1 - TOLERANCE and b > c0 + TOLERANCE for c0, c1 in covers):
                reason = COVERED
            else:
                reason = None
            if pieces and pieces[-1][1] == reason:
                pieces[-1] = (pieces[-1][0] + ch, reason, page)
            else:
                pieces.append((ch, reason, page))
        return pieces


def _intersection(a, b):
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _ellipsis_limit(box, line) -> float | None:
    """Where the drawing cuts a box's text short, if it does: `text-overflow: ellipsis` on a line
    too long for its block, or the `block-ellipsis` (line-clamp) of a block's last line. WeasyPrint
    lays the whole text out and cuts it only when drawing, so the boxes still hold it."""
    if line is None or getattr(box, "pango_layout", None) is None:
        return None
    max_width = box.pango_layout.max_width
    if max_width is None:
        return None
    if line.text_overflow == "ellipsis" and box.width > max_width + 0.01:
        return box.position_x + max_width - _text_width("…", box.style)
    ellipsis = line.block_ellipsis
    if ellipsis != "none" and line.children and line.children[-1] is box:
        mark = "…" if ellipsis == "auto" else ellipsis[1]
        room = box.position_x + max_width - _text_width(mark, box.style)
        if box.position_x + box.width <= room:
            return None
        # Whole words go until the line and its ellipsis fit.
        edges = _char_edges(box)
        ends = [i for i in range(1, len(box.text) + 1)
                if not box.text[i - 1].isspace() and (i == len(box.text) or box.text[i].isspace())]
        fits = [edges[i - 1][1] for i in ends if edges[i - 1][1] <= room]
        return fits[-1] if fits else box.position_x
    return None


def _text_width(text: str, style) -> float:
    from weasyprint.text.line_break import Layout, line_size

    layout = Layout(style)
    layout.set_text(text)
    return line_size(layout.get_first_line()[0], style)[0]


def _char_edges(box) -> list[tuple[float, float]]:
    """The left and right edge of each character of a text box, from the Pango glyphs of its text
    (left to right); in proportion to the box's width where the glyphs do not tell."""
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango
    from weasyprint.text.line_break import Layout

    text = box.text
    edges: list[tuple[float, float] | None] = [None] * len(text)
    char_at, at = {}, 0
    for i, ch in enumerate(text):
        char_at[at] = i
        at += len(ch.encode())
    # The box's own layout was let go after layout (WeasyPrint sets it up again to draw).
    layout = Layout(box.style)
    layout.set_text(text)
    run = pango.pango_layout_get_line_readonly(layout.layout, 0).runs
    x = box.position_x
    while run != ffi.NULL:
        item, glyphs = run.data.item, run.data.glyphs
        count = glyphs.num_glyphs
        clusters = [item.offset + glyphs.log_clusters[i] for i in range(count)]
        for i in range(count):
            width = glyphs.glyphs[i].geometry.width * FROM_UNITS
            start = clusters[i]
            end = clusters[i + 1] if i + 1 < count else item.offset + item.length
            for byte in range(min(start, end), max(start, end)):
                j = char_at.get(byte)
                if j is not None:
                    edges[j] = (edges[j][0] if edges[j] is not None else x, x + width)
            x += width
        run = run.next
    step = box.width / max(len(text), 1)
    return [edge if edge is not None else
            (box.position_x + i * step, box.position_x + (i + 1) * step)
            for i, edge in enumerate(edges)]
