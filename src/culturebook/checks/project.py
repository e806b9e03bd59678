"""The checks of a whole project before anything is rendered: content, theme, layouts."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from culturebook.checks import inks, kept
from culturebook.checks.contrast import check_contrast
from culturebook.checks.headings import check_heading_levels
from culturebook.checks.inks import check_print_colours
from culturebook.checks.kept import kept_problems
from culturebook.checks.stylesheets import check_stylesheets
from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.project.brand import check_labels, length_mm, load_brand
from culturebook.project.content import load_content
from culturebook.project.glyphs import check_glyphs
from culturebook.project.imagefile import check_theme_images
from culturebook.project.recipients import Recipient
from culturebook.project.themes import check_missing_fonts
from culturebook.render import colours
from culturebook.render.colours import ColourUse
from culturebook.render.engine import Renderer
from culturebook.render.letters import letter_for
from culturebook.render.templates import template_environment

if TYPE_CHECKING:
    from culturebook.project.brand import Brand
    from culturebook.project.content import Content, Edition
from culturebook.files import cache_dir, usable_cache
from culturebook.pdf import icc
from culturebook.pdf.tile import tile_plan


@dataclass(frozen=True)
class Checked:
    """A project that passed every check: its content, its brand, and the warnings found."""

    root: Path
    content: Content
    brand: Brand
    warnings: list[Problem]


def check_project(root: Path, strict: bool = False) -> Checked:
    """Validate content, theme, templates, stylesheets and glyph coverage; render nothing."""

    cache = usable_cache()
    problems = Problems()
    content = load_content(root, problems)
    brand = load_brand(root, content.editions[0].theme, problems)
    check_missing_fonts(brand.missing, {e.lang: brand.families_for(e.lang) for e in content.editions},
                        problems)
    for edition in content.editions:
        check_labels(brand, edition, problems)
        check_glyphs(edition, brand, problems, cache / "cmaps")
    check_templates(brand, problems)
    check_stylesheets(brand, problems, strict, cache)
    check_theme_images(brand.dirs, problems)
    check_print_settings(brand, content.editions[0].poster_size, problems)
    kept_problems(cache, "print-colours", _print_colour_reads(brand),
                  lambda found: check_print_colours(brand, found), problems)
    uses: list = []
    if not problems.errors:  # the layouts compile: fill them to see their headings and colours
        uses = check_layout_headings(root, content, brand, problems)
    check_contrast(brand, problems, uses, lambda where: _layout_file(brand, where))
    problems.raise_if_errors(strict)
    return Checked(root, content, brand, problems.warnings)


def _print_colour_reads(brand: Brand) -> list[str | bytes]:
    """Everything check_print_colours reads: the theme's colours and print settings, its
    theme.yaml files (where problems are placed: their paths too), the output profile, the code
    and LittleCMS's Pillow."""
    profile = brand.output_profile()
    return [repr(sorted(brand.colours.items())), repr(sorted(brand.print.items(), key=str)),
            *(f"{f}\0".encode() + Path(f).read_bytes() for f in brand.files), str(profile),
            profile.read_bytes() if profile is not None else b"", version("pillow"),
            *(Path(str(m.__file__)).read_bytes() for m in (inks, icc, kept))]


def check_layout_headings(root: Path, content: Content, brand: Brand, problems: Problems) -> list:
    """Fill the booklet and poster layouts for each edition (Jinja only, no layout) and check
    that their headings never skip a level: a screen reader's outline of the PDF is the
    headings' outline. Where the content has a welcome letter, fill the personalised cover and
    letter too, for their colours. Return the text colours those documents draw on their
    backgrounds (render.colours.ColourUse), from WeasyPrint's cascade of the same documents, for
    check_contrast."""

    renderer = Renderer(root, brand, cache_dir())
    layouts = [d / name for d in brand.dirs for name in ("_pages.html", "_booklet_head.html")]
    uses = []
    for edition in content.editions:
        found = Problems()
        template = next(d / "booklet.html" for d in brand.dirs if (d / "booklet.html").is_file())
        check_heading_levels(renderer.booklet_html(edition), template, layouts, found)
        uses += layout_colour_uses(renderer, renderer.booklet_html(edition, every_frontispiece=True),
                                   "booklet.html", f"{edition.lang} booklet")
        for n, (_, _, subject) in enumerate(renderer.poster_subjects(edition)[:2]):
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

    renderer = Renderer(checked.root, checked.brand, cache_dir())
    folder = cache_dir() / "laid-out"
    problems: list[Problem] = []
    for edition in checked.content.editions:
        size = edition.poster_size
        documents: list[tuple[str, Callable[[], object]]] = [
            (renderer.booklet_html(edition), partial(renderer.booklet_document, edition))]
        for _, _, subject in renderer.poster_subjects(edition):
            documents.append((renderer.poster_inputs(edition, subject, size),
                              partial(renderer.poster_document, edition, subject, size)))
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


    sheets = [p.read_text(encoding="utf-8") for d in renderer.brand.dirs
              for p in sorted(d.rglob("*.css"))]
    reader = Path(colours.__file__).read_text(encoding="utf-8")  # how the uses are read
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

    env = template_environment(brand, cache_dir())
    loader = env.loader
    assert loader is not None  # template_environment loads from the theme's folders
    for directory in brand.dirs:
        for template in sorted(directory.glob("*.html")):
            try:
                if loader.get_source(env, template.name)[1] == str(template):
                    env.get_template(template.name)
                else:  # a parent theme's template that the theme replaces: parse it only
                    env.parse(template.read_text(encoding="utf-8"), template.name, str(template))
            except jinja2.TemplateSyntaxError as exc:
                problems.error(Location(template, exc.lineno or 0, 1),
                               f"template error: {exc.message}")


def check_print_settings(brand: Brand, poster_size: str, problems: Problems) -> None:
    """Bleed, creep, overlap and sheet against the page and poster sizes: one line each, at check
    time, rather than a failure halfway through a print build."""

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
