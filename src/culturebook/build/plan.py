"""Which documents a build makes, from which inputs, and how each is made."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from culturebook import ENGINES, __version__
from culturebook.errors import Location, Problem, ProjectError
from culturebook.pdf.splice import combine
from culturebook.pdf.tile import sheet_labels, tile_poster
from culturebook.project.recipients import csv_text
from culturebook.render import letters as personal_letters
from culturebook.render.engine import Rendered

if TYPE_CHECKING:
    from culturebook.project.content import Edition
from culturebook.build.run import Leaf, make_leaf, print_marks, source_files
from culturebook.checks.project import Checked
from culturebook.pdf.tile import tile_plan


@dataclass
class Output:
    """One document of a build: rendered now (`fresh`) or the unchanged file of an earlier build."""

    kind: str
    edition: str
    path: Path
    data: bytes
    pages: int
    inputs: str
    fresh: bool
    preflight: bool = True  # False: made the same way as a document of the build that is checked
    findings: list | None = None  # found already, on the parts it was made of
    fill: float | tuple | None = None  # Rendered.fill


class Outputs:
    """The documents of one build. `make` renders a document only when its inputs changed."""

    def __init__(self, out: Path, previous: dict[str, dict], stamp: str,
                 progress: Callable[..., None], dry: bool = False, total: int = 0):
        self.out, self.previous, self.stamp, self.progress = out, previous, stamp, progress
        self.items: list[Output] = []
        self.dry = dry  # plan only: count what must be made, make nothing
        self.to_make = 0
        self.total = total
        self.leaves: dict[str, Leaf] = {}  # (planning) renders that need no other document
        self.ready: dict[str, object] = {}  # documents already made by the worker pool
        self.rejected: list[Problem] = []  # recipients whose personal pages failed a check
        self.stale: list[Path] = []  # personalised booklets of people no longer listed

    def digest(self, kind: str, inputs: str | bytes) -> str:
        """The hash of everything a document of this kind is made from."""
        return hashlib.sha256(self.stamp.encode() + kind.encode() + b"\0"
                              + (inputs.encode() if isinstance(inputs, str) else inputs)).hexdigest()

    def current(self, kind: str, path: Path, inputs: str | bytes) -> bool:
        """Whether the file at `path` is what the last build made from these same inputs."""
        entry = self.previous.get(path.relative_to(self.out).as_posix())
        if not entry or entry.get("inputs") != self.digest(kind, inputs) or not path.is_file():
            return False
        # The bytes are checked while planning too: the plan and the build must agree on it.
        return hashlib.sha256(path.read_bytes()).hexdigest() == entry.get("sha256")

    def make(self, kind: str, edition: str, path: Path, inputs: str, render: Callable | Leaf,
             emit: bool = True, preflight: bool = True, findings: list | None = None):
        """The document at `path` made from `inputs` (text or bytes): the file of the last build
        when they are unchanged, else `render()`. With emit=False it is only needed by another
        document (the screen booklet of a print build), not written. A `Leaf` needs no other
        document, so the worker pool can make it."""
        leaf = render if isinstance(render, Leaf) else None

        digest = self.digest(kind, inputs)
        rel = path.relative_to(self.out).as_posix()
        entry = self.previous.get(rel)
        reused = None
        if entry and entry.get("inputs") == digest and path.is_file():
            if self.dry:
                return Rendered(b"", entry["pages"]), digest
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == entry.get("sha256"):
                reused = Rendered(data, entry["pages"], fill=entry.get("fill"))
        if self.dry:
            self.to_make += 1
            if leaf:
                self.leaves[rel] = render
            return Rendered(b"", 0), digest
        if reused is None and rel in self.ready:
            rendered = self.ready[rel]
        elif reused is None:
            self.to_make += 1
            self.progress(f"rendering {rel}", self.to_make + len(self.ready), self.total)
            rendered = make_leaf(leaf) if leaf else render()
        if reused is not None:
            self.progress(f"up to date {rel}")
        result = reused or rendered
        if emit:
            self.items.append(Output(kind, edition, path, result.data, result.pages, digest,
                                     reused is None, preflight, findings, result.fill))
        return result, digest


def stamp(checked: Checked) -> str:
    """What every document depends on besides its own HTML: the versions of the tools, the theme's
    files, the fonts and the content's images (by size and time), and the print settings."""


    parts = [__version__] + [version(p) for p in ENGINES]
    for directory in checked.brand.dirs:
        parts += [f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
                  for path in sorted(p for p in directory.rglob("*") if p.is_file())]
    files = [f.file for f in checked.brand.faces]
    files += [i.file for e in checked.content.editions for i in e.images]
    for path in files:
        info = path.stat()
        parts.append(f"{path}:{info.st_size}:{info.st_mtime_ns}")
    parts.append(repr(sorted(checked.brand.print.items(), key=str)))
    return "\n".join(parts)


def render_edition(renderer, edition: Edition, parts: set[str], made: Outputs,
                   people: list = ()) -> None:
    """Make one edition's documents of `parts` (PARTS), each only if its inputs changed. (The PDF tools are
    imported inside the renders: planning a build that has nothing to do stays light.)"""
    folder = made.out / edition.lang
    lang = edition.lang
    booklet = booklet_key = None
    if parts & {"booklet", "bundle", "print"}:
        booklet, booklet_key = made.make(
            "booklet", lang, folder / "booklet.pdf", renderer.booklet_html(edition),
            Leaf(str(renderer.root), renderer.strict, "booklet", lang), emit="booklet" in parts)
    posters = []
    if parts & {"posters", "bundle", "print"}:
        for slug, title, subject in renderer.poster_subjects(edition):
            html = renderer.poster_inputs(edition, subject, edition.poster_size)
            rendered, key = made.make(
                "poster", lang, folder / "posters" / f"{slug}.pdf", html,
                Leaf(str(renderer.root), renderer.strict, "poster", lang, slug),
                emit="posters" in parts)
            posters.append((slug, title, rendered, key))
    if "bundle" in parts:
        data = edition.data
        info = {"title": data["title"], "author": data.get("author") or data["organisation"],
                "subject": data.get("subject") or "", "keywords": ", ".join(data.get("keywords") or []),
                "lang": lang, "date": edition.created.strftime("D:%Y%m%d%H%M%SZ")}
        titles = [data["title"]] + [t for _, t, _, _ in posters]

        def bundle():
            from culturebook.pdf.bundle import BundleInfo, Part, merge_parts

            pdfs = [booklet.data] + [r.data for _, _, r, _ in posters]
            merged = merge_parts([Part(t, d) for t, d in zip(titles, pdfs, strict=True)],
                                 BundleInfo(**info))
            return _rendered(merged, booklet.pages + sum(r.pages for _, _, r, _ in posters))

        # re-merged only when a part (or the bundle's own information) changed
        keys = [booklet_key] + [k for *_, k in posters]
        made.make("bundle", lang, folder / "culture-kit.pdf",
                  repr((sorted(info.items()), list(zip(titles, keys, strict=True)))), bundle)
    if "print" in parts:
        render_print(renderer, edition, (booklet, booklet_key), posters, folder / "print", made)
    if "archive" in parts:
        # The archive embeds the content files, so any change to them (a comment too) remakes it.
        sources = b"".join(hashlib.sha256(f.read_bytes()).digest() for f in source_files(edition))
        made.make("archive", lang, folder / "archive" / "booklet.pdf",
                  renderer.booklet_html(edition).encode() + sources,
                  Leaf(str(renderer.root), renderer.strict, "archive-booklet", lang))
    if "personalised" in parts:
        render_personalised(renderer, edition, people, made, "personalised-print" in parts)


def _rendered(data: bytes, pages: int):

    return Rendered(data, pages)


def render_print(renderer, edition: Edition, screen_booklet, posters, folder: Path,
                 made: Outputs) -> None:
    """The print editions (CMYK, bleed, every page on a slug with crop marks) for a print shop, and
    for office printers the screen booklet imposed two-up and the screen posters tiled."""
    brand, lang = renderer.brand, edition.lang
    missing = brand.missing_cmyk()
    if missing:
        raise ProjectError([Problem(
            Location(brand.files[0]), f"colour '{missing[0]}' has no CMYK equivalent in print.colours",
            "print editions use CMYK only: add it under print: colours: in theme.yaml")])
    settings = repr(print_marks(brand))
    root, strict = str(renderer.root), renderer.strict
    made.make("print-booklet", lang, folder / "booklet.pdf",
              renderer.booklet_html(edition, print_edition=True) + settings,
              Leaf(root, strict, "print-booklet", lang))
    for slug, _, subject in renderer.poster_subjects(edition):
        html = renderer.poster_inputs(edition, subject, edition.poster_size, print_edition=True)
        made.make("print-poster", lang, folder / "posters" / f"{slug}.pdf", html + settings,
                  Leaf(root, strict, "print-poster", lang, slug))
    booklet, booklet_key = screen_booklet
    sheet, creep = str(brand.print.get("sheet") or "A4"), brand.print_mm("creep")

    def imposed():
        from culturebook.pdf.impose import impose_booklet

        return _rendered(impose_booklet(booklet.data, sheet=sheet, creep_mm=creep), booklet.pages // 2)

    made.make("imposed", lang, folder / "booklet-imposed.pdf", repr((booklet_key, sheet, creep)),
              imposed)
    plan = tile_plan(brand, edition.poster_size)
    for slug, title, poster, poster_key in posters:
        def tiles(poster=poster, title=title):

            labels = renderer.labels_overlay(sheet_labels(plan, title), plan.sheet_w, plan.sheet_h,
                                             edition)
            return _rendered(tile_poster(poster.data, plan, title, labels), 1 + len(plan.tiles))

        made.make("tiles", lang, folder / "tiles" / f"{slug}.pdf",
                  repr((poster_key, plan, title)), tiles)


def render_personalised(renderer, edition: Edition, people: list, made: Outputs,
                        print_file: bool = True) -> None:
    """One booklet per recipient (build/<lang>/personalised/<slug>.pdf), recipients.csv for a mail
    merge and, with `print_file`, every recipient's booklet in one print file
    (build/<lang>/print/personalised.pdf).

    The shared pages are rendered once (per worker). The personal pages (cover and letter) are
    laid out BATCH recipients to a document, in the order of the CSV, so that they share their
    fonts; a booklet is therefore made from its batch's rows, and made again (with its batch) when
    one of them or the shared booklet changed. The same CSV always gives the same bytes."""

    lang = edition.lang
    mine = [p for p in people if p.language in ("", lang)]
    if not mine:
        return
    folder = made.out / lang / "personalised"
    shared_html = renderer.booklet_html(edition, personalised=True)
    size = personal_letters.BATCH
    batches = [mine[i:i + size] for i in range(0, len(mine), size)]
    inputs = {p.slug: shared_html + repr([_row(q) for q in batch]) + p.slug
              for batch in batches for p in batch}
    files = {}
    first = True
    for number, batch in enumerate(batches, 1):
        if all(made.current("personalised", folder / f"{p.slug}.pdf", inputs[p.slug])
               for p in batch):
            for person in batch if not made.dry else ():
                files[person.slug] = made.make("personalised", lang, folder / f"{person.slug}.pdf",
                                               inputs[person.slug], lambda: None)[0]
            continue
        booklets, _ = made.make(
            "personal-booklets", lang, folder / f"batch-{number}", repr([_row(p) for p in batch]),
            Leaf(str(renderer.root), renderer.strict, "personal-booklets", lang,
                 recipients=tuple(batch)), emit=False)
        if made.dry:
            made.to_make += len(batch)
            continue
        made.rejected += [p for p in booklets.problems if p not in made.rejected]
        for person, data in zip(batch, booklets.files, strict=True):
            if data is not None:  # the first booklet stands for all in preflight
                files[person.slug] = made.make(
                    "personalised", lang, folder / f"{person.slug}.pdf", inputs[person.slug],
                    lambda data=data, pages=booklets.pages: _rendered(data, pages),
                    preflight=first)[0]
                first = False
    if print_file:
        render_personalised_print(renderer, edition, batches, inputs, made)
    if made.dry:
        made.to_make += 1  # recipients.csv
        return
    made.stale += [p for p in folder.glob("*.pdf") if p.stem not in inputs]
    table = [["recipient", "email", "file", "pages", "bytes", "sha256"]]
    for person in mine:
        if person.slug in files:
            made_file = files[person.slug]
            table.append([person.name, person.email, f"{person.slug}.pdf", str(made_file.pages),
                          str(len(made_file.data)), hashlib.sha256(made_file.data).hexdigest()])
    text = csv_text(table)
    made.make("recipients", lang, folder / "recipients.csv", text,
              lambda: _rendered(text.encode(), 0), preflight=False)


def personal_pages(renderer, edition: Edition, batch: list, number: int, folder: Path, kind: str,
                   made: Outputs) -> dict:
    """The personal pages (cover and letter) of a batch of recipients, laid out in one document by
    a worker: {slug: (PersonalPages, index)}. A recipient whose pages do not fit is left out and
    reported at their row."""
    pages, _ = made.make(
        f"{kind}-pages", edition.lang, folder / f"{kind}-pages-{number + 1}",
        repr([_row(p) for p in batch]),
        Leaf(str(renderer.root), renderer.strict, f"{kind}-pages", edition.lang,
             recipients=tuple(batch)), emit=False)
    if made.dry:
        return {}
    made.rejected += [p for p in pages.problems if p not in made.rejected]
    return {person.slug: (pages, i) for i, person in enumerate(batch) if pages.ranges[i]}


def render_personalised_print(renderer, edition: Edition, batches: list[list], inputs: dict,
                              made: Outputs) -> None:
    """Every recipient's booklet, print edition (CMYK, bleed, marks), in one PDF for the print
    shop: the shared pages are stored once, and each batch's personal pages share their fonts."""

    lang = edition.lang
    path = made.out / lang / "print" / "personalised.pdf"
    key = renderer.booklet_html(edition, print_edition=True, personalised=True) + repr(
        [inputs[p.slug] for batch in batches for p in batch]) + repr(print_marks(renderer.brand))
    if made.current("print-personalised", path, key):
        made.make("print-personalised", lang, path, key, lambda: None)
        return
    folder = made.out / lang / "personalised"
    shared, _ = made.make("print-personal-shared", lang, folder / "print-shared.pdf", key,
                          Leaf(str(renderer.root), renderer.strict, "print-personal-shared", lang),
                          emit=False)
    parts, findings = [], list(shared.findings)
    for number, batch in enumerate(batches):
        personal = personal_pages(renderer, edition, batch, number, folder, "print-personal", made)
        parts += [personal[p.slug] for p in batch if p.slug in personal]
        documents = {id(pages): pages for pages, _ in personal.values()}  # the batch's, if any
        findings += [f for pages in documents.values() for f in pages.findings]
    made.make("print-personalised", lang, path, key,
              lambda: _rendered(combine(shared.data, parts), shared.pages * len(parts)),
              findings=findings)


def _row(person) -> tuple:
    """What a recipient's pages are made from."""
    return (person.name, person.email, person.slug, sorted(person.values.items(), key=str))


