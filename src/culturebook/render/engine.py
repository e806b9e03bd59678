"""Edition + Brand -> HTML -> PDF bytes (WeasyPrint), confined to the project."""

from __future__ import annotations

import contextlib
import ctypes.util
import dataclasses
import functools
import hashlib
import io
import json
import logging
import mimetypes
import multiprocessing.util
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.request import url2pathname

import jinja2
from markupsafe import Markup, escape

from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.pdf.splice import PERSONAL_PAGES, PersonalPages
from culturebook.pdf.tagging import tagged as tagging
from culturebook.project.brand import POSTER_SIZES_MM, Brand, length_mm
from culturebook.project.content import Edition
from culturebook.project.glyphs import own_coverage
from culturebook.project.imagefile import reason_for
from culturebook.project.scripts import mark_languages, script_name
from culturebook.render import copyfit, paginate
from culturebook.render.colours import colour_uses
from culturebook.render.geometry import (
    PX_TO_MM,
    WORDS_HINT,
    _descendants,
    _elements,
    _field_boxes,
    _frame_overflow,
    _pages_of,
    check_frames,
    check_words,
    frame_fill,
    page_fills,
    words_message,
)
from culturebook.render.templates import (
    _template_frame,
    format_date,
    mark_untranslated,
    poster_subjects,
    subject_slug,
    template_environment,
    title_lines,
    untranslated_note,
)
from culturebook.render.words import lost_words

PADDING_CANDIDATES = 3  # a booklet is padded with 0-3 pages to a multiple of 4


MAX_LAYOUT_PASSES = 6  # booklet layouts, each refining the pagination of the one before


@dataclass(frozen=True)
class Rendered:
    """One PDF in memory, ready to be written (with its preflight findings, when they were found
    where it was rendered)."""

    data: bytes
    pages: int
    findings: tuple = ()
    # A poster: how much of its frame's height its text takes. A booklet: each page's named page
    # and how far down its text area its content reaches (paginate.PageFill).
    fill: float | tuple | None = None


def font_copies_folder(cache: Path) -> Path:
    """A new folder for this process's copies of the theme's font files, under `cache`; first,
    the folders of processes that no longer run (killed before they could clean up) go."""

    root = cache / "font-copies"
    root.mkdir(parents=True, exist_ok=True)
    for folder in root.iterdir():
        pid = folder.name.split("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def setup_fontconfig(fonts_dir: Path, cache_dir: Path) -> Path:
    """Point fontconfig at a configuration that lists only the project's fonts (before Pango loads);
    return the configuration file."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    conf = cache_dir / "fonts.conf"
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{_xml(str(fonts_dir.resolve()))}</dir>\n"
        f"  <cachedir>{_xml(str((cache_dir / 'cache').resolve()))}</cachedir>\n"
        "</fontconfig>\n"
    )
    if not conf.is_file() or conf.read_text() != text:
        conf.write_text(text)
    os.environ["FONTCONFIG_FILE"] = str(conf)
    os.environ.pop("FONTCONFIG_PATH", None)
    return conf


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class LogCapture(logging.Handler):
    """Collects what WeasyPrint logs while in a `with` block (and keeps it off the terminal):
    WeasyPrint logs and carries on where culturebook must report and stop."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger("weasyprint")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, skip_urls: list[str]) -> list[str]:
        """First lines of the captured records, leaving out those about refused URLs."""
        lines = [record.getMessage().splitlines()[0] for record in self.records]
        return [m for m in lines if not any(url in m for url in skip_urls)]

    def __enter__(self) -> LogCapture:
        self.saved = self.logger.level, self.logger.propagate
        self.logger.addHandler(self)
        self.logger.setLevel(logging.WARNING)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.level, self.logger.propagate = self.saved


def report_refused(problems: Problems, location: Location, url: str) -> None:
    problems.error(location, f"refused to load '{url}': only files inside the project are used",
                   "nothing is fetched from the network or from outside the project")


class Renderer:
    """Renders booklets and posters for one project; keep one per process."""

    def __init__(self, project_root: Path, brand: Brand, cache: Path, strict: bool = False):
        self.root = project_root.resolve()
        self.brand = brand
        self.strict = strict
        self.cache = cache
        fonts = self.root / "fonts"
        key = hashlib.sha256(str(fonts).encode()).hexdigest()[:16]
        setup_fontconfig(fonts, cache / "fontconfig" / key)
        self.env = template_environment(brand, cache, self.root / "content")
        self.env.globals["asset"] = self.asset
        self._html: dict[tuple, str] = {}  # the HTML of each document, made once per build
        self._measures: dict[tuple, copyfit.Measure] = {}  # posters measured for copyfitting
        self.kept: dict[tuple, object] = {}  # what later documents reuse (a shared booklet)
        self._languages: dict[tuple[str, str], str | None] = {}  # language_of, per character
        self._coverage: dict[str, frozenset[int]] = {}  # each stack's own fonts' code points

    @functools.cached_property
    def font_config(self):
        """One FontConfiguration for every document; created (and WeasyPrint imported) only when
        something is laid out, so a build with nothing to do stays quick.

        WeasyPrint copies each @font-face file (34 MB for the default theme) into a folder of its
        own, removed only when the configuration is garbage-collected: never, in a worker process
        that exits through os._exit or a process that is killed. The folder is therefore one of
        culturebook's, named after this process, removed when the process exits, and swept by a
        later build if the process was killed."""

        load_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        config = FontConfiguration()
        config._folder = font_copies_folder(self.cache)  # WeasyPrint 70 fills it on first use
        multiprocessing.util.Finalize(config, shutil.rmtree, args=(str(config._folder), True),
                                      exitpriority=1)
        return config

    def asset(self, name: str) -> str:
        """The URL of a theme file (stylesheet, image): the first theme in the `extends` chain that
        has it, so a theme that extends another only holds the files it changes."""
        for directory in self.brand.dirs:
            path = (directory / name).resolve()
            if path.is_relative_to(directory.resolve()) and path.is_file():
                return path.as_uri()
        names = " or ".join(str(d / name) for d in self.brand.dirs)
        raise jinja2.TemplateError(f"theme file '{name}' not found (looked for {names})")

    # --- documents --------------------------------------------------------------------------

    def booklet(self, edition: Edition, print_edition: bool = False,
                personalised: bool = False, recipient: dict | None = None,
                archive: tuple[Path, ...] = ()) -> Rendered:
        """The A5 booklet, padded with intentional pages to a multiple of four.

        Its pages follow the content (booklet_document), and its `fill` lists how each page is
        used: (named page, how far down its text area the content reaches), for `check` and
        preflight's fill rule. The `personalised` booklet is the shared part of
        personalised booklets: its first two pages (cover and letter) are placeholders that each
        recipient's personal pages replace. (With a `recipient`, one person's whole booklet.)

        A screen booklet (personalised ones too) is a tagged PDF (PDF/UA-1). With `archive` (the
        content files it was made from), it is the archival edition instead: PDF/A-3a, those files
        embedded in it.
        """
        kept = self.booklet_document(edition, print_edition, personalised, recipient)
        written = self.write(kept, edition, print_edition, tagged=not print_edition, sources=archive)
        return dataclasses.replace(written, fill=tuple((f.kind, f.fill) for f in page_fills(kept)))

    def booklet_document(self, edition: Edition, print_edition: bool = False,
                         personalised: bool = False, recipient: dict | None = None):
        """The booklet laid out (the pages it keeps) and checked: every frame, every word of the
        content on its page; not yet written.

        Its pagination follows the content (paginate.refine): a first pass runs every chapter on
        and measures them, later passes open the long ones on a right-hand page, fill a verso left
        blank with a highlight, and run a section on where a break would leave too empty a page.
        The plan an edition settles on is kept, so its other booklets start from it."""
        if recipient or personalised:
            recipient = {**(recipient or PLACEHOLDER_RECIPIENT), "index": 0}
        known = ("plan", edition.lang, bool(recipient))
        stored = self._stored_plan(edition, bool(recipient))
        plan = self.kept.get(known) or _read_plan(stored) or paginate.Plan()
        chapters = [f"chapter-{c.get('id')}" for c in edition.data.get("chapters") or []]
        highlights = len(edition.data.get("highlights") or [])
        for _ in range(MAX_LAYOUT_PASSES):
            grid = self.values_grid(edition, plan.values_pages)
            html = self.html("booklet.html", edition, print_edition, padding=PADDING_CANDIDATES,
                             plan=plan.context(), values_grid=grid, recipient=recipient)
            document = self.layout(html, edition)
            fills = page_fills(document)
            contents = _pages_of(document, "contents")
            better = plan
            while True:  # refine until the template would see another plan (or nothing changes)
                before, better = better, paginate.refine(
                    better, fills, chapters, highlights,
                    self.brand.page_setting("chapter-opens-right"),
                    self.brand.page_setting("min-fill"), contents)
                if better == before or better.context() != plan.context():
                    break
            if better.context() == plan.context():
                plan = better  # the same HTML again: this layout is the one
            if better == plan and grid and plan.values_pages == 0:
                # Two notes pages or more (the padding the highlights left): the values take two
                # pages more, if they can, so the booklet is padded with its own content first.
                body = sum(1 for p in document.pages
                           if not any(a.startswith("padding-") for a in p.anchors))
                quotes = highlights - len(plan.frontispieces)
                more = len(grid["pages"]) + 2
                if (-body) % 4 - max(0, quotes) >= 2 and self.values_grid(edition, more):
                    better = dataclasses.replace(plan, values_pages=more)
            if better == plan:
                break
            plan = better
        if self.kept.get(known) != plan:
            self.kept[known] = plan
            _write_plan(stored, plan)
        check_frames(document, edition, "its page of the booklet")
        pad_pages = [i for i, p in enumerate(document.pages)
                     if any(a.startswith("padding-") for a in p.anchors)]
        body = len(document.pages) - len(pad_pages)
        keep_pad = set(pad_pages[: (-body) % 4])
        if (body + len(keep_pad)) % 4:
            raise ProjectError([Problem(
                Location(self.brand.dirs[0] / "booklet.html"),
                f"the booklet has {body} pages and only {len(pad_pages)} padding pages; "
                "it cannot be padded to a multiple of 4")])
        pages = [p for i, p in enumerate(document.pages) if i not in pad_pages or i in keep_pad]
        kept = document.copy(pages)
        # Words are checked on the pages the booklet keeps, so page numbers are the PDF's; a
        # field on a padding page left out is not shown, not lost.
        left_out = {element for i, page in enumerate(document.pages)
                    if i in pad_pages and i not in keep_pad for element in _elements(page._page_box)}
        shown = self.displayed(html)
        check_words(kept, edition, f"the {edition.lang} booklet",
                    lambda element, root: element not in left_out and shown(element, root))
        return kept

    def _stored_plan(self, edition: Edition, personalised: bool) -> Path:
        """Where the plan an edition's booklet settled on is kept on disk: by the theme's files and
        the booklet's first HTML (which holds all its content), as measurements are. A build
        that finds it lays the booklet out once, and checks that the plan still holds."""
        html = self.booklet_html(edition, personalised=personalised)
        key = hashlib.sha256(f"{self.theme_stamp}\0{html}".encode()).hexdigest()
        return self.cache / "pagination" / f"{key}.json"

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
        width and size of each grid (_values.html measure()); kept per process."""
        known = ("values", edition.lang)
        if known in self._measures:
            return self._measures[known]
        grids, seen = [], set()
        for spec in specs:
            if spec.key not in seen:
                seen.add(spec.key)
                grids.append({"key": spec.key, "size": spec.size, "columns": spec.columns,
                              "width": f"{paginate.cell_width_mm(width_mm, spec.columns):.2f}mm"})
        source = ('{% import "_values.html" as valueset with context %}<!DOCTYPE html>'
                  '<html lang="{{ lang }}" class="script-{{ script }}"><head>'
                  '{% include "_booklet_head.html" %}<style>@page { size: 400mm 5000mm; }</style>'
                  '</head><body>{{ valueset.measure(grids) }}</body></html>')
        context = {**self.context(edition), "recipient": None, "fit": None, "grids": grids}
        html = self.env.from_string(source).render(**context)
        # Kept on disk by the measuring HTML and the theme's files, as poster measures are.
        digest = hashlib.sha256(f"{self.theme_stamp}\0{html}".encode()).hexdigest()
        stored = self.cache / "values" / f"{digest}.json"
        try:
            title, heights = json.loads(stored.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            title, heights = self._measured_values(html, edition, grids, len(context["values"]))
            with contextlib.suppress(OSError):
                stored.parent.mkdir(parents=True, exist_ok=True)
                tmp = stored.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps([title, heights]), encoding="utf-8")
                os.replace(tmp, stored)
        self._measures[known] = (title, heights)
        return title, heights

    def _measured_values(self, html: str, edition: Edition, grids: list, count: int):
        document = self.layout(html, edition, "_values.html")
        title, heights = 0.0, {g["key"]: [0.0] * count for g in grids}
        for page in document.pages:
            for box in _descendants(page._page_box):
                element = getattr(box, "element", None)
                mark = element.get("data-measure") if element is not None else None
                if mark is None:
                    continue
                if mark == "title":
                    title = max(title, box.margin_height() * PX_TO_MM)
                else:
                    key, index = mark.split()
                    heights[key][int(index)] += box.margin_height() * PX_TO_MM
        return title, heights

    def labels_overlay(self, pages: list, width_mm: float, height_mm: float,
                       edition: Edition) -> bytes:
        """Pages of loose text lines (objects with x, y = baseline from the top left in mm, text, size
        in pt, bold) set in the edition's fonts: the text of work sheets such as poster tiles, so they
        use only the project's fonts, in any script."""
        context = self.context(edition)
        sheets = []
        for labels in pages:
            spans = "".join(
                f'<span style="left:{label.x:.2f}mm; top:calc({label.y:.2f}mm - {label.size * 0.8:.2f}pt);'
                f' font-size:{label.size:g}pt; font-weight:{700 if label.bold else 400}">'
                f"{escape(label.text)}</span>" for label in labels)
            sheets.append(f'<div class="sheet">{spans}</div>')
        html = (f'<!DOCTYPE html><html lang="{escape(edition.lang)}"><head><meta charset="utf-8">'
                f"<style>{context['theme_css']}"
                f"@page {{ size: {width_mm:g}mm {height_mm:g}mm; margin: 0; }}"
                "* { font-family: var(--font-text); } body { margin: 0; }"
                f".sheet {{ position: relative; height: {height_mm:g}mm; break-after: page; }}"
                "span { position: absolute; white-space: nowrap; line-height: 1; color: black; }"
                f"</style></head><body>{''.join(sheets)}</body></html>")
        return self.write(self.layout(html, edition), edition).data

    def poster(self, edition: Edition, subject: dict, size: str,
               print_edition: bool = False) -> Rendered:
        """One poster: a value, or the mission and vision (subject['kind']), its texts fitted."""
        document = self.poster_document(edition, subject, size, print_edition)
        written = self.write(document, edition, print_edition, tagged=not print_edition)
        return dataclasses.replace(written, fill=frame_fill(document.pages[0]))

    def poster_document(self, edition: Edition, subject: dict, size: str,
                        print_edition: bool = False):
        """A poster laid out with its texts fitted, and checked: one page, every text in its
        frame, every word of the content visible; not yet written."""
        fit = self.poster_fit(edition, subject, size)
        html = self.poster_html(edition, subject, size, print_edition, fit)
        document = self.layout(html, edition, "poster.html")
        check_frames(document, edition, f"its {size} poster", one_page=True)
        check_words(document, edition, f"the {edition.lang} {size} poster {subject_slug(subject)}",
                    self.displayed(html))
        return document

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

    def poster_subjects(self, edition: Edition) -> list[tuple[str, str, dict]]:
        """(slug, outline title, template subject) for the mission/vision poster and each value,
        with the edition's labels."""
        return poster_subjects(edition, self.context(edition)["labels"])

    def _shortfall(self, edition: Edition, size: str, roles: dict, short) -> Problem:
        run = next((r for r in edition.runs if r.path == short.field), None)
        loc = run.loc if run else Location(edition.files[-1])
        fits = f"about {short.words} of its {short.total} words fit: " if short.words else ""
        return Problem(loc, f"{short.field} does not fit its {size} poster even at the smallest "
                       f"sizes the theme allows: {short.reason}",
                       f"{fits}shorten it, choose a larger sheet (posters: size: in "
                       f"content/publication.yaml), or lower the theme's fit: roles: "
                       f"{short.role}: min:")

    def fit_roles(self, edition: Edition, size: str) -> dict[str, copyfit.Role]:
        """The theme's fitted-text roles for this edition, in px on this sheet."""
        scale = self._sheet(size)["scale"]
        px = 96 / 25.4 * scale
        return {name: copyfit.Role(name, length_mm(spec["max"]) * px, length_mm(spec["min"]) * px,
                                   int(spec.get("lines") or 0))
                for name, spec in self.brand.fit_roles(edition.lang).items()}

    def _fit_css(self, sizes: dict[str, float]) -> Markup:
        return Markup(" ".join(f"--fit-{role}: {size / copyfit.PX_PER_PT:.2f}pt;"
                               for role, size in sorted(sizes.items())).join((":root { ", " }")))

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

    @functools.cached_property
    def theme_stamp(self) -> str:
        """What measurements and layout checks depend on besides the HTML: the theme's files, the
        fonts, WeasyPrint and culturebook's own code."""

        # the code that lays out and checks: any change to culturebook measures and checks anew
        code = sorted(Path(__file__).parents[1].rglob("*.py"))
        parts = [version("weasyprint"), *(p.read_text(encoding="utf-8") for p in code)]
        for directory in self.brand.dirs:
            parts += [hashlib.sha256(path.read_bytes()).hexdigest()
                      for path in sorted(p for p in directory.rglob("*") if p.is_file())]
        for face in self.brand.faces:
            info = face.file.stat()
            parts.append(f"{face.file}:{info.st_size}:{info.st_mtime_ns}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def booklet_html(self, edition: Edition, print_edition: bool = False,
                     personalised: bool = False, every_frontispiece: bool = False) -> str:
        """The booklet's HTML as first laid out: with its inputs, what decides its PDF.

        With `every_frontispiece`, every chapter opens on a right-hand page with the frontispiece
        a later pass may give it, and the sections after the chapters on pages of their own: the
        HTML that shows every element the booklet can have, for checking the styles without
        laying it out."""
        key = ("booklet", edition.lang, print_edition, personalised, every_frontispiece)
        if key not in self._html:
            plan = paginate.Plan()
            if every_frontispiece:
                chapters = [f"chapter-{c.get('id')}" for c in edition.data.get("chapters") or []]
                highlights = len(edition.data.get("highlights") or [])
                plan = paginate.Plan(True, recto=frozenset(chapters),
                                     frontispieces=tuple(chapters[:highlights]))
            self._html[key] = self.html(
                "booklet.html", edition, print_edition, padding=PADDING_CANDIDATES,
                plan=plan.context(), values_grid=self._any_values_grid(edition),
                recipient=PLACEHOLDER_RECIPIENT if personalised else None)
        return self._html[key]

    def poster_html(self, edition: Edition, subject: dict, size: str,
                    print_edition: bool = False, fit: dict | None = None) -> str:
        """A poster's HTML, its type scaled to the sheet (theme sizes are given for A2); `fit`
        as copyfitting set it (without, the fitted texts at their largest, unbroken)."""
        key = ("poster", edition.lang, print_edition, size, repr(subject), repr(fit))
        if key not in self._html:
            if fit is None:
                roles = self.fit_roles(edition, size)
                fit = {"css": self._fit_css({n: r.largest for n, r in roles.items()})}
            self._html[key] = self.html("poster.html", edition, print_edition, subject=subject,
                                        sheet=self._sheet(size), fit=fit)
        return self._html[key]

    @staticmethod
    def _sheet(size: str) -> dict:
        width, height = POSTER_SIZES_MM[size]
        return {"name": size, "width": width, "height": height,
                "scale": min(width / 420, height / 594)}

    def personal_html(self, edition: Edition, letters: list[dict],
                      print_edition: bool = False) -> str:
        """The personal pages (cover and welcome letter) of these recipients, in one document."""
        letters = [{**letter, "index": i} for i, letter in enumerate(letters)]
        return self.html("personal.html", edition, print_edition, recipients=letters)

    def personal_pages(self, edition: Edition, letters: list[dict], rows: list[Location],
                       print_edition: bool = False):
        """Lay out the personal pages of these recipients (`letters`, from
        personalise.letter_for; `rows` says where each came from) in one document. A name or
        letter that does not fit its page is a problem at the recipient's row, returned rather
        than raised: the other recipients go on."""

        document = self.layout(self.personal_html(edition, letters, print_edition), edition,
                               "personal.html")
        anchors = {a: n for n, page in enumerate(document.pages) for a in page.anchors}
        starts = [anchors.get(f"cover-{i}") for i in range(len(letters))]
        if None in starts or starts != sorted(starts):
            template = next((d / "personal.html" for d in self.brand.dirs
                             if (d / "personal.html").is_file()), self.brand.dirs[0])
            raise ProjectError([Problem(Location(template), "personal.html must lay out "
                                        "pages.cover(recipient) and pages.letter(recipient) for "
                                        "each of `recipients`, in order",
                                        "start from the default theme's personal.html")])
        ranges: list[tuple[int, int] | None] = []
        problems = []
        for i, (first, end) in enumerate(zip(starts, starts[1:] + [len(document.pages)],
                                             strict=True)):
            pages = document.pages[first:end]
            found = [f"{field} is too long for its page: {message}"
                     for field, message in _frame_overflow(pages, {})]
            if len(pages) != PERSONAL_PAGES:
                spilled = [f for page in pages[PERSONAL_PAGES:]
                           for f, _ in _field_boxes(page._page_box)]
                found.insert(0, f"{(spilled or ['the welcome letter'])[0]} runs the welcome "
                                f"letter onto {len(pages) - 1} pages")
            hint = "shorten the welcome letter in the content, or this row's text"
            if not found:
                found = [words_message(loss, "their personal pages") for loss in lost_words(pages)]
                hint = WORDS_HINT
            ranges.append(None if found else (first, len(pages)))
            if found:
                problems.append(Problem(rows[i], f"{letters[i]['plain_name']}: {found[0]}", hint))
        data = (self.write(document, edition, print_edition, tagged=not print_edition).data
                if any(ranges) else b"")
        return PersonalPages(data, tuple(ranges), tuple(problems))

    # --- stages -----------------------------------------------------------------------------

    def html(self, template: str, edition: Edition, print_edition: bool = False, **extra) -> str:
        """Fill a layout template; template errors name the template file and line."""
        extra.setdefault("recipient", None)
        extra.setdefault("fit", None)
        try:
            context = self.context(edition, print_edition)
            html = self.env.get_template(template).render(**context, **extra)
            html = mark_untranslated(html, edition)
        except jinja2.TemplateSyntaxError as exc:
            path = Path(exc.filename or self.brand.dirs[0] / (exc.name or template))
            raise ProjectError([Problem(Location(path, exc.lineno or 0, 1),
                                        f"template error: {exc.message}")]) from None
        except jinja2.TemplateNotFound as exc:
            raise ProjectError([Problem(Location(self.brand.dirs[0] / template),
                                        f"template not found: {exc.name}")]) from None
        except Exception as exc:  # noqa: BLE001 - any runtime error inside a template (undefined names, ...)
            loc = _template_frame(exc, self.brand.dirs) or Location(self.brand.dirs[0] / template)
            message = getattr(exc, "message", None) or str(exc)
            raise ProjectError([Problem(loc, f"template error: {message}")]) from None
        latin = None if _cjk(edition.source_lang) else edition.source_lang

        def language_of(ch: str, lang: str) -> str | None:
            # Latin words in CJK text (a product name in the Chinese edition) are in the source
            # language, when it is written in Latin letters: marked so, they are read in its voice
            # and set in its fonts.
            if latin and _cjk(lang) and script_name(ch) == "Latin":
                return latin
            return self.language_of(ch, lang)

        return mark_languages(html, language_of)

    def language_of(self, ch: str, lang: str) -> str | None:
        """The language to mark `ch` with inside an element in `lang`: None when `lang`'s own
        fonts have it, else the first other stack's language whose fonts
        have it (Han in the English edition: zh-Hans). `default` names no language: what only
        it sets is set by the fallback chain, unmarked."""
        key = (ch, lang)
        if key not in self._languages:
            found = None
            code = ord(ch)
            own = self.brand.stack_language(lang)
            if code not in self._own(own, own_coverage):
                found = next((other for other in self.brand.stacks
                              if other not in ("default", own)
                              and code in self._own(other, own_coverage)), None)
            self._languages[key] = found
        return self._languages[key]

    def _own(self, stack: str, own_coverage) -> frozenset[int]:
        if stack not in self._coverage:
            self._coverage[stack] = own_coverage(self.brand, stack, self.cache / "cmaps")
        return self._coverage[stack]

    def layout(self, html: str, edition: Edition, template: str = "booklet.html"):
        """Lay the HTML out with WeasyPrint; fail on anything it would only have logged."""
        load_weasyprint()
        from weasyprint import HTML

        fetcher = ConfinedFetcher(self.root)
        with LogCapture() as capture:
            document = HTML(string=html, base_url=str(self.brand.dirs[0]) + "/",
                            url_fetcher=fetcher).render(font_config=self.font_config)
        problems = Problems()
        for url in fetcher.refused:
            report_refused(problems, self.find_reference(url, edition), url)
        for message in capture.messages(fetcher.refused):
            if message.startswith(("Ignored", "Invalid", "Unsupported", "Expected")):
                continue  # CSS: reported with its stylesheet and line by check_stylesheets
            problems.items.append(self.logged_problem(message, edition, template))
        problems.raise_if_errors()
        return document

    def logged_problem(self, message: str, edition: Edition, template: str) -> Problem:
        """What WeasyPrint logged, as a problem: an image it failed to load or draw at the place
        that refers to it (the content's reference, else the layout line naming it), with the
        checks' reason where WeasyPrint gives none; anything else at the template."""
        source = next((d / template for d in self.brand.dirs if (d / template).is_file()),
                      self.brand.dirs[0] / template)
        failed = re.match(r"Failed to (load|render SVG) image (?:at )?'?([^'\s]+)'?(?::\s*(.*))?$",
                          message)
        if failed is None:
            return Problem(Location(source), message)
        url = failed[2]
        path = _file_path(url)
        image = next((i for i in edition.images if i.file.as_uri() == url), None)
        if image is not None:
            loc, name = image.loc, image.src
        else:
            loc = self.find_reference(url, edition)
            name = Path(path).name if path is not None else url
        reason = reason_for(path) if path is not None and path.is_file() else None
        if reason is None and failed[1] == "load":
            reason = f"cannot be loaded: {failed[3] or 'WeasyPrint gives no reason'}"
        elif reason is None:
            reason = "cannot be drawn: WeasyPrint failed to render this SVG"
        return Problem(loc, f"image '{name}' {reason}", "export the image again, or leave it out")

    def displayed(self, html: str) -> Callable[[object, object], bool]:
        """Whether an element of the document laid out from `html` (under its root element) is
        displayed at all, neither it nor an ancestor display: none, by WeasyPrint's cascade: how
        the words check tells a field the theme leaves out from one the layout dropped. The
        cascade (about 0.1 s) runs only when first asked, which is when some field has no box."""
        known: dict = {}

        def shown(element, root) -> bool:
            if not known:
                load_weasyprint()
                from weasyprint import HTML
                from weasyprint.css import get_all_computed_styles

                document = HTML(string=html, base_url=str(self.brand.dirs[0]) + "/",
                                url_fetcher=ConfinedFetcher(self.root))
                with LogCapture():
                    known["style"] = get_all_computed_styles(document, font_config=self.font_config)
                again = document.etree_element  # the same HTML parsed again: the same order
                known["parent"] = {child: parent for parent in again.iter() for child in parent}
                known["same"] = dict(zip(root.iter(), again.iter(), strict=False))
            other = known["same"].get(element)
            while other is not None:
                style = known["style"](other)
                if style is not None and style["display"] == ("none",):
                    return False
                other = known["parent"].get(other)
            return True

        return shown

    def colour_uses(self, html: str, template: str) -> list:
        """The text colours a filled layout draws and their backgrounds (render.colours.colour_uses),
        from WeasyPrint's cascade without layout: the stylesheets, base URL, URL fetcher and fonts
        are those of `layout`. About 0.1 s a document, after WeasyPrint's import."""
        load_weasyprint()
        from weasyprint import HTML
        from weasyprint.css import get_all_computed_styles


        document = HTML(string=html, base_url=str(self.brand.dirs[0]) + "/",
                        url_fetcher=ConfinedFetcher(self.root))
        with LogCapture():  # what it would log, `layout` and check_stylesheets report
            style_for = get_all_computed_styles(document, font_config=self.font_config)
            return colour_uses(document, style_for, template)

    def profile_css(self) -> str:
        """The output profile as WeasyPrint's device-cmyk colour profile (PDF/X output intent)."""
        profile = self.brand.output_profile()
        if profile is None:
            return ""
        return (f"@color-profile device-cmyk {{ src: url({profile.as_uri()}); "
                "components: cyan, magenta, yellow, black; }\n")

    def write(self, document, edition: Edition, print_edition: bool = False,
              tagged: bool = False, sources: tuple[Path, ...] = ()) -> Rendered:
        """The PDF of a laid-out document: PDF/X-4 for print with an output profile, tagged
        PDF/UA-1 for screen editions (`tagged`), PDF/A-3a with `sources` embedded (the archive)."""

        pdfx = print_edition and self.brand.output_profile() is not None
        variant = "pdf/x-4" if pdfx else None
        options: dict = {}
        if sources:
            variant = "pdf/a-3a"  # tagged, like the screen editions; PDF/A-3 allows the sources
            options["attachments"] = [self.source_attachment(path, edition) for path in sources]
        elif tagged:
            variant = "pdf/ua-1"
        with tagging(document) if variant in ("pdf/ua-1", "pdf/a-3a") else contextlib.nullcontext():
            with LogCapture() as capture:
                data = document.write_pdf(uncompressed_pdf=False, custom_metadata=False,
                                          pdf_variant=variant, **options)
        messages = capture.messages([])
        if messages:  # e.g. an image without alt text, which content checks should have caught
            template = "poster.html" if len(document.pages) == 1 else "booklet.html"
            if messages[0].startswith("Failed to load attachment"):
                raise ProjectError([self.attachment_problem(messages[0], edition)])
            raise ProjectError([self.logged_problem(messages[0], edition, template)])
        return Rendered(data, len(document.pages))

    def attachment_problem(self, message: str, edition: Edition) -> Problem:
        """A file a layout attaches (<a rel="attachment" href=...>) that WeasyPrint could not
        load, at the layout line that names it."""
        refused = re.search(r"refused: (\S+)", message)
        missing = re.search(r"No such file or directory: '([^']+)'", message)
        target = refused[1] if refused else missing[1] if missing else ""
        hint = "attach only files inside the project"
        if refused:
            reason = "only files inside the project are used; nothing is fetched"
        elif missing:
            reason = "no such file"
            hint = "an href is relative to the layout's own folder"
        else:
            reason = message.split(": ", 1)[-1]
        shown = target
        with contextlib.suppress(ValueError):
            shown = Path(target).resolve().relative_to(self.root).as_posix()
        loc = self.find_reference(target, edition) if target else Location(self.brand.dirs[0])
        return Problem(loc, f"cannot attach '{shown}' to the PDF: {reason}", hint)

    def source_attachment(self, path: Path, edition: Edition):
        """A content file as a PDF/A-3 associated file (relationship Source), dated like the PDF
        so the archive is byte-reproducible."""

        from weasyprint import Attachment

        when = edition.created.replace(tzinfo=None)
        return Attachment(file_obj=io.BytesIO(path.read_bytes()), name=path.name,
                          description=f"content/{path.name}, the source of this edition",
                          created=when, modified=when, relationship="Source")

    def find_reference(self, url: str, edition: Edition) -> Location:
        """Where a refused URL is written: a layout file, or else the content."""
        needle = url.removeprefix("file://")
        files = [p for d in self.brand.dirs for p in sorted(d.rglob("*")) if p.is_file()]
        for path in files + list(edition.files):
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for n, line in enumerate(lines, 1):
                for candidate in (url, needle, Path(needle).name):
                    if candidate and candidate in line:
                        return Location(path, n, line.index(candidate) + 1)
        return Location(self.brand.dirs[0])

    # --- the template context ---------------------------------------------------------------

    def context(self, edition: Edition, print_edition: bool = False) -> dict:
        """The one documented context every layout receives (plain data only)."""
        data = edition.data
        labels = self.brand.edition_labels(edition).words
        values = [{**v, "number": f"{i:02d}"} for i, v in enumerate(data.get("values") or [], 1)]
        return {
            "pub": data,
            "lang": edition.lang,
            "source_lang": edition.source_lang,
            "native_lang": edition.native_lang,
            "script": "cjk" if _cjk(edition.lang) else "latin",
            "labels": labels,
            "date": format_date(edition.date, labels),
            "date_iso": edition.date.isoformat(),
            "created_iso": edition.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "values": values,
            "title_lines": title_lines(data.get("title", "")),
            "translation_note": (data.get("translation") or {}).get("note") or "",
            "untranslated_note": untranslated_note(edition, labels),
            "theme_css": Markup(self.brand.font_face_css()
                                + self.brand.css_properties(print_edition)
                                + (self.profile_css() if print_edition else "")),
            "print_edition": print_edition,
            "bleed": f"{self.brand.print_mm('bleed'):g}mm" if print_edition else "0mm",
            "booklet": self.brand.booklet,
        }


# What the shared booklet of personalised booklets has on its personal pages, which every
# recipient's own pages replace: the same one page each, with nothing of anyone's.
PLACEHOLDER_RECIPIENT = {"index": 0, "name": "", "plain_name": "", "cover": "", "title": "", "body": "",
                         "details": [], "note": "", "note_by": "", "signature": ""}


def _cjk(lang: str | None) -> bool:
    """Whether a language is Chinese, Japanese or Korean (by its primary subtag)."""
    return bool(lang) and lang.split("-")[0].lower() in ("zh", "ja", "ko")


@functools.lru_cache(maxsize=64)
def _series_sizes(measures: tuple[copyfit.Measure, ...], roles: tuple) -> dict[str, float]:
    """One size per role for a series of posters (copyfit.series), fitted once per build: each
    poster of the series asks. A poster that cannot fit at all reports itself, and is left out."""
    fitted = [copyfit.fit(measure, dict(roles)) for measure in measures]
    return copyfit.series([f for f in fitted if not isinstance(f, copyfit.Shortfall)])


def _read_plan(path: Path) -> paginate.Plan | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return paginate.Plan(**{k: frozenset(v) if isinstance(v, list) and k != "frontispieces"
                                else tuple(v) if k == "frontispieces" else v
                                for k, v in data.items()})
    except (OSError, ValueError, TypeError):
        return None


def _write_plan(path: Path, plan: paginate.Plan) -> None:
    data = {k: sorted(v) if isinstance(v, frozenset) else list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(plan).items()}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)


def _measure_from_json(data: dict) -> copyfit.Measure:
    texts = tuple(copyfit.Text(**{**t, "lefts": tuple(t["lefts"]), "rights": tuple(t["rights"])})
                  for t in data["texts"])
    return copyfit.Measure(texts, data["frame"], data["held"])


def load_weasyprint() -> None:
    """Import WeasyPrint (once), without the slow part of finding its libraries on Linux.

    WeasyPrint tries several names for each library it loads (Pango, HarfBuzz, fontconfig...);
    for a name that is not a file name, cffi asks ctypes.util.find_library, which on Linux runs
    ldconfig, gcc and ld in subprocesses. That took 0.3-0.5 s of a 0.9-1.1 s import here, on
    every build that renders. While WeasyPrint imports, those lookups answer "not found", so it
    goes on to the sonames it also tries (libpango-1.0.so.0, ...), which the dynamic loader
    opens directly, as it would have in the end (LD_LIBRARY_PATH is honoured either way)."""

    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        return

    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = find_library


class ConfinedFetcher:
    """A WeasyPrint URL fetcher that serves files inside the project and refuses everything else."""

    def __new__(cls, root: Path):
        load_weasyprint()
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class _Fetcher(URLFetcher):
            def __init__(self) -> None:
                super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
                self.refused: list[str] = []

            def fetch(self, url, headers=None):
                if url.startswith("data:"):
                    return super().fetch(url, headers)
                path = _file_path(url)
                if path is None or not path.resolve().is_relative_to(root):
                    self.refused.append(url)
                    raise ValueError(f"refused: {url}")
                data = path.read_bytes()
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, data, {"Content-Type": mime})

        return _Fetcher()


def _file_path(url: str) -> Path | None:
    if not url.startswith("file:"):
        return None

    return Path(url2pathname(re.sub(r"^file://(localhost)?", "", url.split("?")[0])))
