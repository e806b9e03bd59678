"""The pipeline, in order: load and check everything, render in memory, then write atomically.

This is the only module that calls every stage. Nothing is written until every document of the
requested build has rendered without a problem, so a bad input never leaves a half-built `build/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2

from .brand import Brand, load_brand
from .content import Content, Edition, load_content
from .errors import Location, Problem, Problems, ProjectError
from .glyphs import check_glyphs

TARGETS = ("booklet", "posters", "bundle", "print", "all")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    """One written file, as listed in build/manifest.json."""

    kind: str
    edition: str
    path: str
    pages: int
    bytes: int
    sha256: str


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


def check_project(root: Path, strict: bool = False) -> Checked:
    """Validate content, theme, templates, stylesheets and glyph coverage; render nothing."""
    from .render import check_stylesheets  # imports WeasyPrint's CSS parser

    problems = Problems()
    content = load_content(root, problems)
    brand = load_brand(root, content.editions[0].theme, problems)
    for edition in content.editions:
        check_glyphs(edition, brand, problems, cache_dir() / "cmaps")
    check_templates(brand, problems)
    check_stylesheets(brand, problems, strict)
    check_print_settings(brand, content.editions[0].poster_size, problems)
    problems.raise_if_errors(strict)
    return Checked(root, content, brand, problems.warnings)


def check_templates(brand: Brand, problems: Problems) -> None:
    """Compile every layout template so a syntax error is reported with its file and line."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(d) for d in brand.dirs]))
    for directory in brand.dirs:
        for template in sorted(directory.glob("*.html")):
            try:
                env.parse(template.read_text(encoding="utf-8"), template.name, str(template))
            except jinja2.TemplateSyntaxError as exc:
                problems.error(Location(template, exc.lineno or 0, 1),
                               f"template error: {exc.message}")


def build(root: Path, target: str = "all", editions: list[str] | None = None,
          strict: bool = False, progress: Callable[[str], None] = lambda _: None,
          ) -> tuple[list[Artifact], list[Problem]]:
    """Build `target` for the chosen editions; return what was written and the warnings."""
    checked = check_project(root, strict)
    from .render import Renderer

    renderer = Renderer(root, checked.brand, cache_dir(), strict)
    outputs: list[tuple[str, str, Path, bytes, int]] = []  # kind, edition, path, data, pages
    chosen = [e for e in checked.content.editions if editions is None or e.lang in editions]
    for edition in chosen:
        outputs += render_edition(renderer, edition, target, root / "build", progress)
    progress(f"preflight of {len(outputs)} files")
    notes = Problems()
    if PARTS[target] & {"print"} and checked.brand.output_profile() is None:
        notes.warn(checked.brand.setting_location("print"),
                   "the print editions are CMYK but not PDF/X-4: no output profile is named",
                   "add the print shop's CMYK profile as print.output-profile in theme.yaml")
        notes.raise_if_errors(strict)
    findings, warnings = preflight_outputs(root, checked, outputs, strict)
    artifacts = write_outputs(root / "build", outputs)
    from .preflight import write_reports

    write_reports(root / "build", findings)
    return artifacts, checked.warnings + notes.warnings + warnings


def preflight_outputs(root: Path, checked: Checked, outputs, strict: bool):
    """Preflight every rendered PDF before anything is written: an error stops the build (nothing
    is written), a warning is reported (and stops it under --strict)."""
    from .preflight import expect_for, preflight_pdf, settings_from

    out = root / "build"
    languages = [e.lang for e in checked.content.editions]
    settings = settings_from(checked.brand, checked.content.editions[0].poster_size, languages,
                             root / "fonts")
    findings, problems = {}, Problems()
    for kind, lang, path, data, _ in outputs:
        key = path.relative_to(out).as_posix()
        findings[key] = preflight_pdf(data, expect_for(key, settings, kind, lang))
        images = {_pixel_size(i.file): i for i in checked.content.edition(lang).images}
        for finding in findings[key]:
            report = problems.error if finding.error else problems.warn
            source = images.get(finding.pixels) if finding.pixels else None
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
    "all": {"booklet", "posters", "bundle", "print"},
}


def _pixel_size(file: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(file) as image:
            return image.size
    except OSError:
        return None


def render_edition(renderer, edition: Edition, target: str, out: Path,
                   progress: Callable[[str], None]) -> list[tuple[str, str, Path, bytes, int]]:
    """Render one edition's documents in memory."""
    from .bundle import BundleInfo, Part, merge_parts

    parts = PARTS[target]
    folder = out / edition.lang
    lang = edition.lang
    results = []
    booklet = None
    if parts & {"booklet", "bundle", "print"}:
        progress(f"rendering {lang}/booklet.pdf")
        booklet = renderer.booklet(edition)
    if "booklet" in parts:
        results.append(("booklet", lang, folder / "booklet.pdf", booklet.data, booklet.pages))
    posters = []
    if parts & {"posters", "bundle", "print"}:
        for slug, title, subject in poster_subjects(edition, renderer):
            progress(f"rendering {lang}/posters/{slug}.pdf")
            posters.append((slug, title, renderer.poster(edition, subject, edition.poster_size)))
    if "posters" in parts:
        results += [("poster", lang, folder / "posters" / f"{slug}.pdf", r.data, r.pages)
                    for slug, _, r in posters]
    if "bundle" in parts:
        progress(f"rendering {lang}/culture-kit.pdf")
        data = edition.data
        bundle_parts = [Part(data["title"], booklet.data)] + [Part(t, r.data) for _, t, r in posters]
        info = BundleInfo(
            title=data["title"], author=data.get("author") or data["organisation"],
            subject=data.get("subject") or "", keywords=", ".join(data.get("keywords") or []),
            lang=lang, date=edition.date.strftime("D:%Y%m%d000000Z"))
        merged = merge_parts(bundle_parts, info)
        pages = booklet.pages + sum(r.pages for _, _, r in posters)
        results.append(("bundle", lang, folder / "culture-kit.pdf", merged, pages))
    if "print" in parts:
        results += render_print(renderer, edition, booklet, posters, folder / "print", progress)
    return results


def render_print(renderer, edition: Edition, booklet, posters, folder: Path,
                 progress: Callable[[str], None]) -> list[tuple[str, str, Path, bytes, int]]:
    """The print editions (CMYK, bleed, every page on a slug with crop marks) for a print shop, and
    for office printers the screen booklet imposed two-up and the screen posters tiled."""
    from .impose import impose_booklet
    from .prepress import Marks, add_slug_and_marks
    from .tile import sheet_labels, tile_poster

    brand, lang = renderer.brand, edition.lang
    missing = brand.missing_cmyk()
    if missing:
        raise ProjectError([Problem(
            Location(brand.files[0]), f"colour '{missing[0]}' has no CMYK equivalent in print.colours",
            "print editions use CMYK only: add it under print: colours: in theme.yaml")])
    marks = Marks(bleed=brand.print_mm("bleed"), slug=max(13.0, brand.print_mm("bleed") + 10))
    results = []
    progress(f"rendering {lang}/print/booklet.pdf")
    booklet = renderer.booklet(edition, print_edition=True)
    condition = str(brand.print.get("output-condition") or "Custom")
    results.append(("print-booklet", lang, folder / "booklet.pdf",
                    add_slug_and_marks(booklet.data, marks, condition), booklet.pages))
    for slug, _, subject in poster_subjects(edition, renderer):
        progress(f"rendering {lang}/print/posters/{slug}.pdf")
        poster = renderer.poster(edition, subject, edition.poster_size, print_edition=True)
        results.append(("print-poster", lang, folder / "posters" / f"{slug}.pdf",
                        add_slug_and_marks(poster.data, marks, condition), poster.pages))
    progress(f"rendering {lang}/print/booklet-imposed.pdf")
    imposed = impose_booklet(booklet.data, sheet=str(brand.print.get("sheet") or "A4"),
                             creep_mm=brand.print_mm("creep"))
    results.append(("imposed", lang, folder / "booklet-imposed.pdf", imposed, booklet.pages // 2))
    plan = tile_plan(brand, edition.poster_size)
    for slug, title, poster in posters:
        progress(f"rendering {lang}/print/tiles/{slug}.pdf")
        labels = renderer.labels_overlay(sheet_labels(plan, title), plan.sheet_w, plan.sheet_h, edition)
        results.append(("tiles", lang, folder / "tiles" / f"{slug}.pdf",
                        tile_poster(poster.data, plan, title, labels), 1 + len(plan.tiles)))
    return results


def tile_plan(brand: Brand, poster_size: str):
    """How a poster of this size is split over the theme's office sheets."""
    from .impose import SHEETS
    from .render import POSTER_SIZES_MM
    from .tile import plan_tiles

    width, height = POSTER_SIZES_MM[poster_size]
    sheet_w, sheet_h = SHEETS[str(brand.print.get("sheet") or "A4")]
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
    data = edition.data
    labels = renderer.context(edition)["labels"]
    title = labels["mission"] + (f" · {labels['vision']}" if data.get("vision") else "")
    subjects = [("mission-vision", title, {"kind": "mission"})]
    for i, value in enumerate(data.get("values") or [], 1):
        subjects.append((value["id"], value["name"], {
            "kind": "value", "value": {**value, "number": f"{i:02d}"}, "field": f"values[{i}]"}))
    return subjects


def write_outputs(out: Path, outputs) -> list[Artifact]:
    """Write every output through a temporary file and a rename, then update the manifest."""
    artifacts = []
    for kind, lang, path, data, pages in outputs:
        write_atomic(path, data)
        artifacts.append(Artifact(kind, lang, path.relative_to(out).as_posix(), pages, len(data),
                                  hashlib.sha256(data).hexdigest()))
    manifest_path = out / MANIFEST
    entries = {}
    if manifest_path.is_file():
        try:
            entries = {a["path"]: a for a in json.loads(manifest_path.read_text())["artifacts"]}
        except (ValueError, KeyError, TypeError):
            entries = {}
    entries = {p: a for p, a in entries.items() if (out / p).is_file()}
    entries.update({a.path: asdict(a) for a in artifacts})
    manifest = {"artifacts": [entries[p] for p in sorted(entries)]}
    write_atomic(manifest_path, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
    return artifacts


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` so that `path` is either its old content or the whole new content."""
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
