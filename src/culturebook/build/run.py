"""Rendering documents that need no other document, in worker processes."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from culturebook.errors import ProjectError
from culturebook.pdf.images import ImageInks, convert_images, tagged_images
from culturebook.pdf.pdfx import OutputIntent
from culturebook.pdf.splice import PersonalBooklets, PersonalPages, Splicer
from culturebook.preflight.checks import preflight_pdf
from culturebook.preflight.expect import Finding, expect_for, settings_from
from culturebook.project.content import IMAGE_SUFFIXES
from culturebook.render.engine import Renderer
from culturebook.render.letters import letter_for
from culturebook.render.templates import format_date

if TYPE_CHECKING:
    from culturebook.project.brand import Brand
    from culturebook.project.content import Edition
from culturebook.checks.project import Checked, check_project
from culturebook.files import cache_dir
from culturebook.publish import lock_fd


@dataclass(frozen=True)
class Leaf:
    """A document that needs no other document, as plain data: what the build asks a worker (a
    forked process, or a node of a cluster) to make. The worker finds the project at `root`."""

    root: str
    strict: bool
    kind: str  # [print-]booklet, [print-]poster, archive-booklet, personal-booklets (a batch's
    #            booklets, spliced), print-personal-shared and print-personal-pages (the parts of
    #            the print file)
    lang: str
    subject: str = ""  # a poster's slug
    recipients: tuple = ()  # personal pages: the recipients (recipients.Recipient) of one batch


RASTER_SUFFIXES = IMAGE_SUFFIXES - {".svg"}

_PROJECTS: dict[tuple[str, bool], tuple] = {}  # (root, strict) -> (Checked, Renderer), per process


def project_for(root: str, strict: bool):
    """This process's checked project and renderer for `root`, loaded on first use (a cluster
    worker loads it once and keeps it, with its FontConfiguration, for every later document)."""
    key = (root, strict)
    if key not in _PROJECTS:
        checked = check_project(Path(root), strict)
        _PROJECTS[key] = (checked, Renderer(Path(root), checked.brand, cache_dir(), strict))
    return _PROJECTS[key]


def make_leaf(leaf: Leaf):
    """Render the document `leaf` describes."""
    checked, renderer = project_for(leaf.root, leaf.strict)
    edition = next(e for e in checked.content.editions if e.lang == leaf.lang)
    print_edition = leaf.kind.startswith("print-")
    kind = leaf.kind.removeprefix("print-")
    if kind == "booklet":
        rendered = renderer.booklet(edition, print_edition=print_edition)
    elif kind == "archive-booklet":
        rendered = renderer.booklet(edition, archive=source_files(edition))
    elif kind == "personal-shared":
        rendered = renderer.booklet(edition, print_edition=print_edition, personalised=True)
    elif kind == "personal-pages":
        rendered = renderer.personal_pages(
            edition, letters(renderer, edition, leaf.recipients),
            [person.cells["name"] for person in leaf.recipients], print_edition=print_edition)
    elif kind == "personal-booklets":  # the pages of a batch, spliced into the shared booklet
        return personal_booklets(renderer, checked, edition, leaf.recipients)
    else:
        subject = next(s for slug, _, s in renderer.poster_subjects(edition) if slug == leaf.subject)
        rendered = renderer.poster(edition, subject, edition.poster_size, print_edition=print_edition)
    if print_edition and rendered.data:
        finish = _marks_for(checked.brand, leaf.root)
        rendered = dataclasses.replace(rendered, data=finish(rendered.data))
    if kind.startswith("personal-") and print_edition and rendered.data:
        rendered = dataclasses.replace(rendered, findings=_preflight_part(checked, leaf, rendered))
    return rendered


def _preflight_part(checked: Checked, leaf: Leaf, rendered) -> tuple:
    """Preflight a part of the print file of personalised booklets where it was rendered, in a
    worker: the file repeats the shared pages for every recipient, so checking its parts checks
    every page it draws, once, and in parallel."""

    settings = settings_from(checked.brand, checked.content.editions[0].poster_size,
                             [e.lang for e in checked.content.editions], Path(leaf.root) / "fonts")
    expect = expect_for(f"{leaf.lang}/print/personalised.pdf", settings, "booklet", leaf.lang)
    if leaf.recipients:  # a batch's covers and letters: two pages each, not a booklet of 4n
        expect = dataclasses.replace(expect, page_multiple=1)
        rows = [p.cells["name"].line for p in leaf.recipients]
        part = f"the personal pages of CSV lines {rows[0]}-{rows[-1]}"
    else:
        part = "the shared pages"
    return tuple(Finding(f.check, f.error, None, f"{part}: {f.message}", f.pixels)
                 for f in preflight_pdf(rendered.data, expect))


def personal_booklets(renderer, checked: Checked, edition: Edition, recipients):
    """The booklets of a batch of recipients: their personal pages laid out in one document, each
    spliced into the shared booklet, so that splicing happens beside the rendering rather than
    after it, in the build."""

    splicer = shared_booklet(renderer, edition)
    pages = renderer.personal_pages(edition, letters(renderer, edition, recipients),
                                    [person.cells["name"] for person in recipients])
    head, tails = splicer.booklets(pages)
    return PersonalBooklets(head, tuple(tails), len(splicer.base.pages), pages.problems)


def shared_booklet(renderer, edition: Edition) -> Splicer:
    """The shared booklet of an edition's personalised booklets, ready to splice: rendered on first
    use and kept by the renderer (render_in_pool renders it before the workers start, so that they
    all inherit the one copy)."""
    key = ("shared booklet", edition.lang)
    if key not in renderer.kept:
        splicer = Splicer(renderer.booklet(edition, personalised=True).data)
        splicer.booklets(PersonalPages(b"", (), ()))  # what every batch shares, worked out now
        renderer.kept[key] = splicer
    return renderer.kept[key]


def _render_shared(leaves: list[Leaf]) -> None:
    """Before workers are forked: render here what every worker would otherwise render for itself,
    the shared booklet of each edition with personalised booklets to make. It costs one worker's
    time rather than each worker's, and WeasyPrint, the fonts and the booklet are then in memory
    the workers share with the build rather than in a copy of their own."""
    for root, strict, lang in sorted({(leaf.root, leaf.strict, leaf.lang) for leaf in leaves
                                      if leaf.kind == "personal-booklets"}):
        checked, renderer = project_for(root, strict)
        shared_booklet(renderer, next(e for e in checked.content.editions if e.lang == lang))


def _marks_for(brand: Brand, root: str) -> Callable[[bytes], bytes]:
    """What converts a print edition's images to the output profile's CMYK and puts its pages on
    a slug with crop and registration marks (PDF/X-4 with the theme's output profile)."""
    from culturebook.pdf.prepress import Marks, add_slug_and_marks

    bleed, slug, _ = print_marks(brand)
    inks = image_inks(brand, root)
    intent = print_intent(brand)

    def finish(data: bytes) -> bytes:
        if inks is not None:
            data = convert_images(data, inks)
        return add_slug_and_marks(data, Marks(bleed=bleed, slug=slug), intent)

    return finish


def print_intent(brand: Brand) -> OutputIntent | None:
    """The output intent of every print file: the theme's CMYK profile (its own bytes) and the
    output condition; None when the theme names no profile (the print files are then not PDF/X)."""
    profile = brand.output_profile()
    if profile is None:
        return None
    return OutputIntent(profile.read_bytes(), print_marks(brand)[2])


def image_inks(brand: Brand, root: str | None = None) -> ImageInks | None:
    """Where a print edition's images are converted to: the output profile, with the theme's
    rendering intent, and (given the project's `root`) the profiles its image files embed; None
    without a profile (the print edition is then not PDF/X)."""
    profile = brand.output_profile()
    if profile is None:
        return None
    intent = str(brand.print.get("image-intent") or "relative")
    if root is None:
        return ImageInks(profile, intent)
    folders = [Path(root) / "content", *brand.dirs]
    files = sorted(p for folder in folders for p in folder.rglob("*")
                   if p.suffix.lower() in RASTER_SUFFIXES and p.is_file())
    return ImageInks(profile, intent, tagged_images(files))


def letters(renderer, edition: Edition, recipients) -> list[dict]:
    """What the layouts' cover and letter show for each recipient, in this edition."""

    labels = renderer.context(edition)["labels"]
    return [letter_for(r, edition.data["welcome"], lambda d: format_date(d, labels))
            for r in recipients]


def print_marks(brand: Brand) -> tuple[float, float, str]:
    """The bleed and the slug around it (mm), and the output condition, of the print settings."""
    bleed = brand.print_mm("bleed")
    return bleed, max(13.0, bleed + 10), str(brand.print.get("output-condition") or "Custom")


def render_in_pool(leaves: dict[str, Leaf], jobs: int, progress: Callable[..., None],
                   total: int) -> dict[str, object]:
    """Make the documents that need no other document in `jobs` worker processes. Workers are
    forked after planning, so each inherits the checked project and keeps its own
    FontConfiguration for its lifetime; results come back as bytes. Problems from every worker are
    raised together."""

    context = multiprocessing.get_context("fork")
    _render_shared(list(leaves.values()))
    # What the build holds so far is shared with the workers until written to: a collection in a
    # worker writes to every object it visits, copying its page. Frozen, the collector leaves them.
    gc.freeze()
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(leaves)), mp_context=context,
                               initializer=_worker_start)
    try:
        futures = {pool.submit(_make_in_worker, leaf): rel for rel, leaf in leaves.items()}
        ready = collect(futures, as_completed(futures), progress, total)
    except BaseException:
        # Interrupted (Ctrl-C) or failed: stop the workers now rather than finish the queue.
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            process.kill()
        for process in processes:
            process.join(5)
        # A worker killed while sending its result leaves half a message in the result pipe, and
        # the pool's manager thread waiting for the rest: interpreter exit would wait on it for
        # ever. With this end (the workers' ends died with them) closed, it reads end-of-file,
        # finds the pool broken and stops.
        with contextlib.suppress(AttributeError, OSError):
            pool._result_queue._writer.close()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        gc.unfreeze()
    pool.shutdown()
    return ready


PAUSED = ("personal-booklets", "personal-pages")  # laid out with the collector off


def _make_in_worker(leaf: Leaf):
    """make_leaf in a worker, which then hands the memory of the document's layout back to the
    system: the next document may be laid out in another worker, and the memory of all workers
    together is the build's; but not after a batch of booklets, whose worker's next document is
    another batch of the same size: it would fault the same pages in again (about 8,000 pages, 35
    to 50 ms of system time a batch of 20). A batch of personal pages is laid out with the
    collector off: it would visit the growing layout again and again (a tenth of the batch's time)
    and find little to free before the one collection after it."""
    paused = leaf.kind.removeprefix("print-") in PAUSED and gc.isenabled()
    if paused:
        gc.disable()
    try:
        made = make_leaf(leaf)
    finally:
        if paused:
            gc.enable()
    gc.collect()
    if leaf.kind != "personal-booklets":  # the next batch would take the same memory back
        with contextlib.suppress(OSError, AttributeError):  # glibc only
            ctypes.CDLL(None).malloc_trim(0)
    return made


def collect(futures: dict, completed, progress: Callable[..., None], total: int) -> dict:
    """The results of `futures` ({future: path under build/}) as `completed` yields them, each
    reported to `progress`; the problems of every failed one raised together, each once (every
    worker of a cluster may report the same one)."""
    ready, problems = {}, []
    for future in completed:
        rel = futures[future]
        try:
            ready[rel] = future.result()
        except ProjectError as exc:
            problems += exc.problems
            continue
        progress(f"rendering {rel}", len(ready), total)
    if problems:
        raise ProjectError(list(dict.fromkeys(problems)))
    return ready


def _worker_start() -> None:
    """In each worker: die with the build (even a SIGKILLed one), leave Ctrl-C to the build, and do
    not keep the build's lock alive."""

    try:  # Linux: PR_SET_PDEATHSIG, so no worker outlives a killed build
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    held = lock_fd()
    if held is not None:
        os.close(held)


def source_files(edition: Edition) -> tuple[Path, ...]:
    """The content files an edition is made from (settings, source language, its language),
    each once: what the archival edition carries inside it."""
    return tuple(dict.fromkeys(edition.files))
