"""layouts/<theme>/theme.yaml + fonts/ -> Brand: colours, sizes, fonts and labels as CSS-ready data."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from culturebook.errors import Location, Problem, Problems, ProjectError, bad_file_name
from culturebook.errors import shortened as _cut
from culturebook.project.fieldtypes import (
    SLUG,
    Choice,
    Field,
    ListOf,
    MapOf,
    Number,
    Pattern,
    Struct,
    Text,
)
from culturebook.project.schema import LABEL_KEYS, LABELS
from culturebook.project.yamlsource import Node, load_yaml

if TYPE_CHECKING:
    from culturebook.project.content import Edition

COLOUR = Pattern("colour", re.compile(r"^#[0-9A-Fa-f]{6}$"), "write colours as #RRGGBB")
LENGTH = Pattern("length", re.compile(r"^\d+(\.\d+)?(mm|pt|px|cm|in)$"),
                 "write lengths with a unit, e.g. 14mm or 9.5pt")
INTEGER = Pattern("number", re.compile(r"^\d{1,4}$"), "write a whole number, e.g. 400")

FACE = Struct("font face", (
    Field("family", Text(), "Family name the stylesheets use.", required=True),
    Field("file", Text(), "Font file, relative to the project's fonts/ folder.", required=True),
    Field("weight", INTEGER, "Weight, 100-900.", default="400"),
    Field("style", Choice(("normal", "italic")), "normal or italic.", default="normal"),
))

STACK = Struct("font stack", (
    Field("text", ListOf(Text()), "Families for running text, first choice first.", required=True),
    Field("heading", ListOf(Text()), "Families for headings and display lines."),
))

# Office sheets for imposition and poster tiles, portrait (width, height) in mm.
OFFICE_SHEETS_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}

CMYK = Pattern("CMYK colour", re.compile(r"^(\d{1,3}(\.\d+)? ){3}\d{1,3}(\.\d+)?$"),
               "write CMYK as four percentages: cyan magenta yellow black, e.g. 100 62 0 0")

PRINT = Struct("print", (
    Field("bleed", LENGTH, "Bleed beyond the trim for print editions.", default="3mm"),
    Field("colours", MapOf(CMYK, filled=True), "CMYK equivalents of the colours, chosen by eye, "
          "for print editions."),
    Field("sheet", Choice(tuple(OFFICE_SHEETS_MM)), "Office sheet for imposition and tiles.",
          default="A4"),
    Field("creep", LENGTH, "Creep compensation per sheet (about the paper's thickness).",
          default="0mm"),
    Field("tile-overlap", LENGTH, "Overlap between poster tiles.", default="10mm"),
    Field("printer-margin", LENGTH, "The office printer's unprintable margin.", default="5mm"),
    Field("output-profile", Text(), "The print shop's CMYK ICC profile (a file in the theme "
          "folder); with it the print edition is PDF/X-4 with an output intent."),
    Field("output-condition", Text(), "The profile's printing condition, e.g. FOGRA39.",
          default="Custom"),
    Field("image-intent", Choice(("relative", "perceptual")), "How images' colours are converted "
          "to the output profile: relative (colorimetric, with black-point compensation) or "
          "perceptual (squeezes colours the press cannot print into its range, shifting the rest).",
          default="relative"),
    Field("ink-limit", Pattern("ink limit", re.compile(r"^[1-4]\d{2}%$"), "write the total ink "
          "limit as a percentage from 100% to 499%, e.g. 300%"), "The most ink (C+M+Y+K) a colour "
          "or image pixel may lay down: the print shop's total area coverage.", default="300%"),
    Field("delta-e-warn", Number("ΔE2000", 0.5, 50), "`check` warns when a print colour prints "
          "further than this (ΔE2000) from its screen colour and other values come closer.",
          default="5"),
))

FIT_ROLE = Struct("fitted text", (
    Field("max", LENGTH, "The size it is set in when it fits (for A2; it scales with the sheet).",
          required=True),
    Field("min", LENGTH, "The smallest legible size (for A2; it scales): below it, the text is "
          "an error at its field.", required=True),
    Field("lines", Number("lines", 1, 6, whole=True), "A headline: at most this many balanced "
          "lines before it shrinks (left out: any number of lines)."),
))

FIT = Struct("fit", (
    Field("per", Choice(("series", "poster")), "series: the value posters share one size per "
          "role, the largest at which every one of them fits; poster: each is fitted alone.",
          default="series"),
    Field("roles", MapOf(FIT_ROLE), "The size range of each role a poster marks with "
          "data-fit=\"<role>\"; <role>-<lang> (e.g. word-zh) for one language."),
))

# A word that names a CSS class (and marks what is measured, so never two words).
SIZE_CLASS = Pattern("size class", re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$"),
                     "name a size class of booklet.css (.values.size-<size>), e.g. compact")

GRID = Struct("values grid", (
    Field("columns", Number("columns", 1, 3, whole=True), "Values side by side.", required=True),
    Field("rows", Number("rows", 1, 8, whole=True), "The most rows of values a page takes.",
          required=True),
    Field("size", SIZE_CLASS, "The type size class the grid sets values in (booklet.css: "
          ".values.size-<size>).", required=True),
))

PAGES = Struct("pages", (
    Field("values", ListOf(GRID), "The grids the values section may use, most preferred first: "
          "it takes the fewest pages (one spread, then two, ...) and on them the first grid in "
          "which every value fits its cell; the rows of a grid line up across a spread."),
    Field("chapter-opens-right", Number("pages", 0, 100), "A chapter at least this many pages "
          "long opens on a right-hand page (0: every chapter); shorter ones run on.",
          default="1"),
    Field("min-fill", Number("share", 0, 1), "How full a text page (chapters, milestones, "
          "closing) must be, as a share of its text area's height: a section ending on a page "
          "emptier than this runs the next one on. The last text page is exempt.",
          default="0.25"),
))

CONTRAST = Struct("contrast pair", (
    Field("text", Text(), "The text colour (a name under colours).", required=True),
    Field("background", Text(), "The colour it is set on (a name under colours).", required=True),
    Field("size", Choice(("body", "large")), "body (needs 4.5:1) or large: 18 pt and up, or 14 pt "
          "bold (needs 3:1).", default="body"),
))

THEME = Struct("theme", (
    Field("name", Text(), "Theme name.", required=True),
    Field("description", Text(), "One line on the theme."),
    Field("version", Text(), "The theme's version (a theme package's equals its distribution's)."),
    Field("extends", SLUG, "A theme whose templates, stylesheets and settings this one starts from."),
    Field("colours", MapOf(COLOUR, filled=True), "Named colours: --colour-<name> in CSS."),
    Field("booklet", MapOf(LENGTH), "Booklet page size and margins: --booklet-<name>."),
    Field("type", MapOf(LENGTH), "Type sizes: --type-<name>."),
    Field("posters", MapOf(LENGTH), "Poster sizes for A2 (they scale): --poster-<name>."),
    Field("fit", FIT, "Poster copyfitting: the size range of each fitted text."),
    Field("pages", PAGES, "How the booklet's pages follow its content."),
    Field("fonts", Struct("fonts", (
        Field("faces", ListOf(FACE), "Font files and the family, weight and style they provide."),
        Field("stacks", MapOf(STACK, key=Text()),
              "Families per language (default, zh-Hans, ...): text and heading."),
    )), "Fonts."),
    Field("labels", MapOf(LABELS, key=Text()), "Words the layouts print, per language."),
    Field("print", PRINT, "Print production: bleed, CMYK colours, office sheets."),
    Field("contrast", ListOf(CONTRAST), "Extra pairs of text colour and background for "
          "`culturebook check` to hold to WCAG AA contrast: only text the stylesheets do not show "
          "(over an image, in a positioned overlay). Every text colour the stylesheets draw is "
          "checked on its background without being listed."),
))


def _merge(base: dict, top: dict) -> dict:
    """`base` with `top`'s settings over it, mapping by mapping: a theme that extends another
    and sets print: colours: brand: keeps the other colours of print: colours: (lists, such as
    the font faces, are replaced whole)."""
    out = dict(base)
    for key, value in top.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


@dataclass(frozen=True)
class FontFace:
    family: str
    file: Path
    weight: int
    style: str


@dataclass(frozen=True)
class Brand:
    """A resolved theme: where its templates are, and the values its stylesheets receive."""

    name: str
    dirs: tuple[Path, ...]  # the theme first, then the themes it extends
    colours: dict[str, str]
    booklet: dict[str, str]
    type: dict[str, str]
    posters: dict[str, str]
    faces: tuple[FontFace, ...]
    stacks: dict[str, dict[str, list[str]]]
    labels: dict[str, dict[str, str]]
    files: tuple[Path, ...]
    print: dict[str, object]  # bleed, colours (CMYK), sheet, creep, tile-overlap, printer-margin
    contrast: tuple[dict, ...] = ()  # text colour, background, size (body or large)
    fit: dict = dataclasses.field(default_factory=dict)  # per, roles: {name: {max, min, lines}}
    pages: dict = dataclasses.field(default_factory=dict)  # values (grids), chapter-opens-right, min-fill

    def fit_roles(self, lang: str) -> dict[str, dict]:
        """The fitted-text roles for `lang`: <role>-<lang> (or -<primary subtag>) over <role>."""
        roles = self.fit.get("roles") or {}
        primary = lang.split("-")[0]
        # word-zh is the word role of one language, not a role of its own
        base = {k: v for k, v in roles.items() if not any(k.startswith(f"{b}-") for b in roles)}
        return {name: roles.get(f"{name}-{lang}") or roles.get(f"{name}-{primary}") or spec
                for name, spec in base.items()}

    def page_setting(self, key: str) -> float:
        """A number of the `pages` block, or its default."""
        value = self.pages.get(key)
        return float(PAGES.field(key).default if value is None else value)

    def print_mm(self, key: str) -> float:
        """A print length setting in millimetres."""
        return length_mm(str(self.print.get(key) or PRINT.field(key).default))

    def stack_for(self, lang: str) -> dict[str, list[str]]:
        """The font families (text, heading) that set text in `lang`."""
        for key in (lang, lang.split("-")[0], "default"):
            if key in self.stacks:
                stack = self.stacks[key]
                return {"text": stack["text"], "heading": stack.get("heading", stack["text"])}
        return {"text": [], "heading": []}

    def families_for(self, lang: str) -> list[str]:
        """The families of `lang`'s own stack (text, then heading)."""
        stack = self.stack_for(lang)
        return list(dict.fromkeys(stack["text"] + stack["heading"]))

    def fallbacks_for(self, lang: str) -> list[str]:
        """Every other family the theme declares, in the order of its faces: what sets the
        characters `lang`'s own fonts lack (a Chinese name in the English edition)."""
        own = set(self.families_for(lang))
        return [f for f in dict.fromkeys(face.family for face in self.faces) if f not in own]

    def chain_for(self, lang: str) -> list[str]:
        """The families that can set text in `lang`: its own stack first, then the fallbacks."""
        return self.families_for(lang) + self.fallbacks_for(lang)

    def stack_language(self, lang: str) -> str:
        """The key of the stack that sets `lang` (itself, its primary subtag, or default)."""
        return next((k for k in (lang, lang.split("-")[0]) if k in self.stacks), "default")

    def labels_for(self, lang: str) -> dict[str, str]:
        """The theme's own labels for `lang` (its primary subtag's, under its own)."""
        return {**self.labels.get(lang.split("-")[0], {}), **self.labels.get(lang, {})}

    def edition_labels(self, edition: Edition) -> Labels:
        """The words an edition's layouts print: the theme's for its language under the content's
        `labels:`; any still missing are the source language's (else the theme's first language's),
        so a layout never meets a missing label, and `borrowed` says which."""
        own = {**self.labels_for(edition.lang), **_given(edition.data.get("labels"))}
        source = {**self.labels_for(edition.source_lang), **_given(edition.source_labels)}
        first = next(iter(self.labels), edition.source_lang)
        words = {**own}
        borrowed: dict[str, str] = {}
        for lang, spare in ((edition.source_lang, source), (first, self.labels_for(first))):
            for key in LABEL_KEYS:
                if key not in words and key in spare:
                    words[key], borrowed[key] = spare[key], lang
        if "{month_name}" not in words.get("date_format", "{month_name}"):
            borrowed.pop("months", None)  # a date written without month names needs none
        return Labels(words, borrowed, bool(self.labels_for(edition.lang)))

    def css_properties(self, print_edition: bool = False) -> str:
        """The theme as CSS custom properties on :root. In a print edition the colours are the
        theme's CMYK equivalents (device-cmyk) and --bleed is the print bleed (else 0mm)."""
        colours = self.cmyk_colours() if print_edition else self.colours
        bleed = f"{self.print_mm('bleed'):g}mm" if print_edition else "0mm"
        lines = [f"  --bleed: {bleed};"]
        for prefix, values in (("colour", colours), ("booklet", self.booklet),
                               ("type", self.type), ("poster", self.posters)):
            lines += [f"  --{prefix}-{k}: {v};" for k, v in values.items()]
        css = ":root {\n" + "\n".join(lines) + "\n}\n"
        # Each language sets --font-text and --font-heading for its own elements, so a passage
        # tagged lang="en" inside the Chinese edition is set in the Latin family. After its own
        # families come the theme's others: whatever script a text is in, a font the theme
        # declares sets it (the glyph check holds text to the same chain).
        for key in sorted(self.stacks, key=lambda k: k != "default"):
            stack, fallbacks = self.stack_for(key), self.fallbacks_for(key)
            selector = "*" if key == "default" else f":lang({key})"
            text = ", ".join(map(_quote, stack["text"] + fallbacks))
            heading = ", ".join(map(_quote, stack["heading"] + fallbacks))
            css += f"{selector} {{ --font-text: {text}; --font-heading: {heading}; }}\n"
        return css

    def cmyk_colours(self) -> dict[str, str]:
        """The colours as CSS device-cmyk() from print.colours (a colour without one stays RGB;
        check_print_colours reports it)."""
        cmyk = self.print.get("colours") or {}
        out = {}
        for name, rgb in self.colours.items():
            if name in cmyk:
                parts = " ".join(f"{float(v) / 100:g}" for v in str(cmyk[name]).split())
                out[name] = f"device-cmyk({parts})"
            else:
                out[name] = rgb
        return out

    def setting_location(self, key: str) -> Location:
        """Where a print setting is written: the first theme in the chain that sets it."""
        for manifest in self.files:
            lines = manifest.read_text(encoding="utf-8").splitlines()
            for n, line in enumerate(lines, 1):
                if line.lstrip().startswith(f"{key}:"):
                    return Location(manifest, n, line.index(key) + 1)
        return Location(self.files[0])

    def colour_location(self, name: str) -> Location:
        """Where a screen colour is written: its line under colours: in the first theme that sets it."""
        pattern = re.compile(rf"^\s+{re.escape(name)}:\s*[\"']?#")
        for manifest in self.files:
            for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.match(line):
                    return Location(manifest, n, line.index(name) + 1)
        return self.setting_location("colours")

    def output_profile(self) -> Path | None:
        """The CMYK output profile named in print.output-profile: the first theme folder that has it."""
        name = self.print.get("output-profile")
        if not name or bad_file_name(str(name)):
            return None
        for directory in self.dirs:
            path = (directory / str(name)).resolve()
            if path.is_relative_to(directory.resolve()) and path.is_file():
                return path
        return None

    def missing_cmyk(self) -> list[str]:
        """Colours that have no CMYK equivalent for print editions."""
        cmyk = self.print.get("colours") or {}
        return [name for name in self.colours if name not in cmyk]

    def font_face_css(self) -> str:
        rules = [f"@font-face {{ font-family: {_quote(face.family)}; src: url({face.file.as_uri()}); "
                 f"font-weight: {face.weight}; font-style: {face.style}; }}" for face in self.faces]
        return "\n".join(rules) + "\n"


@dataclass(frozen=True)
class Labels:
    """An edition's labels, and those borrowed from another language (key -> that language)."""

    words: dict[str, str]
    borrowed: dict[str, str]
    in_theme: bool  # the theme has labels for the edition's language


# Language names for messages; a language not listed is named by its code.
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish",
                  "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "zh": "Chinese",
                  "zh-Hans": "Simplified Chinese", "zh-Hant": "Traditional Chinese",
                  "ja": "Japanese", "ko": "Korean"}


def _given(labels: dict | None) -> dict[str, str]:
    """The labels a content file gives (its `labels:` lists every key, None where not given)."""
    return {key: value for key, value in (labels or {}).items() if value is not None}


def language_name(lang: str) -> str:
    return LANGUAGE_NAMES.get(lang, lang)


def check_labels(brand: Brand, edition: Edition, problems: Problems) -> None:
    """One warning for an edition that prints labels of another language, listing them, at the
    edition's `labels:` (or its file's start): a layout prints them, so a reader meets them."""
    labels = brand.edition_labels(edition)
    if not labels.borrowed:
        return
    path = edition.files[-1]
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next((n for n, text in enumerate(lines, 1) if text.startswith("labels:")), 1)
    by_lang: dict[str, list[str]] = {}
    for key, lang in labels.borrowed.items():
        by_lang.setdefault(lang, []).append(key)
    listed = "; ".join(f"{', '.join(keys)} {'is' if len(keys) == 1 else 'are'} in "
                       f"{language_name(lang)}" for lang, keys in by_lang.items())
    none_given = not labels.in_theme and not _given(edition.data.get("labels"))
    lead = (f"no labels for {edition.lang} in the theme" if none_given
            else f"labels for {edition.lang} are incomplete")
    problems.warn(Location(path, line, 1), f"{lead}: {listed}; translate them under labels:")


def length_mm(value: str) -> float:
    """A validated theme length ('3mm', '9.5pt', '0.5in', ...) in millimetres."""
    match = re.match(r"^(\d+(?:\.\d+)?)(mm|pt|px|cm|in)$", value)
    if not match:
        raise ValueError(f"not a length: {value!r}")
    per_unit = {"mm": 1, "cm": 10, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}
    return float(match[1]) * per_unit[match[2]]


def _quote(family: str) -> str:
    return '"' + family.replace('"', "") + '"'


def load_brand(project_root: Path, theme: str, problems: Problems) -> Brand:
    """Read layouts/<theme>/theme.yaml (following `extends:`) and check its fonts exist."""
    layouts = project_root.resolve() / "layouts"
    chain: list[tuple[Path, dict]] = []
    nodes: list[Node] = []  # each theme's manifest as written, for the places of its settings
    name = theme
    while name:
        theme_dir = layouts / name
        manifest = theme_dir / "theme.yaml"
        if not manifest.is_file():
            hint = "themes: " + ", ".join(sorted(p.name for p in layouts.iterdir() if p.is_dir())) \
                if layouts.is_dir() else "create layouts/<theme>/theme.yaml"
            extends = _setting(nodes[-1:], "extends")
            where = (extends.loc if extends is not None else Location(chain[-1][0] / "theme.yaml")) \
                if chain else Location(project_root / "content/publication.yaml")
            raise ProjectError([Problem(where, f"theme '{name}' not found ({manifest})", hint)])
        if any(d == theme_dir for d, _ in chain):
            raise ProjectError([Problem(Location(manifest), f"theme '{name}' extends itself")])
        node = load_yaml(manifest)
        data = THEME.convert(node, "", problems) if node.value is not None else None
        if data is None:
            problems.error(Location(manifest, 1, 1), "theme manifest is empty")
            data = {}
        chain.append((theme_dir, data))
        nodes.append(node)
        name = data.get("extends")
    problems.raise_if_errors()

    merged: dict = {}
    for _, data in reversed(chain):  # the base first, each extending theme on top
        merged = _merge(merged, data)
    fonts = merged.get("fonts", {})
    fonts_dir = project_root.resolve() / "fonts"
    manifest = chain[0][0] / "theme.yaml"
    # Lists are replaced whole by an extending theme: the faces (and each stack) are those of
    # the first theme in the chain that sets them, and are reported where it sets them.
    face_nodes = _setting(nodes, "fonts", "faces") or []
    faces = []
    for n, face in enumerate(fonts.get("faces", [])):
        where = _setting([face_nodes[n]], "file") if n < len(face_nodes) else None
        loc = where.loc if where is not None else Location(manifest)
        why = bad_file_name(face["file"])
        if why:
            problems.error(loc, f"font file '{_cut(face['file'])}' {why}",
                           "name a font file in the project's fonts/ folder")
            continue
        file = (fonts_dir / face["file"]).resolve()
        if not file.is_relative_to(fonts_dir):
            problems.error(loc, f"font '{face['file']}' is outside fonts/")
        elif not file.is_file():
            problems.error(loc, f"font file fonts/{face['file']} not found",
                           "fonts are vendored in the project's fonts/ folder")
        elif (wrong := font_file_problem(file)) is not None:
            problems.error(loc, f"font file fonts/{face['file']} {wrong}",
                           "copy the font file again from where it came from")
        else:
            faces.append(FontFace(face["family"], file, int(face.get("weight", 400)),
                                  face.get("style", "normal")))
    families = {f.family for f in faces}
    for script, stack in fonts.get("stacks", {}).items():
        for role in ("text", "heading"):
            written = _setting(nodes, "fonts", "stacks", script, role) or []
            for n, family in enumerate(stack.get(role, [])):
                if family not in families and family in {f["family"] for f in fonts.get("faces", [])}:
                    continue  # its face is reported above
                if family not in families:
                    loc = written[n].loc if n < len(written) else Location(manifest)
                    problems.error(loc, f"font stack '{script}' names '{family}', "
                                   "which no font face provides")
    problems.raise_if_errors()
    brand = Brand(
        name=merged.get("name", theme),
        dirs=tuple(d for d, _ in chain),
        colours=merged.get("colours", {}),
        booklet=merged.get("booklet", {}),
        type=merged.get("type", {}),
        posters=merged.get("posters", {}),
        faces=tuple(faces),
        stacks=fonts.get("stacks", {}),
        labels=merged.get("labels", {}),
        files=tuple(d / "theme.yaml" for d, _ in chain),
        print=merged.get("print") or {},
        contrast=tuple(merged.get("contrast") or ()),
        fit=merged.get("fit") or {},
        pages=merged.get("pages") or {},
    )
    _check_output_profile(brand, manifest, problems)
    problems.raise_if_errors()
    return brand


def _setting(nodes: list[Node], *keys: str):
    """The node of a setting (its list items, for a list) in the first manifest that sets it."""
    for node in nodes:
        for key in keys:
            node = node.value.get(key) if node is not None and isinstance(node.value, dict) else None
        if node is not None and node.value is not None:
            return node.value if isinstance(node.value, list) else node
    return None


def font_file_problem(file: Path) -> str | None:
    """What is wrong with a font file (after "font file fonts/<name> "), or None. The table
    directory is read and held to the file's size, which finds a truncated copy without
    decoding a 16 MB CJK font; a font's cmap is decoded (and cached) by the glyph check."""
    from fontTools.ttLib import TTFont, TTLibError

    try:  # opened here: fontTools leaves the file open when it refuses what is in it
        with open(file, "rb") as handle, TTFont(handle, lazy=True) as font:
            if font.reader.flavor is None:  # WOFF and WOFF2 hold their tables compressed
                size = file.stat().st_size
                for tag, entry in font.reader.tables.items():
                    if entry.offset + entry.length > size:
                        return (f"is truncated: its '{tag.strip()}' table runs past the end of "
                                f"the file ({size} bytes)")
            missing = [tag for tag in ("cmap", "head", "maxp") if tag not in font]
            if missing:
                return f"is not a usable font: it has no '{missing[0]}' table"
    except TTLibError as exc:
        return f"cannot be read as a font: {exc}"
    except Exception as exc:  # noqa: BLE001 - whatever fontTools says, the file is unusable
        return f"cannot be read as a font: {exc or type(exc).__name__}"
    return None


def _check_output_profile(brand: Brand, manifest: Path, problems: Problems) -> None:
    """A named output profile must be a CMYK ICC profile inside the theme."""
    name = brand.print.get("output-profile")
    if not name:
        return
    why = bad_file_name(str(name))
    if why:
        problems.error(Location(manifest), f"output profile '{_cut(str(name))}' {why}",
                       "put the print shop's .icc file next to theme.yaml and name it here")
        return
    path = brand.output_profile()
    if path is None:
        problems.error(Location(manifest), f"output profile '{name}' not found in the theme folder",
                       "put the print shop's .icc file next to theme.yaml")
        return
    header = path.read_bytes()[:40]
    if len(header) < 40 or header[36:40] != b"acsp" or header[16:20] != b"CMYK":
        problems.error(Location(manifest), f"output profile '{name}' is not a CMYK ICC profile",
                       "ask the print shop for its CMYK output profile (e.g. FOGRA39, GRACoL)")


POSTER_SIZES_MM = {
    "A3": (297, 420), "A2": (420, 594), "A1": (594, 841),
    "Letter": (215.9, 279.4), "Tabloid": (279.4, 431.8),
}
