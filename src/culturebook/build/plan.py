"""Which documents a build makes, from which inputs, and how each is made.

Planning gives the build's jobs, in an order in which every job comes after the jobs it is made
from. A job is either a `Leaf` (a document that needs no other, which a worker process can make) or
made from the results of jobs before it: the bundle from the booklet and posters, the imposed
booklet from the screen booklet, tiles from the posters, personalised booklets from their batch,
the print file of personalised booklets from its parts. A job whose inputs are what the last build
made its file from, and whose file is still that file, reuses it: this is decided while planning,
so the build knows how many documents it makes before it makes any. (The PDF tools are imported
inside the makers: planning a build that has nothing to do stays light.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from culturebook import ENGINES, __version__
from culturebook.build.documents import edition_documents
from culturebook.build.run import Leaf, image_inks, make_leaf, print_intent, print_marks, source_files
from culturebook.checks.project import Checked
from culturebook.errors import Location, Problem, ProjectError
from culturebook.pdf.splice import combine
from culturebook.pdf.tile import sheet_labels, tile_plan, tile_poster
from culturebook.project.recipients import csv_text
from culturebook.render import letters as personal_letters
from culturebook.render.engine import Rendered

if TYPE_CHECKING:
    from culturebook.project.content import Edition


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


@dataclass(eq=False)
class Job:
    """One document the build needs: written to build/ (`emit`) or only needed by another job."""

    kind: str
    edition: str
    path: Path
    inputs: str  # the digest of what it is made from
    leaf: Leaf | None = None  # made by a worker, or
    make: Callable[[], Rendered] | None = None  # made from the results of jobs before it
    emit: bool = True
    preflight: bool = True
    reused: Rendered | None = None  # the unchanged file of the last build
    count: int = 1  # how many of the documents this build makes it stands for (progress)
    keep: Callable[[], bool] | None = None  # asked when it runs: False leaves it out
    later: Callable[[], str] | None = None  # its inputs, known only once the jobs before it ran
    findings: list | None = None  # preflight findings of the parts it was made of
    result: Rendered | None = None  # once it ran


class Plan:
    """The jobs of one build, and what planning found besides: the personalised booklets of people
    no longer listed (`stale`)."""

    def __init__(self, out: Path, previous: dict[str, dict], stamp: str):
        self.out, self.previous, self.stamp = out, previous, stamp
        self.jobs: list[Job] = []
        self.stale: list[Path] = []

    def digest(self, kind: str, inputs: str | bytes) -> str:
        """The hash of everything a document of this kind is made from."""
        return hashlib.sha256(self.stamp.encode() + kind.encode() + b"\0"
                              + (inputs.encode() if isinstance(inputs, str) else inputs)).hexdigest()

    def reusable(self, path: Path, digest: str) -> Rendered | None:
        """The file at `path`, when it is what the last build made from inputs with `digest`."""
        entry = self.previous.get(path.relative_to(self.out).as_posix())
        if not entry or entry.get("inputs") != digest or not path.is_file():
            return None
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            return None
        return Rendered(data, entry["pages"], fill=entry.get("fill"))

    def current(self, kind: str, path: Path, inputs: str) -> bool:
        """Whether the file at `path` is what the last build made from these same inputs."""
        return self.reusable(path, self.digest(kind, inputs)) is not None

    def job(self, kind: str, edition: str, path: Path, inputs: str | bytes,
            how: Leaf | Callable[[], Rendered] | None, emit: bool = True, preflight: bool = True,
            count: int | None = None, keep: Callable[[], bool] | None = None) -> Job:
        """Add the job of the document at `path`, made from `inputs` (text or bytes) by `how`:
        the file of the last build when they are unchanged. With emit=False it is only needed by
        another document (the screen booklet of a print build), not written."""
        digest = self.digest(kind, inputs)
        reused = self.reusable(path, digest)
        leaf = how if isinstance(how, Leaf) else None
        job = Job(kind, edition, path, digest, leaf, None if leaf else how, emit, preflight, reused,
                  (0 if reused else 1) if count is None else count, keep)
        self.jobs.append(job)
        return job

    def rel(self, job: Job) -> str:
        return job.path.relative_to(self.out).as_posix()

    def leaves(self) -> dict[str, Leaf]:
        """The documents to make that need no other document, by path under build/."""
        return {self.rel(j): j.leaf for j in self.jobs if j.leaf and j.reused is None}

    def total(self) -> int:
        """How many documents the build makes."""
        return sum(j.count for j in self.jobs)

    def run(self, ready: dict[str, Rendered], progress: Callable[..., None]) -> list[Output]:
        """Run the jobs in order, the leaves in `ready` (made already by workers) taken from it;
        return the documents written, made now or reused."""
        total, done, outputs = self.total(), len(ready), []
        for job in self.jobs:
            if job.keep is not None and not job.keep():
                continue
            rel = self.rel(job)
            if job.later is not None:
                job.inputs = self.digest(job.kind, job.later())
                job.reused = self.reusable(job.path, job.inputs)
            if job.reused is not None:
                progress(f"up to date {rel}")
                job.result = job.reused
            elif rel in ready:
                job.result = ready[rel]
            else:
                done += 1
                progress(f"rendering {rel}", done, total)
                job.result = make_leaf(job.leaf) if job.leaf else job.make()
            if job.emit:
                result = job.result
                outputs.append(Output(job.kind, job.edition, job.path, result.data, result.pages,
                                      job.inputs, job.reused is None, job.preflight, job.findings,
                                      result.fill))
        return outputs

    def rejected(self) -> list[Problem]:
        """The recipients whose personal pages failed a check, each once, in the order found."""
        found = []
        for job in self.jobs:
            if job.kind in ("personal-booklets", "print-personal-pages") and job.result is not None:
                found += [p for p in job.result.problems if p not in found]
        return found


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


def plan_edition(renderer, edition: Edition, parts: set[str], plan: Plan, people: list = ()) -> None:
    """Plan one edition's documents of `parts` (pipeline.PARTS). The bundle and the print editions
    are made from the screen booklet and posters, planned (not written) for them too."""
    lang, root, strict = edition.lang, str(renderer.root), renderer.strict
    needed = parts | ({"booklet", "posters"} if "bundle" in parts else set())
    subjects = {slug: subject for slug, _, subject in renderer.poster_subjects(edition)}
    booklet, posters, printing = None, {}, None
    printed: dict = {"booklet": None, "posters": {}}  # the print editions, imposed and tiled
    for document in edition_documents(renderer.brand, edition, needed):
        path, kind, slug = plan.out / document.path, document.kind, document.slug
        emit = document.part in parts
        if kind == "booklet":
            booklet = plan.job(kind, lang, path, renderer.booklet_html(edition),
                               Leaf(root, strict, "booklet", lang), emit=emit)
        elif kind == "poster":
            html = renderer.poster_inputs(edition, subjects[slug], edition.poster_size)
            posters[slug] = (document.title, plan.job(kind, lang, path, html,
                                                      Leaf(root, strict, "poster", lang, slug), emit=emit))
        elif kind == "bundle":
            plan_bundle(edition, booklet, list(posters.values()), path, plan)
        elif kind == "archive":
            # The archive embeds the content files, so any change to them (a comment too) remakes it.
            sources = b"".join(hashlib.sha256(f.read_bytes()).digest() for f in source_files(edition))
            plan.job(kind, lang, path, renderer.booklet_html(edition).encode() + sources,
                     Leaf(root, strict, "archive-booklet", lang))
        else:
            printing = printing or {**_print_settings(renderer, edition), "subjects": subjects}
            plan_print(renderer, edition, document, printed, printing, plan)
    if "personalised" in parts:
        plan_personalised(renderer, edition, people, plan, "personalised-print" in parts)


def plan_bundle(edition: Edition, booklet: Job, posters: list[tuple[str, Job]], path: Path,
                plan: Plan) -> None:
    """The culture kit: the booklet and the posters in one PDF, re-merged only when a part (or the
    bundle's own information) changed."""
    data, lang = edition.data, edition.lang
    info = {"title": data["title"], "author": data.get("author") or data["organisation"],
            "subject": data.get("subject") or "", "keywords": ", ".join(data.get("keywords") or []),
            "lang": lang, "date": edition.created.strftime("D:%Y%m%d%H%M%SZ")}
    titles = [data["title"]] + [title for title, _ in posters]
    jobs = [booklet] + [job for _, job in posters]

    def bundle():
        from culturebook.pdf.bundle import BundleInfo, Part, merge_parts

        merged = merge_parts([Part(t, j.result.data) for t, j in zip(titles, jobs, strict=True)],
                             BundleInfo(**info))
        return Rendered(merged, sum(j.result.pages for j in jobs))

    keys = [j.inputs for j in jobs]
    plan.job("bundle", lang, path, repr((sorted(info.items()), list(zip(titles, keys, strict=True)))),
             bundle)


def _print_settings(renderer, edition: Edition) -> dict:
    """What the print editions of an edition share: refused when a colour has no CMYK equivalent."""
    brand = renderer.brand
    missing = brand.missing_cmyk()
    if missing:
        raise ProjectError([Problem(
            Location(brand.files[0]), f"colour '{missing[0]}' has no CMYK equivalent in print.colours",
            "print editions use CMYK only: add it under print: colours: in theme.yaml")])
    return {"marks": repr((print_marks(brand), image_inks(brand))),
            "sheet": str(brand.print.get("sheet") or "A4"),
            "creep": brand.print_mm("creep"), "tiles": tile_plan(brand, edition.poster_size),
            "intent": print_intent(brand)}


def plan_print(renderer, edition: Edition, document, printed: dict, settings: dict,
               plan: Plan) -> None:
    """A print edition (CMYK, bleed, every page on a slug with crop marks) for a print shop, or for
    office printers the print booklet imposed two-up or a print poster tiled (trimmed, in the
    same CMYK). Each is PDF/X-4 when the theme names an output profile (`printed` gathers the
    print booklet's and posters' jobs for the imposed booklet and the tiles)."""
    lang, root, strict = edition.lang, str(renderer.root), renderer.strict
    path, kind, marks = plan.out / document.path, document.kind, settings["marks"]
    intent = settings["intent"]
    if kind == "print-booklet":
        printed["booklet"] = plan.job(
            kind, lang, path, renderer.booklet_html(edition, print_edition=True) + marks,
            Leaf(root, strict, "print-booklet", lang))
    elif kind == "print-poster":
        html = renderer.poster_inputs(edition, settings["subjects"][document.slug],
                                      edition.poster_size, print_edition=True)
        printed["posters"][document.slug] = plan.job(
            kind, lang, path, html + marks, Leaf(root, strict, "print-poster", lang, document.slug))
    elif kind == "imposed":
        sheet, creep, booklet = settings["sheet"], settings["creep"], printed["booklet"]

        def imposed():
            from culturebook.pdf.impose import impose_booklet

            return Rendered(impose_booklet(booklet.result.data, sheet=sheet, creep_mm=creep,
                                           intent=intent), booklet.result.pages // 2)

        plan.job(kind, lang, path, repr((booklet.inputs, sheet, creep)), imposed)
    else:  # tiles
        grid, title = settings["tiles"], document.title
        poster = printed["posters"][document.slug]

        def tiles():
            labels = renderer.labels_overlay(sheet_labels(grid, title), grid.sheet_w, grid.sheet_h,
                                             edition)
            return Rendered(tile_poster(poster.result.data, grid, title, labels, intent),
                            1 + len(grid.tiles))

        plan.job(kind, lang, path, repr((poster.inputs, grid, title)), tiles)


def plan_personalised(renderer, edition: Edition, people: list, plan: Plan,
                      print_file: bool = True) -> None:
    """One booklet per recipient (build/<lang>/personalised/<slug>.pdf), recipients.csv for a mail
    merge and, with `print_file`, every recipient's booklet in one print file
    (build/<lang>/print/personalised.pdf).

    The shared pages are rendered once (before the workers start: run.render_in_pool). The
    personal pages (cover and letter) are laid out BATCH recipients to a document, in the order of
    the CSV, so that they share their fonts; a booklet is therefore made from its batch's rows,
    and made again (with its batch) when one of them or the shared booklet changed. The same CSV
    always gives the same bytes."""

    lang, root, strict = edition.lang, str(renderer.root), renderer.strict
    mine = [p for p in people if p.language in ("", lang)]
    if not mine:
        return
    folder = plan.out / lang / "personalised"
    shared_html = renderer.booklet_html(edition, personalised=True)
    size = personal_letters.BATCH
    batches = [mine[i:i + size] for i in range(0, len(mine), size)]
    inputs = {p.slug: shared_html + repr([_row(q) for q in batch]) + p.slug
              for batch in batches for p in batch}
    booklets: dict[str, Job] = {}
    first = [True]  # the first booklet made from a batch stands for all in preflight
    for number, batch in enumerate(batches, 1):
        if all(plan.current("personalised", folder / f"{p.slug}.pdf", inputs[p.slug]) for p in batch):
            for person in batch:
                booklets[person.slug] = plan.job("personalised", lang, folder / f"{person.slug}.pdf",
                                                 inputs[person.slug], None)
            continue
        made = plan.job("personal-booklets", lang, folder / f"batch-{number}",
                        repr([_row(p) for p in batch]),
                        Leaf(root, strict, "personal-booklets", lang, recipients=tuple(batch)),
                        emit=False)
        for index, person in enumerate(batch):
            booklets[person.slug] = job = plan.job(
                "personalised", lang, folder / f"{person.slug}.pdf", inputs[person.slug],
                lambda made=made, index=index: Rendered(made.result.file(index), made.result.pages),
                count=1)
            job.keep = _spliced(made, index, job, first)
    if print_file:
        plan_personalised_print(renderer, edition, batches, inputs, plan)
    plan.stale += [p for p in folder.glob("*.pdf") if p.stem not in inputs]

    def table() -> str:
        rows = [["recipient", "email", "file", "pages", "bytes", "sha256"]]
        for person in mine:
            made = booklets[person.slug].result
            if made is not None:
                rows.append([person.name, person.email, f"{person.slug}.pdf", str(made.pages),
                             str(len(made.data)), hashlib.sha256(made.data).hexdigest()])
        return csv_text(rows)

    # Its inputs are the booklets' bytes, so whether it is up to date is known only once they are
    # made; it counts as one document made either way.
    listing = plan.job("recipients", lang, folder / "recipients.csv", "",
                       lambda: Rendered(table().encode(), 0), preflight=False, count=1)
    listing.later = table


def _spliced(batch: Job, index: int, job: Job, first: list) -> Callable[[], bool]:
    """Whether a batch's booklet number `index` was made (a recipient whose pages fail a check has
    none); the first one made is preflighted."""

    def keep() -> bool:
        if batch.result.tails[index] is None:
            return False
        job.preflight, first[0] = first[0], False
        return True

    return keep


def plan_personalised_print(renderer, edition: Edition, batches: list[list], inputs: dict,
                            plan: Plan) -> None:
    """Every recipient's booklet, print edition (CMYK, bleed, marks), in one PDF for the print
    shop: the shared pages are stored once, and each batch's personal pages share their fonts."""

    lang, root, strict = edition.lang, str(renderer.root), renderer.strict
    path = plan.out / lang / "print" / "personalised.pdf"
    key = renderer.booklet_html(edition, print_edition=True, personalised=True) + repr(
        [inputs[p.slug] for batch in batches for p in batch]) + repr(
        (print_marks(renderer.brand), image_inks(renderer.brand)))
    if plan.current("print-personalised", path, key):
        plan.job("print-personalised", lang, path, key, None)
        return
    folder = plan.out / lang / "personalised"
    shared = plan.job("print-personal-shared", lang, folder / "print-shared.pdf", key,
                      Leaf(root, strict, "print-personal-shared", lang), emit=False)
    pages = [plan.job("print-personal-pages", lang, folder / f"print-personal-pages-{number}",
                      repr([_row(p) for p in batch]),
                      Leaf(root, strict, "print-personal-pages", lang, recipients=tuple(batch)),
                      emit=False)
             for number, batch in enumerate(batches, 1)]

    def combined():
        parts, findings = [], list(shared.result.findings)
        for batch, job in zip(batches, pages, strict=True):
            # a recipient whose pages do not fit is left out (and reported at their row)
            chosen = [(job.result, i) for i, _ in enumerate(batch) if job.result.ranges[i]]
            parts += chosen
            if chosen:
                findings += job.result.findings
        whole.findings = findings
        return Rendered(combine(shared.result.data, parts, print_intent(renderer.brand)),
                        shared.result.pages * len(parts))

    whole = plan.job("print-personalised", lang, path, key, combined)


def _row(person) -> tuple:
    """What a recipient's pages are made from."""
    return (person.name, person.email, person.slug, sorted(person.values.items(), key=str))
