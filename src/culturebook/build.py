"""The pipeline, in order: load and check everything, render in memory, then publish.

This is the only module that calls every stage. Nothing is written until every document of the
requested build has rendered without a problem, so a bad input never leaves a half-built `build/`;
the files are then published as one transaction (publish.py), so a crash or a full disk does not
either.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Location, Problem, Problems, ProjectError
from .publish import MANIFEST, publish, recover, settle

if TYPE_CHECKING:  # the build imports what it reads with only when it reads: see fingerprint.py
    from .brand import Brand
    from .content import Content, Edition, Image

TARGETS = ("booklet", "posters", "bundle", "print", "archive", "all", "personalised")


@dataclass(frozen=True)
class Artifact:
    """One written file, as listed in build/manifest.json."""

    kind: str
    edition: str
    path: str
    pages: int
    bytes: int
    sha256: str
    inputs: str = ""  # hash of everything the file was made from; unchanged inputs, no rebuild
    # A poster: the share of its frame its text takes; a booklet: [named page, fill] per page
    # (render.Rendered.fill). `check` shows them; preflight holds booklets to the fill rule.
    fill: float | list | None = None


@dataclass(frozen=True)
class Checked:
    """A project that passed every check: its content, its brand, and the warnings found."""

    root: Path
    content: Content
    brand: Brand
    warnings: list[Problem]


def cache_dir() -> Path:
    """Where culturebook keeps caches (font cmaps, fontconfig's cache): outside the project, so
    checking a project never writes into it and build/ holds only outputs."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "culturebook"


def find_project(start: Path) -> Path:
    """The folder holding content/publication.yaml: `start` or the nearest parent that has one."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "content" / "publication.yaml").is_file():
            return folder
    return start


def content_languages(root: Path) -> list[str]:
    """The languages named in content/publication.yaml, in order (best effort: [] when it cannot
    be read), for checking --edition before anything is loaded."""
    from .schema import SETTINGS
    from .yamlsource import load_yaml

    try:
        node = load_yaml(root / "content" / "publication.yaml")
        return SETTINGS.convert(node, "", Problems()).get("languages") or []
    except (ProjectError, AttributeError):
        return []


def check_project(root: Path, strict: bool = False) -> Checked:
    """Validate content, theme, templates, stylesheets and glyph coverage; render nothing."""
    from .accessibility import check_contrast
    from .brand import check_labels, load_brand
    from .content import load_content
    from .glyphs import check_glyphs
    from .imagefile import check_theme_images
    from .render import check_stylesheets  # imports WeasyPrint's CSS parser

    problems = Problems()
    content = load_content(root, problems)
    brand = load_brand(root, content.editions[0].theme, problems)
    for edition in content.editions:
        check_labels(brand, edition, problems)
        check_glyphs(edition, brand, problems, cache_dir() / "cmaps")
    check_templates(brand, problems)
    check_stylesheets(brand, problems, strict, cache_dir())
    check_theme_images(brand.dirs, problems)
    check_print_settings(brand, content.editions[0].poster_size, problems)
    uses: list = []
    if not problems.errors:  # the layouts compile: fill them to see their headings and colours
        uses = check_layout_headings(root, content, brand, problems)
    check_contrast(brand, problems, uses, lambda where: _layout_file(brand, where))
    problems.raise_if_errors(strict)
    return Checked(root, content, brand, problems.warnings)


def check_layout_headings(root: Path, content: Content, brand: Brand, problems: Problems) -> list:
    """Fill the booklet and poster layouts for each edition (Jinja only, no layout) and check
    that their headings never skip a level: a screen reader's outline of the PDF is the
    headings' outline. Where the content has a welcome letter, fill the personalised cover and
    letter too, for their colours. Return the text colours those documents draw on their
    backgrounds (accessibility.ColourUse), from WeasyPrint's cascade of the same documents, for
    check_contrast."""
    from .accessibility import check_heading_levels
    from .render import Renderer

    renderer = Renderer(root, brand, cache_dir())
    layouts = [d / name for d in brand.dirs for name in ("_pages.html", "_booklet_head.html")]
    uses = []
    for edition in content.editions:
        found = Problems()
        template = next(d / "booklet.html" for d in brand.dirs if (d / "booklet.html").is_file())
        check_heading_levels(renderer.booklet_html(edition), template, layouts, found)
        uses += layout_colour_uses(renderer, renderer.booklet_html(edition, every_frontispiece=True),
                                   "booklet.html", f"{edition.lang} booklet")
        for n, (_, _, subject) in enumerate(poster_subjects(edition, renderer)[:2]):
            template = next(d / "poster.html" for d in brand.dirs if (d / "poster.html").is_file())
            html = renderer.poster_html(edition, subject, edition.poster_size)
            check_heading_levels(html, template, layouts, found)
            uses += layout_colour_uses(renderer, html, "poster.html", f"{edition.lang} poster {n}")
        if edition.data.get("welcome") and any((d / "personal.html").is_file() for d in brand.dirs):
            # personalised booklets' cover and letter, filled in
            # (their headings are the booklet's macros, checked above in booklet.html; a
            # personal.html without them is the build's error, which says what is missing)
            html = renderer.personal_html(edition, [sample_letter(content, edition)])
            uses += layout_colour_uses(renderer, html, "personal.html", f"{edition.lang} letter")
        problems.items += [p for p in found.items if p not in problems.items]
    return uses


def check_layouts(checked: Checked) -> None:
    """Lay out each edition's booklet and posters as a build does, without writing a PDF: every
    poster text fits at a legible size, no text leaves its frame, and no word of the content is
    lost. A document that passed before with the same HTML, theme and fonts is not laid out
    again (a build's documents are checked as they are made)."""
    from .render import Renderer

    renderer = Renderer(checked.root, checked.brand, cache_dir())
    folder = cache_dir() / "laid-out"
    problems: list[Problem] = []
    for edition in checked.content.editions:
        size = edition.poster_size
        documents = [(renderer.booklet_html(edition), lambda e=edition: renderer.booklet_document(e))]
        for _, _, subject in poster_subjects(edition, renderer):
            documents.append((renderer.poster_inputs(edition, subject, size),
                              lambda e=edition, s=subject, z=size: renderer.poster_document(e, s, z)))
        for html, lay_out in documents:
            key = hashlib.sha256(f"{renderer.theme_stamp}\0{html}".encode()).hexdigest()
            if (folder / key).is_file():
                continue
            try:
                lay_out()
            except ProjectError as exc:
                problems += [p for p in exc.problems if p not in problems]
                continue
            try:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / key).touch()
            except OSError:
                pass  # a cache that cannot be written only costs time
    if problems:
        raise ProjectError(problems)


def sample_letter(content: Content, edition: Edition) -> dict:
    """A welcome letter with every line it can have: for a recipient with every column the
    publication declares filled in (for checking the layout, not for printing)."""
    import datetime

    from .personalise import letter_for
    from .recipients import Recipient

    columns = content.settings.get("recipients") or {}
    values = {column: datetime.date(2000, 1, 1) if kind == "date" else column
              for column, kind in columns.items()}
    person = Recipient(0, "Name", "name@example.com", "name", "", values, {})
    return letter_for(person, edition.data["welcome"], str)


def layout_colour_uses(renderer, html: str, template: str, document: str) -> list:
    """The text colours a filled layout draws (Renderer.colour_uses), remembered in the cache by
    the document's HTML without its words (_skeleton), the theme's stylesheets, WeasyPrint's
    version and the code that reads them: a check with nothing changed, or only words, need not
    run the cascade again. One cache file per document of the project, replaced when its inputs
    change."""
    from importlib.metadata import version

    from . import accessibility
    from .accessibility import ColourUse

    sheets = [p.read_text(encoding="utf-8") for d in renderer.brand.dirs
              for p in sorted(d.rglob("*.css"))]
    reader = Path(accessibility.__file__).read_text(encoding="utf-8")  # how the uses are read
    key = hashlib.sha256("\0".join([version("weasyprint"), reader, _skeleton(html), *sheets])
                         .encode()).hexdigest()
    name = hashlib.sha256(f"{renderer.root}\0{document}".encode()).hexdigest()[:32]
    stored = cache_dir() / "contrast" / f"{name}.json"
    try:
        data = json.loads(stored.read_text())
        if data["key"] == key:
            return [ColourUse(**use) for use in data["uses"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    uses = renderer.colour_uses(html, template)
    try:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(json.dumps({"key": key, "uses": [asdict(u) for u in uses]}))
    except OSError:
        pass  # a cache that cannot be written only costs time
    return uses


_WORDS = re.compile(r"(<style\b.*?</style>)|>([^<]*[^\s<][^<]*)<", re.DOTALL | re.IGNORECASE)


def _skeleton(html: str) -> str:
    """A filled layout with each run of text between tags written as one x: what the cascade
    depends on (elements, attributes, the theme's custom properties in <style>, which elements
    hold text at all) without the words, so editing a statement keeps its colours cached."""
    return _WORDS.sub(lambda m: m.group(1) or ">x<", html)


def _layout_file(brand: Brand, where: str) -> Path | None:
    """The layout file a colour use names ("... in booklet.html"), in the first theme that has it."""
    name = where.rsplit(" in ", 1)[-1] if " in " in where else ""
    return next((d / name for d in brand.dirs if name and (d / name).is_file()), None)


def check_templates(brand: Brand, problems: Problems) -> None:
    """Compile every layout template so a syntax error is reported with its file and line (a
    template compiled before, unchanged, comes from the cache)."""
    import jinja2

    from .render import template_environment

    env = template_environment(brand, cache_dir())
    for directory in brand.dirs:
        for template in sorted(directory.glob("*.html")):
            try:
                if env.loader.get_source(env, template.name)[1] == str(template):
                    env.get_template(template.name)
                else:  # a parent theme's template that the theme replaces: parse it only
                    env.parse(template.read_text(encoding="utf-8"), template.name, str(template))
            except jinja2.TemplateSyntaxError as exc:
                problems.error(Location(template, exc.lineno or 0, 1),
                               f"template error: {exc.message}")


def build(root: Path, target: str = "all", editions: list[str] | None = None,
          strict: bool = False, progress: Callable[..., None] = lambda *_: None,
          force: bool = False, jobs: int | None = None,
          recipients: Path | None = None,
          cluster: str | None = None,
          print_file: bool = True) -> tuple[list[Artifact], list[Problem]]:
    """Build `target` for the chosen editions; return what was written and the problems that did
    not stop it: warnings, and (personalised booklets) the recipients' rows that were left out.

    `progress(message, done=None, total=None)` hears what is happening: "rendering <path>" with
    the count of documents made so far and how many this build makes, then "preflight of N files".

    A document whose inputs are unchanged since the last build (build/manifest.json) is not made
    again: a build with nothing to do renders nothing and never imports WeasyPrint.

    With `cluster` (a Dask scheduler's address) the documents that need no other document are
    rendered on that cluster instead of in local worker processes; everything else stays here.
    Without `print_file`, personalised booklets are made without their print file."""
    from . import fingerprint

    parts = PARTS[target] - (set() if print_file else {"personalised-print"})
    out = root / "build"
    options = repr((sorted(parts), editions, strict))
    before = fingerprint.take(root, options, [recipients] if recipients else [])
    settle(out)  # a publish that a killed build left unfinished is completed before anything is read
    last = None if force else fingerprint.unchanged(out, before)
    if last is not None:  # nothing changed since the same build: nothing to read or make
        for rel in last.documents:
            progress(f"up to date {rel}")
        return [], last.problems
    checked = check_project(root, strict)
    rows = Problems()
    people = read_people(checked, recipients, editions, rows) if target == "personalised" else []
    from .render import Renderer

    renderer = Renderer(root, checked.brand, cache_dir(), strict)
    _PROJECTS[(str(renderer.root), strict)] = (checked, renderer)  # inherited by forked workers
    with build_lock(out):
        written, problems, documents = _build_locked(
            root, checked, renderer, out, parts, editions, strict, progress, force,
            jobs or os.cpu_count() or 1, people, cluster, prune=not rows.errors)
        found = rows.warnings + problems + rows.errors
        left_out = sorted((p for p in found if not p.warning),
                          key=lambda p: (str(p.location.path), p.location.line, p.location.col))
        reported = [p for p in found if p.warning] + left_out
        if not left_out:  # the manifest too: a build that finds it gone or changed reads it all
            listed = [out / MANIFEST] if (out / MANIFEST).is_file() else []
            with contextlib.suppress(OSError):  # a record that cannot be written only costs time
                fingerprint.record(out, before, documents + listed, reported)
    return written, reported


def read_people(checked: Checked, path: Path | None, editions: list[str] | None,
                problems: Problems) -> list:
    """The recipients of personalised booklets: the good rows of the CSV, each of whose texts the
    fonts can draw. A bad row is a problem at its line and column, and is left out."""
    from .glyphs import coverage, missing_scripts
    from .recipients import read_recipients

    settings = checked.content.settings
    first = checked.content.editions[0]
    if path is None:
        raise ProjectError([Problem(Location(first.files[0]), "personalised booklets need a list "
                                    "of recipients", "give it with --recipients people.csv "
                                    "(make personalised RECIPIENTS=people.csv)")])
    missing = [e for e in checked.content.editions if not e.data.get("welcome")]
    if missing:
        raise ProjectError([Problem(Location(missing[0].files[-1]), "personalised booklets need a "
                                    "welcome letter: the content has no welcome:",
                                    "add welcome: with cover, title and body, as in the "
                                    "README's Personalised booklets")])
    languages = [e.lang for e in checked.content.editions]
    people = read_recipients(path, settings.get("recipients") or {}, languages, problems)
    covered = frozenset().union(*(coverage(checked.brand, lang, cache_dir() / "cmaps")
                                  for lang in languages))
    good = []
    for person in people:
        texts = {"name": person.name, **{k: v for k, v in person.values.items() if isinstance(v, str)}}
        bad = [(column, gap) for column, text in texts.items()
               for gap in missing_scripts(text, covered)]
        if bad:  # one line for the row: the first script of its first cell that no font sets
            column, gap = bad[0]
            cell = person.cells[column]
            problems.error(Location(cell.path, cell.line, cell.col + gap.first),
                           gap.message(f"the {column}"))
        elif editions is None or person.language in ("", *editions):
            good.append(person)
    return good


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


_PROJECTS: dict[tuple[str, bool], tuple] = {}  # (root, strict) -> (Checked, Renderer), per process


def project_for(root: str, strict: bool):
    """This process's checked project and renderer for `root`, loaded on first use (a cluster
    worker loads it once and keeps it, with its FontConfiguration, for every later document)."""
    key = (root, strict)
    if key not in _PROJECTS:
        from .render import Renderer

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
            edition, letters(renderer, checked, edition, leaf.recipients),
            [person.cells["name"] for person in leaf.recipients], print_edition=print_edition)
    elif kind == "personal-booklets":  # the pages of a batch, spliced into the shared booklet
        return personal_booklets(renderer, checked, edition, leaf.recipients)
    else:
        subject = next(s for slug, _, s in poster_subjects(edition, renderer) if slug == leaf.subject)
        rendered = renderer.poster(edition, subject, edition.poster_size, print_edition=print_edition)
    if print_edition and rendered.data:
        rendered = dataclasses.replace(rendered, data=_marks_for(checked.brand)(rendered.data))
    if kind.startswith("personal-") and print_edition and rendered.data:
        rendered = dataclasses.replace(rendered, findings=_preflight_part(checked, leaf, rendered))
    return rendered


def _preflight_part(checked: Checked, leaf: Leaf, rendered) -> tuple:
    """Preflight a part of the print file of personalised booklets where it was rendered, in a
    worker: the file repeats the shared pages for every recipient, so checking its parts checks
    every page it draws, once, and in parallel."""
    from .expect import Finding, expect_for, settings_from
    from .preflight import preflight_pdf

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
    spliced into the shared booklet. The shared booklet is rendered once per worker process and
    kept, so that splicing happens beside the rendering rather than after it, in the build."""
    from .personalise import PersonalBooklets, Splicer

    key = ("shared booklet", edition.lang)
    if key not in renderer.kept:
        renderer.kept[key] = Splicer(renderer.booklet(edition, personalised=True).data)
    splicer = renderer.kept[key]
    pages = renderer.personal_pages(edition, letters(renderer, checked, edition, recipients),
                                    [person.cells["name"] for person in recipients])
    return PersonalBooklets(tuple(splicer.booklets(pages)), len(splicer.base.pages), pages.problems)


def _marks_for(brand: Brand) -> Callable[[bytes], bytes]:
    """What puts a print edition's pages on a slug with crop and registration marks."""
    from .prepress import Marks, add_slug_and_marks

    bleed, slug, condition = print_marks(brand)
    return lambda data: add_slug_and_marks(data, Marks(bleed=bleed, slug=slug), condition)


def letters(renderer, checked: Checked, edition: Edition, recipients) -> list[dict]:
    """What the layouts' cover and letter show for each recipient, in this edition."""
    from .personalise import letter_for
    from .render import format_date

    labels = renderer.context(edition)["labels"]
    return [letter_for(r, edition.data["welcome"], lambda d: format_date(d, labels))
            for r in recipients]


def print_marks(brand: Brand) -> tuple[float, float, str]:
    """The bleed and the slug around it (mm), and the output condition, of the print settings."""
    bleed = brand.print_mm("bleed")
    return bleed, max(13.0, bleed + 10), str(brand.print.get("output-condition") or "Custom")


@contextlib.contextmanager
def build_lock(out: Path, wait: bool = False):
    """One build of a project at a time: a second one stops with a clear line instead of
    interleaving its writes with the first's (with `wait`, it waits for the first to end). The
    lock goes with the process, however it ends. Under it, a publish that a killed process left
    unfinished is completed (publish.recover), then the temporary files of one killed before its
    commit are removed."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ProjectError([Problem(Location(out), f"another build of this project is running "
                                        f"({holder})",
                                        "wait for it to finish, then build again")]) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        global _LOCK_FD
        _LOCK_FD = handle.fileno()
        recover(out)  # first: the temporary files a journal names are the new build's
        # A build killed while writing (SIGKILL) can leave a temporary file; never a half PDF.
        for stale in out.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
        try:
            yield
        finally:
            _LOCK_FD = None
            handle.truncate(0)


_LOCK_FD: int | None = None


def render_in_pool(leaves: dict[str, Leaf], jobs: int, progress: Callable[..., None],
                   total: int) -> dict[str, object]:
    """Make the documents that need no other document in `jobs` worker processes. Workers are
    forked after planning, so each inherits the checked project and keeps its own
    FontConfiguration for its lifetime; results come back as bytes. Problems from every worker are
    raised together."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(leaves)), mp_context=context,
                               initializer=_worker_start)
    try:
        futures = {pool.submit(make_leaf, leaf): rel for rel, leaf in leaves.items()}
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
    pool.shutdown()
    return ready


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
    import ctypes
    import signal

    try:  # Linux: PR_SET_PDEATHSIG, so no worker outlives a killed build
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _LOCK_FD is not None:
        os.close(_LOCK_FD)


def _build_locked(root, checked, renderer, out, parts, editions, strict, progress, force, jobs,
                  people=(), cluster=None, prune=False):
    """The build, under its lock. With `prune`, personalised booklets of people no longer in the
    recipients CSV are removed (not when some rows had errors: theirs are kept as they were)."""
    chosen = [e for e in checked.content.editions if editions is None or e.lang in editions]
    previous = {} if force else load_manifest(out)
    # A first pass only plans (which documents must be made), so progress can count to a total.
    plan = Outputs(out, previous, stamp(checked), progress, dry=True)
    for edition in chosen:
        render_edition(renderer, edition, parts, plan, people)
    made = Outputs(out, previous, plan.stamp, progress, total=plan.to_make)
    if cluster and plan.leaves:  # even one: --cluster means the renders happen there
        from .cluster import render_on_cluster

        made.ready = render_on_cluster(cluster, plan.leaves, progress, plan.to_make)
    elif jobs > 1 and len(plan.leaves) > 1:
        made.ready = render_in_pool(plan.leaves, jobs, progress, plan.to_make)
    for edition in chosen:
        render_edition(renderer, edition, parts, made, people)
    notes = Problems()
    if parts & {"print", "personalised-print"} and checked.brand.output_profile() is None:
        notes.warn(checked.brand.setting_location("print"),
                   "the print editions are CMYK but not PDF/X-4: no output profile is named",
                   "add the print shop's CMYK profile as print.output-profile in theme.yaml")
        notes.raise_if_errors(strict)
    fresh = [o for o in made.items if o.fresh]
    if fresh:
        progress(f"preflight of {len(fresh)} files", made.total, made.total)
    # Documents made again are preflighted; unchanged ones keep (and report again) their findings.
    earlier = previous_findings(out, {o.edition for o in made.items})
    findings, warnings = preflight_outputs(root, checked, made.items, strict, earlier)
    stale = made.stale if prune and not made.rejected else []  # removed, and so out of the manifest
    reports = {}
    if fresh:
        from .preflight import report_files

        reports = report_files(out, {**earlier, **findings})
    artifacts = write_outputs(out, made.items, reports, stale)
    return (artifacts, checked.warnings + notes.warnings + warnings + made.rejected,
            [o.path for o in made.items])


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
        from .render import Rendered

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
    from importlib.metadata import version

    from . import ENGINES, __version__

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


def load_manifest(out: Path) -> dict[str, dict]:
    """The last build's artifacts by path (empty when there is none or it cannot be read)."""
    try:
        return {a["path"]: a for a in json.loads((out / MANIFEST).read_text())["artifacts"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def previous_findings(out: Path, editions) -> dict:
    """The preflight findings of the last build's reports, so a report still lists the files this
    build did not need to make again."""
    from .expect import REPORT, Finding

    found = {}
    for edition in editions:
        try:
            report = json.loads((out / edition / REPORT).read_text(encoding="utf-8"))
            for entry in report["files"]:
                found[entry["path"]] = [
                    Finding(f["check"], f["error"], f["page"], f["message"],
                            tuple(f["pixels"]) if f.get("pixels") else None)
                    for f in entry["findings"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def preflight_outputs(root: Path, checked: Checked, outputs, strict: bool, earlier: dict):
    """Preflight every rendered PDF before anything is written: an error stops the build (nothing
    is written), a warning is reported (and stops it under --strict). A document reused unchanged
    reports the findings it had (`earlier`, by path under build/)."""
    from .expect import expect_for, settings_from, with_fills

    out = root / "build"
    languages = [e.lang for e in checked.content.editions]
    settings = settings_from(checked.brand, checked.content.editions[0].poster_size, languages,
                             root / "fonts")
    findings, problems = {}, Problems()
    for output in outputs:
        if not output.preflight:
            continue
        kind, lang, path, data = output.kind, output.edition, output.path, output.data
        key = path.relative_to(out).as_posix()
        if output.fresh and output.findings is not None:
            findings[key] = list(output.findings)
        elif output.fresh or key not in earlier:
            from .preflight import preflight_pdf  # reads PDFs (pypdf): only for new documents

            expect = with_fills(expect_for(key, settings, kind, lang), output.fill)
            findings[key] = preflight_pdf(data, expect)
        else:
            findings[key] = earlier[key]
        images = checked.content.edition(lang).images
        for finding in findings[key]:
            report = problems.error if finding.error else problems.warn
            source = _source_image(finding, images) if finding.pixels else None
            if source is not None:  # name the content image, where the content refers to it
                what = re.sub(r"image \S+( \(object \d+\))?", "the image", finding.message, count=1)
                report(source.loc, f"image '{source.src}' in {key}: {what}",
                       "use a larger image, or place it smaller")
            else:
                report(Location(path), f"preflight {finding.check}: {finding.message}")
    problems.raise_if_errors(strict)
    return findings, problems.warnings


# What each target makes; print editions are built from their own renders plus the screen booklet
# (imposition) and posters (tiles) for office printers.
PARTS = {
    "booklet": {"booklet"},
    "posters": {"posters"},
    "bundle": {"booklet", "posters", "bundle"},
    "print": {"print"},
    "archive": {"archive"},
    "all": {"booklet", "posters", "bundle", "print", "archive"},
    "personalised": {"personalised", "personalised-print"},  # with --recipients; not in "all"
}


def _source_image(finding, images: tuple[Image, ...]) -> Image | None:
    """The content image a preflight finding is about. WeasyPrint names an image in the PDF
    i<MD5 of its URL><0|1>, so the name tells two images of one pixel size apart (three photos
    from one camera); where a name is lost (a page imposed or tiled), the pixel size decides,
    if only one image has it."""
    named = re.search(r"\bimage i([0-9a-f]{32})[01]\b", finding.message)
    if named:
        for image in images:
            if hashlib.md5(image.file.as_uri().encode(), usedforsecurity=False).hexdigest() == named[1]:
                return image
    sized = [i for i in images if _pixel_size(i.file) == finding.pixels]
    return sized[0] if len(sized) == 1 else None


def _pixel_size(file: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(file) as image:
            return image.size
    except OSError:
        return None


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
        for slug, title, subject in poster_subjects(edition, renderer):
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
            from .bundle import BundleInfo, Part, merge_parts

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


def source_files(edition: Edition) -> tuple[Path, ...]:
    """The content files an edition is made from (settings, source language, its language),
    each once: what the archival edition carries inside it."""
    return tuple(dict.fromkeys(edition.files))


def _rendered(data: bytes, pages: int):
    from .render import Rendered

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
    for slug, _, subject in poster_subjects(edition, renderer):
        html = renderer.poster_inputs(edition, subject, edition.poster_size, print_edition=True)
        made.make("print-poster", lang, folder / "posters" / f"{slug}.pdf", html + settings,
                  Leaf(root, strict, "print-poster", lang, slug))
    booklet, booklet_key = screen_booklet
    sheet, creep = str(brand.print.get("sheet") or "A4"), brand.print_mm("creep")

    def imposed():
        from .impose import impose_booklet

        return _rendered(impose_booklet(booklet.data, sheet=sheet, creep_mm=creep), booklet.pages // 2)

    made.make("imposed", lang, folder / "booklet-imposed.pdf", repr((booklet_key, sheet, creep)),
              imposed)
    plan = tile_plan(brand, edition.poster_size)
    for slug, title, poster, poster_key in posters:
        def tiles(poster=poster, title=title):
            from .tile import sheet_labels, tile_poster

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
    from .personalise import BATCH
    from .recipients import csv_text

    lang = edition.lang
    mine = [p for p in people if p.language in ("", lang)]
    if not mine:
        return
    folder = made.out / lang / "personalised"
    shared_html = renderer.booklet_html(edition, personalised=True)
    batches = [mine[i:i + BATCH] for i in range(0, len(mine), BATCH)]
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
    from .personalise import combine

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


def tile_plan(brand: Brand, poster_size: str):
    """How a poster of this size is split over the theme's office sheets."""
    from .brand import OFFICE_SHEETS_MM
    from .render import POSTER_SIZES_MM
    from .tile import plan_tiles

    width, height = POSTER_SIZES_MM[poster_size]
    sheet_w, sheet_h = OFFICE_SHEETS_MM[str(brand.print.get("sheet") or "A4")]
    return plan_tiles(width, height, sheet_w, sheet_h, margin=brand.print_mm("printer-margin"),
                      overlap=brand.print_mm("tile-overlap"))


def check_print_settings(brand: Brand, poster_size: str, problems: Problems) -> None:
    """Bleed, creep, overlap and sheet against the page and poster sizes: one line each, at check
    time, rather than a failure halfway through a print build."""
    from .brand import length_mm

    page_w = length_mm(brand.booklet.get("width", "148mm"))
    page_h = length_mm(brand.booklet.get("height", "210mm"))
    bleed = brand.print_mm("bleed")
    if bleed > min(page_w, page_h) / 4:
        problems.error(brand.setting_location("bleed"),
                       f"print.bleed of {bleed:g} mm is larger than the page can take",
                       "print shops ask for 3 mm (sometimes 5 mm)")
    if brand.print_mm("creep") * 20 > page_w / 2:
        problems.error(brand.setting_location("creep"),
                       f"print.creep of {brand.print_mm('creep'):g} mm per sheet is larger than the "
                       "page can take", "creep is about one paper thickness, e.g. 0.1mm")
    try:
        tile_plan(brand, poster_size)
    except ValueError as exc:
        key = "tile-overlap" if "overlap" in str(exc) else \
            "printer-margin" if "margin" in str(exc) else "sheet"
        problems.error(brand.setting_location(key), f"print.{key}: {exc}")


def poster_subjects(edition: Edition, renderer) -> list[tuple[str, str, dict]]:
    """(slug, outline title, template subject) for the mission/vision poster and each value."""
    from .render import poster_subjects as subjects

    return subjects(edition, renderer.context(edition)["labels"])


def write_outputs(out: Path, outputs: list[Output], extra: dict[Path, bytes] | None = None,
                  remove: list[Path] = ()) -> list[Artifact]:
    """Publish every fresh output, the `extra` files (the preflight reports) and the manifest
    (listing the outputs reused unchanged too, and no longer the files in `remove`, which go) as
    one transaction (publish.publish): build/ is the whole old build or the whole new one. Return
    what was written."""
    written, entries, writes = [], {}, {}
    for output in outputs:
        artifact = Artifact(output.kind, output.edition, output.path.relative_to(out).as_posix(),
                            output.pages, len(output.data), hashlib.sha256(output.data).hexdigest(),
                            output.inputs, output.fill)
        if output.fresh:
            writes[output.path] = output.data
            written.append(artifact)
        entries[artifact.path] = asdict(artifact)
    remove = [p for p in remove if p.is_file()]
    if not written and not remove:
        return written
    gone = {p.relative_to(out).as_posix() for p in remove}
    previous = {p: a for p, a in load_manifest(out).items()
                if p not in gone and (out / p).is_file()}
    previous.update(entries)
    manifest = {"artifacts": [previous[p] for p in sorted(previous)]}
    writes.update(extra or {})
    writes[out / MANIFEST] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    publish(out, writes, remove)
    return written


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` so that `path` is either its old content or the whole new content (one file
    alone: a build's files are published together, by publish.publish)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; outputs are to share
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["Artifact", "TARGETS", "build", "check_project", "find_project", "ProjectError"]
