"""A poster laid out once for measuring + the theme's size ranges -> the size and line breaks of
each fitted text (copyfitting, as a designer sets a poster: measure, wrap, then shrink).

A poster's template marks each text to fit with `data-fit="<role>"` (word, statement, mission...)
and passes the text through the `fit` filter. For measuring, every such text is laid out on one
line with its break units (words; CJK characters, punctuation kept with its neighbour) in spans:
that gives the width of any run of units at that size, the line height, the text's width, and the
frame (`data-frame`) it must stay in with everything else in it. Widths and heights scale with the
font size, so for any size the lines follow by arithmetic: a headline (a role with `lines`) is
broken into at most that many balanced lines, other text wraps greedily as the engine does, and the
last two units of a text are kept together. The size of each role is the largest in the theme's
[min, max] at which the frame holds everything: the role of the text in the way shrinks first.
"""

from __future__ import annotations

from dataclasses import dataclass

PX_PER_PT = 96 / 72
PX_TO_MM = 25.4 / 96
WIDTH_SAFETY = 0.985  # the engine's own measure can differ by rounding; keep a little room
HEIGHT_SAFETY = 0.99
STEP_PT = 0.5  # sizes are chosen on a half-point grid (in the theme's A2 points)

@dataclass(frozen=True)
class Role:
    """A fitted text's size range on this sheet, in px, and its most lines (0: any number)."""

    name: str
    largest: float
    smallest: float
    lines: int = 0


@dataclass(frozen=True)
class Text:
    """One fitted text as measured on one line at `size` px: the left and right edge of each
    break unit, the width it may take, its line height per px of size, and the height it took
    (with margins, borders and padding, `extra` of it not text)."""

    field: str
    role: str
    size: float
    lefts: tuple[float, ...]
    rights: tuple[float, ...]
    width: float
    leading: float
    extra: float
    height: float
    framed: bool  # inside a frame: its height counts against the frame's

    def run(self, first: int, last: int, size: float) -> float:
        """The width in px of units first..last (inclusive) on one line at `size` px."""
        return (self.rights[last] - self.lefts[first]) * size / self.size

    def lines(self, size: float, balance: bool) -> list[tuple[int, int]]:
        """The lines (first, last unit) at `size`: the fewest lines, balanced when asked, the last
        two units on one line where they fit."""
        count = len(self.lefts)
        if not count:
            return []
        room = self.width * WIDTH_SAFETY
        keep = count >= 2 and self.run(count - 2, count - 1, size) <= room
        lines, first = [], 0
        while first < count:
            last = first
            while last + 1 < count and self.run(first, last + 1, size) <= room:
                last += 1
            if keep and last == count - 2 and first < count - 2:
                last -= 1  # the last unit would stand alone: take the one before down with it
            lines.append((first, last))
            first = last + 1
        if balance and len(lines) > 1:
            lines = _balanced(self, size, len(lines), keep) or lines
        return lines

    def widest(self, size: float) -> float:
        return max((r - left for left, r in zip(self.lefts, self.rights, strict=True)),
                   default=0.0) * size / self.size

    def needs(self, size: float, balance: bool) -> float:
        """The height in px this text takes at `size` (margins, borders and padding included)."""
        return self.extra + len(self.lines(size, balance)) * self.leading * size


def _balanced(text: Text, size: float, count: int, keep: bool) -> list[tuple[int, int]] | None:
    """`count` lines whose longest is as short as can be (the last with two units where it can):
    a headline's lines of even length rather than a full line and a short one."""
    n = len(text.lefts)
    room = text.width * WIDTH_SAFETY
    best: tuple[float, list] | None = None

    def split(first: int, left: int, widest: float, acc: list) -> None:
        nonlocal best
        if left == 1:
            width = text.run(first, n - 1, size)
            if width > room or (keep and first == n - 1 and n > 1):
                return
            total = max(widest, width)
            if best is None or total < best[0] - 1e-6:
                best = (total, acc + [(first, n - 1)])
            return
        for last in range(first, n - left + 1):
            width = text.run(first, last, size)
            if width > room:
                break
            if best is not None and width >= best[0]:
                break
            split(last + 1, left - 1, max(widest, width), acc + [(first, last)])

    if n <= 80:  # a headline; longer texts are not balanced
        split(0, count, 0.0, [])
    return best[1] if best else None


@dataclass(frozen=True)
class Measure:
    """A poster as measured: its fitted texts, and its frame's height against what the frame
    held at the measured sizes (the heights of its children, stacked)."""

    texts: tuple[Text, ...]
    frame: float
    held: float


@dataclass(frozen=True)
class Shortfall:
    """Why a poster cannot hold its text even at the smallest sizes: the text to blame and how
    far it is over."""

    field: str
    role: str
    reason: str
    words: int  # how many of its units would fit at the smallest sizes
    total: int


def over(measure: Measure, roles: dict[str, Role], sizes: dict[str, float]) -> Shortfall | None:
    """What does not fit at these sizes (px per role), or None."""
    held = measure.held
    worst: tuple[float, Text] | None = None
    for text in measure.texts:
        role = roles[text.role]
        size = sizes[text.role]
        if text.widest(size) > text.width * WIDTH_SAFETY:
            return Shortfall(text.field, text.role,
                             f"its longest word is {text.widest(size) * PX_TO_MM:.0f} mm wide at "
                             f"{size / PX_PER_PT:.0f} pt; the line is {text.width * PX_TO_MM:.0f} mm",
                             0, len(text.lefts))
        lines = len(text.lines(size, bool(role.lines)))
        if role.lines and lines > role.lines:
            return Shortfall(text.field, text.role,
                             f"it takes {lines} lines at {size / PX_PER_PT:.0f} pt; the theme allows "
                             f"{role.lines}", 0, len(text.lefts))
        if text.framed:
            needed = text.needs(size, bool(role.lines))
            held += needed - text.height
            if worst is None or needed > worst[0]:
                worst = (needed, text)
    if worst is not None and held > measure.frame * HEIGHT_SAFETY:
        text = worst[1]
        excess = (held - measure.frame * HEIGHT_SAFETY) * PX_TO_MM
        return Shortfall(text.field, text.role,
                         f"at {sizes[text.role] / PX_PER_PT:.0f} pt it needs {excess:.0f} mm more "
                         f"than the frame's {measure.frame * PX_TO_MM:.0f} mm", 0, len(text.lefts))
    return None


def fit(measure: Measure, roles: dict[str, Role]) -> dict[str, float] | Shortfall:
    """The sizes of each role (px) at which the poster holds its text: from the largest, the role
    of the text in the way (too wide, too many lines, or the tallest where the frame is too
    short) steps down half a point at a time, then the next tallest once that one is at its
    smallest. A long name shrinks the name, a long statement the statement. A Shortfall when
    even the smallest sizes do not hold it."""
    used = {t.role for t in measure.texts}
    sizes = {name: roles[name].largest for name in used}
    step = STEP_PT * PX_PER_PT
    while (short := over(measure, roles, sizes)) is not None:
        heights = sorted(measure.texts, key=lambda t: -t.needs(sizes[t.role],
                                                              bool(roles[t.role].lines)))
        candidates = [short.role] + [t.role for t in heights if t.framed]
        role = next((r for r in candidates if sizes[r] > roles[r].smallest + 1e-9), None)
        if role is None:
            return _shortfall(measure, roles, sizes)
        sizes[role] = max(roles[role].smallest, sizes[role] - step)
    return sizes


def _shortfall(measure: Measure, roles: dict[str, Role], sizes: dict[str, float]) -> Shortfall:
    """The shortfall at the smallest sizes, with how many units of the blamed text would fit."""
    found = over(measure, roles, sizes)
    assert found is not None
    text = next(t for t in measure.texts if t.field == found.field)
    low, high = 0, len(text.lefts) - 1
    while low < high:
        mid = (low + high + 1) // 2
        cut = _cut(text, mid)
        texts = tuple(cut if t is text else t for t in measure.texts)
        if over(Measure(texts, measure.frame, measure.held), roles, sizes) is None:
            low = mid
        else:
            high = mid - 1
    return Shortfall(found.field, found.role, found.reason, low, len(text.lefts))


def _cut(text: Text, keep: int) -> Text:
    return Text(text.field, text.role, text.size, text.lefts[:keep], text.rights[:keep],
                text.width, text.leading, text.extra, text.height, text.framed)


def series(fitted: list[dict[str, float]]) -> dict[str, float]:
    """One size per role for a series of posters: the smallest any of them needs."""
    sizes: dict[str, float] = {}
    for each in fitted:
        for role, size in each.items():
            sizes[role] = min(size, sizes.get(role, size))
    return sizes


def setting(measure: Measure, roles: dict[str, Role], sizes: dict[str, float]) -> dict:
    """What the poster template is filled with (plain data): per field, its lines as unit
    ranges where the breaks are ours (headlines), and the unit from which the rest is kept on
    one line (the last two, against a one-word last line)."""
    lines, keep = {}, {}
    for text in measure.texts:
        size = sizes[text.role]
        balance = bool(roles[text.role].lines)
        broken = text.lines(size, balance)
        count = len(text.lefts)
        if balance:
            lines[text.field] = [list(line) for line in broken]
        elif count >= 2 and text.run(count - 2, count - 1, size) <= text.width * WIDTH_SAFETY:
            keep[text.field] = count - 2
    return {"lines": lines, "keep": keep}


def read_measure(page) -> Measure:
    """Measure a poster laid out for measuring (fitted texts on one line, units in spans) from its
    boxes (WeasyPrint's `page._page_box`, a private attribute)."""
    texts: list[Text] = []
    frame_height = 0.0
    held = 0.0

    def walk(box, frame) -> None:
        nonlocal frame_height, held
        element = getattr(box, "element", None)
        if element is not None and element.get("data-frame") is not None and frame is None:
            frame = box
            frame_height = box.height
            held = sum(child.margin_height() for child in getattr(box, "children", [])
                       if getattr(child, "element", None) is not None
                       and hasattr(child, "margin_height"))
        if element is not None and element.get("data-fit") and element.get("data-field") \
                and not any(t.field == element.get("data-field") for t in texts):
            texts.append(_read_text(box, element, frame))
            return
        for child in getattr(box, "children", []):
            walk(child, frame)

    walk(page._page_box, None)
    return Measure(tuple(texts), frame_height, held)


def _read_text(box, element, frame) -> Text:
    spans = []
    stack = list(getattr(box, "children", []))
    lines = sum(1 for child in stack if type(child).__name__ == "LineBox") or 1
    order = []
    while stack:
        child = stack.pop(0)
        owner = getattr(child, "element", None)
        if owner is not None and owner.get("data-u") is not None and owner is not element \
                and type(child).__name__ == "InlineBox":
            order.append(child)
            continue
        stack[0:0] = list(getattr(child, "children", []))
    for span in order:
        x = span.border_box_x()
        spans.append((x, x + span.border_width()))
    size = float(box.style["font_size"])
    return Text(
        field=element.get("data-field"), role=element.get("data-fit"), size=size,
        lefts=tuple(x for x, _ in spans), rights=tuple(r for _, r in spans),
        # On one line a block can be as wide as its text (a flex item is): no wider than its frame.
        width=float(min(box.width, frame.width) if frame is not None else box.width),
        leading=box.height / lines / size, extra=box.margin_height() - box.height,
        height=box.margin_height(), framed=frame is not None)
