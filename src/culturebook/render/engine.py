"""Edition + Brand -> HTML -> PDF bytes (WeasyPrint), confined to the project.

`Renderer` lays the documents out and writes their PDFs: the booklet's pagination passes, the
posters, the personal pages, each checked (frames, words) before it is written. What it lays out
is filled by `Filling` (render.fill: the context and each document's HTML) and measured by
`Measuring` (render.measure: the values grid, the posters' copyfitting); WeasyPrint's set-up
(fonts, the confined URL fetcher, its log) is render.weasy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import multiprocessing.util
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.pdf.splice import PERSONAL_PAGES, PersonalPages
from culturebook.pdf.tagging import tagged as tagging
from culturebook.project.brand import Brand
from culturebook.project.content import Edition
from culturebook.project.imagefile import reason_for
from culturebook.render import copyfit, paginate
from culturebook.render.colours import colour_uses
from culturebook.render.fill import PADDING_CANDIDATES, PLACEHOLDER_RECIPIENT, Filling
from culturebook.render.geometry import (
    WORDS_HINT,
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
from culturebook.render.measure import Measuring
from culturebook.render.templates import subject_slug, template_environment
from culturebook.render.weasy import (
    ConfinedFetcher,
    LogCapture,
    file_path,
    font_copies_folder,
    kept_font_config,
    load_weasyprint,
    report_refused,
    setup_fontconfig,
)
from culturebook.render.words import lost_words

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


class Renderer(Filling, Measuring):
    """Renders booklets and posters for one project; keep one per process."""

    def __init__(self, project_root: Path, brand: Brand, cache: Path, strict: bool = False):
        self.root = project_root.resolve()
        self.brand = brand
        self.strict = strict
        self.cache = cache
        # The project's fonts/ and the folders of the theme's font files that are elsewhere (the
        # default theme's, a font package's): fontconfig sees these and nothing else.
        own = self.root / "fonts"
        fonts = list(dict.fromkeys([own] * own.is_dir() + [face.file.resolve().parent for face in
                                   brand.faces if not face.file.resolve().is_relative_to(own)]))
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

        def made():
            config = FontConfiguration()
            config._folder = font_copies_folder(self.cache)  # WeasyPrint 70 fills it on first use
            multiprocessing.util.Finalize(config, shutil.rmtree, args=(str(config._folder), True),
                                          exitpriority=1)
            return config

        def fonts() -> str:
            # What the configuration holds: the faces (theme.yaml's and any @font-face of the
            # stylesheets) and the files they name; not the colours.
            sheets = [p.read_bytes() for d in self.brand.dirs for p in sorted(d.rglob("*.css"))]
            files = [f"{f.file}:{f.file.stat().st_size}:{f.file.stat().st_mtime_ns}"
                     for f in self.brand.faces if f.file.is_file()]
            return hashlib.sha256(b"\0".join([str(self.root).encode(),
                                              self.brand.font_face_css().encode(), *sheets,
                                              *map(str.encode, files)])).hexdigest()

        return kept_font_config(fonts, made)

    # --- documents --------------------------------------------------------------------------

    def booklet(self, edition: Edition, print_edition: bool = False,
                personalised: bool = False, recipient: dict | None = None,
                archive: tuple[Path, ...] = (), start: paginate.Plan | None = None) -> Rendered:
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
        kept = self.booklet_document(edition, print_edition, personalised, recipient, start)
        written = self.write(kept, edition, print_edition, tagged=not print_edition, sources=archive)
        return dataclasses.replace(written, fill=tuple((f.kind, f.fill) for f in page_fills(kept)))

    def booklet_document(self, edition: Edition, print_edition: bool = False,
                         personalised: bool = False, recipient: dict | None = None,
                         start: paginate.Plan | None = None):
        """The booklet laid out (the pages it keeps) and checked: every frame, every word of the
        content on its page; not yet written.

        Its pagination follows the content (paginate.refine): a first pass runs every chapter on
        and measures them, later passes open the long ones on a right-hand page, fill a verso left
        blank with a highlight, and run a section on where a break would leave too empty a page.
        The plan an edition settles on is kept, so its other booklets start from it. A booklet
        laid out from a `start` plan of other content (the preview's draft) keeps nothing: where
        it settles may depend on where it started, so only its own draft uses it
        (kept[("draft plan", lang)])."""
        if recipient or personalised:
            recipient = {**(recipient or PLACEHOLDER_RECIPIENT), "index": 0}
        known = ("plan", edition.lang, bool(recipient))
        stored = self._stored_plan(edition, bool(recipient))
        plan = start or self.kept.get(known) or _read_plan(stored) or paginate.Plan()
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
        if start is not None:
            self.kept[("draft plan", edition.lang)] = plan
        elif self.kept.get(known) != plan:
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

    def plan_stored(self, edition: Edition) -> bool:
        """Whether a build has stored the plan of this edition's screen booklet as it is now."""
        return self._stored_plan(edition, False).is_file()

    def _stored_plan(self, edition: Edition, personalised: bool) -> Path:
        """Where the plan an edition's booklet settled on is kept on disk: by the theme's files and
        the booklet's first HTML (which holds all its content), as measurements are. A build
        that finds it lays the booklet out once, and checks that the plan still holds."""
        html = self.booklet_html(edition, personalised=personalised)
        key = hashlib.sha256(f"{self.theme_stamp}\0{html}".encode()).hexdigest()
        return self.cache / "pagination" / f"{key}.json"

    def labels_overlay(self, pages: list, width_mm: float, height_mm: float,
                       edition: Edition) -> bytes:
        """Pages of loose text lines (objects with x, y = baseline from the top left in mm, text, size
        in pt, bold) set in the edition's fonts: the text of work sheets such as poster tiles, so they
        use only the project's fonts, in any script; in black ink (DeviceCMYK)."""
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
                # black ink only: the sheets print in CMYK like the print editions they show
                "span { position: absolute; white-space: nowrap; line-height: 1; "
                "color: device-cmyk(0 0 0 1); }"
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

    # --- laying out and writing ----------------------------------------------------------

    def layout(self, html: str, edition: Edition, template: str = "booklet.html"):
        """Lay the HTML out with WeasyPrint; fail on anything it would only have logged."""
        load_weasyprint()
        from weasyprint import HTML

        fetcher = ConfinedFetcher(self.root, self.brand)
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
        path = file_path(url)
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
                                url_fetcher=ConfinedFetcher(self.root, self.brand))
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
                        url_fetcher=ConfinedFetcher(self.root, self.brand))
        with LogCapture():  # what it would log, `layout` and check_stylesheets report
            style_for = get_all_computed_styles(document, font_config=self.font_config)
            return colour_uses(document, style_for, template)

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
