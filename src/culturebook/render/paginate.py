"""Pagination that follows the content: measurements of a laid-out booklet -> the choices its next
layout pass is made with.

- The values section: of the theme's grids (`pages: values`), the one to use for the values'
  measured heights (`choose_grid`), and which values go on which page (`Grid.pages`).
- Text pages: how full each is (`page_fill`), which chapters are long enough to open on a
  right-hand page, and which section breaks leave too empty a page behind (`Plan`).

Nothing here lays anything out: the render engine lays out, reads the boxes, and asks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

GUTTER_MM = 6.0  # between the columns of a values grid (booklet.css .values-grid column-gap)


@dataclass(frozen=True)
class GridSpec:
    """One grid the theme allows: columns, the most rows a page takes, a type size class."""

    columns: int
    rows: int
    size: str

    @property
    def key(self) -> str:
        """The name the measuring document gives the values set at this grid's width and size."""
        return f"{self.columns}-{self.size}"


@dataclass(frozen=True)
class Grid:
    """A grid chosen for the values: how many values each page holds, and the height of each row,
    the same on every page so that rows line up across a spread."""

    spec: GridSpec
    counts: tuple[int, ...]
    rows_mm: tuple[float, ...]

    def pages(self, values: Sequence) -> list[list]:
        out, start = [], 0
        for count in self.counts:
            out.append(list(values[start:start + count]))
            start += count
        return out


def cell_width_mm(text_width_mm: float, columns: int) -> float:
    return (text_width_mm - (columns - 1) * GUTTER_MM) / columns


def spread_counts(n: int, pages: int) -> tuple[int, ...]:
    """n values over `pages` pages, as evenly as they go, the earlier pages taking one more."""
    base, extra = divmod(n, pages)
    return tuple(base + (1 if i < extra else 0) for i in range(pages))


def row_heights(heights: Sequence[float], counts: Sequence[int], columns: int) -> tuple[float, ...]:
    """Each row's height on every page: the tallest value in that row on any page."""
    rows: list[float] = []
    start = 0
    for count in counts:
        for i, height in enumerate(heights[start:start + count]):
            row = i // columns
            if row == len(rows):
                rows.append(0.0)
            rows[row] = max(rows[row], height)
        start += count
    return tuple(rows)


def choose_grid(specs: Sequence[GridSpec], heights: dict[str, Sequence[float]],
                title_mm: float, text_height_mm: float, min_pages: int = 1) -> Grid | None:
    """The fewest pages (one for a single value, else a spread, then two spreads, ...; at least
    `min_pages`) and on them the first grid of `specs` whose rows hold the values: `heights[key]`
    are the values' heights set at that grid's width and size, a row is as tall as its tallest
    value on any page, and the rows of a page must fit it. None: no grid holds them."""
    n = len(next(iter(heights.values()), ()))
    if not n or not specs:
        return None
    # Spreads; never a page without a value (so at most n pages, the last resort odd).
    page_counts = [p for p in sorted({*range(2, n + 1, 2), min(n, 2), n}) if p >= min_pages]
    for pages in page_counts:
        counts = spread_counts(n, pages)
        for spec in specs:
            if math.ceil(counts[0] / spec.columns) > spec.rows:
                continue
            rows = row_heights(heights[spec.key], counts, spec.columns)
            room = text_height_mm - title_mm
            if sum(rows) <= room:
                # Equal rows where they hold every value, else each row its own height plus an
                # equal share of what is left: either way the grid fills its pages.
                if max(rows) * len(rows) <= room:
                    rows = tuple(room / len(rows) for _ in rows)
                spare = (room - sum(rows)) / len(rows)
                return Grid(spec, counts, tuple(math.floor((r + spare) * 10) / 10 for r in rows))
    return None


# --- text pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageFill:
    """How one page of a booklet is used: its kind (the CSS named page: `chapter` for text pages,
    else a designed page), how far down its text area its content reaches (0-1), whether it was
    left blank, and the sections that begin on it with the height they begin at (0-1)."""

    number: int  # 1-based
    kind: str
    fill: float
    blank: bool = False
    starts: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Plan:
    """The choices a booklet's layout is made with, refined pass by pass (`refine`). Sections are
    chapter-<id>, milestones and closing. A chapter runs on after the text before it unless it is
    in `recto` (it opens on a right-hand page) or `page` (a new page); milestones and closing take
    a new page unless they are in `run_on`."""

    measured: bool = False  # the sections' lengths are known (pass 1 runs every chapter on)
    recto: frozenset[str] = frozenset()
    page: frozenset[str] = frozenset()
    run_on: frozenset[str] = frozenset()
    frontispieces: tuple[str, ...] = ()  # chapter sections whose blank verso a highlight fills
    contents_values: bool = True  # the contents lists the values by name (while it fits a page)
    contents_compact: bool = False  # the contents' lines close up (when it still takes two pages)
    any_page: frozenset[str] = frozenset()  # designed sections (mission, values) that would open
    #   on a left-hand page after a blank one: they open on the next page instead
    values_pages: int = 0  # the values section's pages, when padding asked for more (0: fewest)

    def context(self) -> dict:
        return {"recto": sorted(self.recto), "page": sorted(self.page),
                "run_on": sorted(self.run_on), "contents_values": self.contents_values,
                "values_pages": self.values_pages, "contents_compact": self.contents_compact,
                "any_page": sorted(self.any_page),
                "frontispieces": [s.removeprefix("chapter-") for s in self.frontispieces]}


TEXT_PAGE = "chapter"  # the named page of text pages (booklet.css)
DESIGNED = frozenset({"mission", "values"})  # sections that open on a left-hand page


def section_lengths(fills: Sequence[PageFill], forced: frozenset[str] = frozenset()) -> dict[str, float]:
    """How many pages each section takes, from where it begins to where the next begins (or to the
    end of the last text page). Before a section of `forced` (one that begins a new page), a
    section ends where the text of the page before ends."""
    starts = sorted((f.number + y, s) for f in fills for s, y in f.starts)
    text = [f for f in fills if f.kind == TEXT_PAGE]
    fill_of = {f.number: f.fill for f in fills}
    lengths = {}
    for i, (at, section) in enumerate(starts):
        if i + 1 < len(starts):
            after = starts[i + 1][0]
            page = int(after)
            if starts[i + 1][1] in forced and page > int(at) and page - 1 in fill_of:
                # The next section begins on a later page: this one ends where the text of the
                # page before that ends (the rest of it is the break's, not this section's).
                after = min(after, page - 1 + fill_of[page - 1])
        else:
            after = (text[-1].number + text[-1].fill) if text else at
        lengths[section] = max(0.0, after - at)
    return lengths


def underfilled(fills: Sequence[PageFill], min_fill: float) -> list[PageFill]:
    """The fill rule: text pages emptier than `min_fill`, but the last text page (the text ends
    where it ends)."""
    text = [f for f in fills if f.kind == TEXT_PAGE]
    return [f for f in text[:-1] if f.fill < min_fill]


def refine(plan: Plan, fills: Sequence[PageFill], chapters: Sequence[str], highlights: int,
           opens_right: float, min_fill: float, contents_pages: int) -> Plan:
    """The plan for the next pass, given how this one came out (the same plan: done).

    1. First pass (every chapter run on): chapters at least `opens_right` pages long open on a
       right-hand page.
    2. A right-hand opening that leaves the page before it blank takes a highlight there (a
       frontispiece) while there are highlights; else it opens on the next page. A frontispiece
       that a blank page still comes before (the pages before it moved) is taken away again.
    3. A text page (not the last) emptier than `min_fill` lets the section after it run on.
    4. The contents leaves out the values' names when they would take it over a page, then
       closes up its lines.
    5. A designed section (the mission opener, the values) that a blank page comes before, as
       it waits for a left-hand page, opens on the next page instead."""
    if not plan.measured:
        lengths = section_lengths(fills, frozenset({"milestones", "closing"}) - plan.run_on)
        recto = frozenset(c for c in chapters if lengths.get(c, 0.0) >= opens_right)
        return replace(plan, measured=True, recto=recto)
    recto, page, run_on = set(plan.recto), set(plan.page), set(plan.run_on)
    frontispieces = list(plan.frontispieces)
    begins = {s: f.number for f in fills for s, _ in f.starts}
    blank_pages = {f.number for f in fills if f.blank}
    for section in sorted(recto, key=lambda s: begins.get(s, 0)):
        if begins.get(section, 0) - 1 not in blank_pages:
            continue
        if section in frontispieces:
            # Pages before it moved since (a section now opens a page earlier): its frontispiece
            # fell on a right-hand page and the blank is back. Without it, the next pass sees.
            frontispieces.remove(section)
        elif len(frontispieces) < highlights:
            frontispieces.append(section)
        else:
            recto.discard(section)
            page.add(section)
    any_page = set(plan.any_page)
    for f in fills:
        if f.blank:
            after = next((g for g in fills if g.number == f.number + 1), None)
            any_page |= {s for s, _ in (after.starts if after else ()) if s in DESIGNED}
    for f in underfilled(fills, min_fill):
        # The section that begins next, if only designed pages (a frontispiece) come between.
        between = [g for g in fills if g.number > f.number]
        after = None
        for g in between:
            if g.starts:
                after = g.starts[0][0]
                break
            if g.kind == TEXT_PAGE:
                break
        if after and after not in run_on:
            run_on.add(after)
            recto.discard(after)
            page.discard(after)
            if after in frontispieces:
                frontispieces.remove(after)
    return replace(plan, recto=frozenset(recto), page=frozenset(page), run_on=frozenset(run_on),
                   frontispieces=tuple(frontispieces), any_page=frozenset(any_page),
                   contents_values=plan.contents_values and contents_pages <= 1,
                   contents_compact=plan.contents_compact or (
                       contents_pages > 1 and not plan.contents_values))
