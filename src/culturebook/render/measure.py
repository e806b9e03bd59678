"""Measuring before laying out: the values section's grid, and the sizes posters' texts are fitted
in (copyfitting).

`Measuring` is the part of `Renderer` (render.engine) that lays documents out only to measure
them: it uses the Renderer's `layout` and the HTML `Filling` (render.fill) makes, and keeps what
it measures per process (_measures) and on disk (under the cache, by the HTML and the theme).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os

from markupsafe import Markup

from culturebook.errors import Location, Problem, ProjectError
from culturebook.project.brand import length_mm
from culturebook.project.content import Edition
from culturebook.render import copyfit, paginate
from culturebook.render.geometry import PX_TO_MM, _descendants

# The values' measuring document: the booklet's head, then _values.html measure() for the heading
# alone and for each value alone (Measuring.measure_values).
_MEASURE_HEAD = ('<!DOCTYPE html><html lang="{{ lang }}" class="script-{{ script }}"><head>'
                 '{% include "_booklet_head.html" %}<style>@page { size: 400mm 5000mm; }</style>'
                 '</head><body>')
_NEW_PAGE = ' style="break-before: page"'
_MEASURE_PAGE = '{% import "_values.html" as valueset with context %}{{ valueset.measure(grids) }}'


class Measuring:
    """Values grids and poster fits for one project (a part of `Renderer`)."""

    def values_grid(self, edition: Edition, pages: int = 0) -> dict | None:
        """The values section's grid for this edition's values (paginate.choose_grid), as the
        template takes it: columns, size, rows (their heights) and the values of each page; on
        exactly `pages` pages if given (None if they cannot take that many). The values are
        measured at every grid's width and size in a document of their own."""
        values = self.context(edition)["values"]
        specs = [paginate.GridSpec(int(g["columns"]), int(g["rows"]), str(g["size"]))
                 for g in self.brand.pages.get("values") or []]
        if not values or not specs:
            return None
        booklet = {k: length_mm(v) for k, v in self.brand.booklet.items()}
        width = booklet["width"] - booklet["margin-inner"] - booklet["margin-outer"]
        height = booklet["height"] - booklet["margin-top"] - booklet["margin-bottom"]
        title, heights = self.measure_values(edition, specs, width)
        grid = paginate.choose_grid(specs, heights, title, height, pages or 1)
        if pages and (grid is None or len(grid.counts) != pages):
            return None
        if grid is None:  # the tallest value, at its smallest, is taller than a page
            def least(i: int) -> float:
                return min(h[i] for h in heights.values())
            tallest = max(range(len(values)), key=least)
            field = f"values[{tallest + 1}].statement"
            run = next((r for r in edition.runs if r.path == field), None)
            raise ProjectError([Problem(
                run.loc if run else Location(edition.files[-1]),
                f"{field} is too long for a page of the values section: the value takes "
                f"{least(tallest):.0f} mm of the {height - title:.0f} mm a page holds",
                "shorten the statement")])
        return {"columns": grid.spec.columns, "size": grid.spec.size,
                "rows": " ".join(f"{r:.1f}mm" for r in grid.rows_mm), "pages": grid.pages(values)}

    def _any_values_grid(self, edition: Edition) -> dict | None:
        """The values grid, or where no grid holds them (an error the booklet's build reports),
        one value to a page: HTML that checks (styles, headings) can read without a layout."""
        try:
            return self.values_grid(edition)
        except ProjectError:
            values = self.context(edition)["values"]
            spec = next(iter(self.brand.pages.get("values") or []), {"size": "large"})
            return {"columns": 1, "size": spec["size"], "rows": "auto",
                    "pages": [[value] for value in values]}

    def measure_values(self, edition: Edition, specs: list, width_mm: float):
        """(the heading's height, {grid key: each value's height}) in mm, each value set at the
        width and size of each grid (_values.html measure()); kept per process, and on disk per
        value (_measured_pages)."""
        known = ("values", edition.lang)
        if known in self._measures:
            return self._measures[known]
        grids, seen = [], set()
        for spec in specs:
            if spec.key not in seen:
                seen.add(spec.key)
                grids.append({"key": spec.key, "size": spec.size, "columns": spec.columns,
                              "width": f"{paginate.cell_width_mm(width_mm, spec.columns):.2f}mm"})
        context = {**self.context(edition), "recipient": None, "fit": None, "grids": grids}
        head = self.env.from_string(_MEASURE_HEAD).render(**context)
        page = self.env.from_string(_MEASURE_PAGE)
        # The heading alone, then each value alone: an edited statement measures one value again.
        pages = [page.render(**{**context, "values": values})
                 for values in ([], *([v] for v in context["values"]))]
        measured = self._measured_pages(head, pages, edition)
        title = measured[0].get("title", 0.0)
        heights = {g["key"]: [m.get(g["key"], 0.0) for m in measured[1:]] for g in grids}
        self._measures[known] = (title, heights)
        return title, heights

    def _measured_pages(self, head: str, pages: list[str], edition: Edition) -> list[dict]:
        """What each page of the measuring document measures ({"title": mm} for the first,
        {grid key: mm} for each value's), kept on disk by the theme's files and fonts and the
        page's HTML. The pages not known are laid out in one document: the first page (the
        heading) and then each of them on a page of its own, so that a value is measured in the
        same place whichever others are measured with it, and its height is the same to the last
        bit whether it was measured alone or with all the others."""
        keys = [hashlib.sha256(f"{self.theme_stamp}\0{head}\0{page}".encode()).hexdigest()
                for page in pages]
        found: dict[int, dict] = {}
        for i, key in enumerate(keys):
            with contextlib.suppress(OSError, ValueError):
                stored = json.loads((self.cache / "values" / f"{key}.json").read_text("utf-8"))
                if isinstance(stored, dict):
                    found[i] = stored
        missing = [i for i in range(len(pages)) if i not in found]
        if not missing:
            return [found[i] for i in range(len(pages))]
        laid = [0, *(i for i in missing if i)]  # the heading's page always comes first
        html = head + "".join(f'<div data-measure-page="{i}"{_NEW_PAGE if i else ""}>{pages[i]}</div>'
                              for i in laid) + "</body></html>"
        document = self.layout(html, edition, "_values.html")
        sizes: dict[int, dict[str, float]] = {i: {} for i in laid}
        at = 0
        for page in document.pages:
            for box in _descendants(page._page_box):
                element = getattr(box, "element", None)
                if element is None:
                    continue
                if element.get("data-measure-page") is not None:
                    at = int(element.get("data-measure-page"))
                mark = element.get("data-measure")
                if mark == "title" and at == 0:
                    sizes[0]["title"] = max(sizes[0].get("title", 0.0),
                                            box.margin_height() * PX_TO_MM)
                elif mark is not None and mark != "title" and at:
                    key = mark.split()[0]
                    sizes[at][key] = sizes[at].get(key, 0.0) + box.margin_height() * PX_TO_MM
        for i in missing:
            found[i] = sizes[i]
            with contextlib.suppress(OSError):
                stored = self.cache / "values" / f"{keys[i]}.json"
                stored.parent.mkdir(parents=True, exist_ok=True)
                tmp = stored.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(sizes[i]), encoding="utf-8")
                os.replace(tmp, stored)
        return [found[i] for i in range(len(pages))]

    def poster_inputs(self, edition: Edition, subject: dict, size: str,
                      print_edition: bool = False) -> str:
        """What decides a poster besides the theme and fonts: its HTML as fitted (the fitting
        is measured once and kept on disk, so planning a build seldom lays anything out). A
        poster that cannot be fitted is planned by its HTML before fitting; making it reports
        why."""
        try:
            fit = self.poster_fit(edition, subject, size)
        except ProjectError:
            fit = None
        return self.poster_html(edition, subject, size, print_edition, fit)

    def poster_fit(self, edition: Edition, subject: dict, size: str) -> dict | None:
        """The sizes and line breaks a poster's fitted texts are set in (the template's `fit`):
        the largest that fit, the same for every value poster of a series. A poster whose text
        does not fit even at the smallest sizes is an error at its field."""
        roles = self.fit_roles(edition, size)
        measure = self.measure_poster(edition, subject, size)
        if not measure.texts:
            return None  # a poster layout without fitted texts
        unknown = sorted({t.role for t in measure.texts} - set(roles))
        if unknown:
            raise ProjectError([Problem(
                Location(self.brand.files[0]), f"poster.html fits a text as '{unknown[0]}', which "
                "fit: roles: does not give a size range", f"add e.g. {unknown[0]}: "
                "{max: 42pt, min: 28pt} under fit: roles:")])
        sizes = copyfit.fit(measure, roles)
        if isinstance(sizes, copyfit.Shortfall):
            raise ProjectError([self._shortfall(edition, size, roles, sizes)])
        if subject["kind"] == "value" and self.brand.fit.get("per", "series") == "series":
            measures = tuple(self.measure_poster(edition, other, size) for _, _, other in
                             self.poster_subjects(edition)
                             if other["kind"] == "value")
            sizes = {**sizes, **_series_sizes(measures, tuple(sorted(roles.items())))}
        return {**copyfit.setting(measure, roles, sizes), "css": self._fit_css(sizes)}

    def _shortfall(self, edition: Edition, size: str, roles: dict, short) -> Problem:
        run = next((r for r in edition.runs if r.path == short.field), None)
        loc = run.loc if run else Location(edition.files[-1])
        fits = f"about {short.words} of its {short.total} words fit: " if short.words else ""
        return Problem(loc, f"{short.field} does not fit its {size} poster even at the smallest "
                       f"sizes the theme allows: {short.reason}",
                       f"{fits}shorten it, choose a larger sheet (posters: size: in "
                       f"content/publication.yaml), or lower the theme's fit: roles: "
                       f"{short.role}: min:")

    def measuring(self, edition: Edition, size: str) -> dict:
        """The template's `fit` for measuring: every fitted text at its largest, on one line, its
        break units in spans."""
        roles = self.fit_roles(edition, size)
        css = self._fit_css({name: role.largest for name, role in roles.items()})
        return {"measure": True,
                "css": Markup(css + " [data-fit] { white-space: nowrap !important; }")}

    def measure_poster(self, edition: Edition, subject: dict, size: str) -> copyfit.Measure:
        """A poster laid out for measuring: its fitted texts at their largest sizes, each on one
        line. Kept per process (an edition's content does not change under a Renderer) and on
        disk by the HTML and the theme's files and fonts."""
        known = (edition.lang, size, repr(subject))
        if known in self._measures:
            return self._measures[known]
        html = self.poster_html(edition, subject, size, fit=self.measuring(edition, size))
        key = hashlib.sha256(f"{self.theme_stamp}\0{html}".encode()).hexdigest()
        stored = self.cache / "copyfit" / f"{key}.json"
        try:
            measure = _measure_from_json(json.loads(stored.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            document = self.layout(html, edition, "poster.html")
            measure = copyfit.read_measure(document.pages[0])
            with contextlib.suppress(OSError):
                stored.parent.mkdir(parents=True, exist_ok=True)
                tmp = stored.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(dataclasses.asdict(measure)))
                os.replace(tmp, stored)
        self._measures[known] = measure
        return measure


@functools.lru_cache(maxsize=64)
def _series_sizes(measures: tuple[copyfit.Measure, ...], roles: tuple) -> dict[str, float]:
    """One size per role for a series of posters (copyfit.series), fitted once per build: each
    poster of the series asks. A poster that cannot fit at all reports itself, and is left out."""
    fitted = [copyfit.fit(measure, dict(roles)) for measure in measures]
    return copyfit.series([f for f in fitted if not isinstance(f, copyfit.Shortfall)])


def _measure_from_json(data: dict) -> copyfit.Measure:
    texts = tuple(copyfit.Text(**{**t, "lefts": tuple(t["lefts"]), "rights": tuple(t["rights"])})
                  for t in data["texts"])
    return copyfit.Measure(texts, data["frame"], data["held"])
