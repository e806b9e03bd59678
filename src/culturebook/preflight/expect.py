"""A project's PDFs -> what each should be (`Expect`): kind, edition, print or screen, sizes, fonts.

`culturebook preflight` and the build both call `expect_for` with a PDF's path under build/ and the
project's `Settings`; `find_targets` says which PDFs `culturebook preflight` checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.project.brand import OFFICE_SHEETS_MM, POSTER_SIZES_MM, length_mm, load_brand
from culturebook.project.schema import SETTINGS
from culturebook.project.yamlsource import load_yaml

KINDS = ("booklet", "poster", "bundle", "imposed", "tiles")
REPORT = "preflight.json"  # per edition: build/<lang>/preflight.json


@dataclass(frozen=True)
class Finding:
    """One thing wrong (`error`) or doubtful (a warning) in a PDF (here, not in preflight/checks.py, so a
    build that preflights nothing new can still report earlier findings without reading PDFs)."""

    check: str  # one of preflight.CHECKS
    error: bool  # False = warning
    page: int | None  # 1-based, when it concerns one page
    message: str  # one line a user understands, naming what and by how much
    pixels: tuple[int, int] | None = None  # images: the image's size, to find its source file


def page_runs(pages: list[int]) -> str:
    """Page numbers as a reader writes them: [2, 3, 4, 7] -> '2-4, 7'."""
    runs: list[list[int]] = []
    for n in sorted(set(pages)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)
SHEETS_MM = OFFICE_SHEETS_MM


@dataclass(frozen=True)
class Expect:
    """What a PDF should be."""

    kind: str  # "booklet" | "poster" | "bundle" | "imposed" | "tiles" ("" when unknown)
    edition: str  # language code, e.g. "zh-Hans" ("" when unknown)
    print: bool = False  # a print edition (TrimBox/BleedBox, no DeviceRGB vector colour)
    trim_mm: tuple[float, float] | None = None  # expected trim size (w, h) in mm, if known
    bleed_mm: float = 0.0  # expected bleed for print editions
    page_multiple: int = 1  # 4 for booklets
    min_ppi: int = 150  # 300 for print, 150 for screen
    fonts_dir: Path | tuple[Path, ...] | None = None  # a tuple: fonts/ and the theme's font folders
    tagged: bool = False  # a screen edition: tagged PDF a screen reader can follow
    archive: bool = False  # the archival edition: PDF/A-3 with its content files embedded
    pdfx: bool = False  # held to PDF/X-4: a file under print/ when the theme names an output profile
    # A booklet as its layout used each page ((named page, fill), build/manifest.json's `fill`):
    # the fill rule is checked on it, at `min_fill` (a PDF alone does not say which are text pages).
    page_fills: tuple = ()
    min_fill: float = 0.25
    ink_limit: float = 300.0  # print: the most C+M+Y+K any colour or image pixel may lay down
    print_colours: tuple = ()  # print: the theme's (name, CMYK percent), to name a colour found


@dataclass(frozen=True)
class Settings:
    """What a project says about its PDFs: languages, sizes, bleed, fonts."""

    languages: tuple[str, ...] = ()
    booklet_mm: tuple[float, float] = (148.0, 210.0)
    poster_mm: tuple[float, float] | None = None
    bleed_mm: float = 3.0
    sheet: str = "A4"
    fonts_dir: Path | tuple[Path, ...] | None = None
    min_fill: float = 0.25  # the theme's pages: min-fill
    ink_limit: float = 300.0  # the theme's print.ink-limit
    print_colours: tuple = ()  # the theme's print.colours as (name, CMYK percent)
    pdfx: bool = False  # the theme names an output profile: every print file is PDF/X-4


def project_settings(root: Path) -> Settings:
    """Read content/publication.yaml and the theme, as far as they can be read: preflight checks
    PDFs, so a project with a problem still gets its files checked with the defaults."""

    fonts_dir = root / "fonts" if (root / "fonts").is_dir() else None
    try:
        node = load_yaml(root / "content" / "publication.yaml")
        values = SETTINGS.convert(node, "", Problems()) or {}
    except (ProjectError, AttributeError, OSError):
        return Settings(fonts_dir=fonts_dir)
    languages = tuple(values.get("languages") or ())
    poster_size = (values.get("posters") or {}).get("size", "A2")
    try:
        brand = load_brand(root, values.get("theme") or "default", Problems())
    except (ProjectError, ValueError, KeyError, OSError):
        brand = None
    return settings_from(brand, poster_size, languages, fonts_dir)


def settings_from(brand, poster_size: str, languages: Iterable[str], fonts_dir: Path | None) -> Settings:
    """Settings from what the build has in hand: its Brand (or None), the content's poster size and
    languages, and the project's fonts/ folder."""

    poster = POSTER_SIZES_MM.get(poster_size)
    settings = Settings(languages=tuple(languages), fonts_dir=fonts_dir,
                        poster_mm=(float(poster[0]), float(poster[1])) if poster else None)
    if brand is None:
        return settings
    if brand.faces:  # fonts/ and the folders the theme's fonts were found in (packages too)
        own = (fonts_dir.resolve(),) if fonts_dir is not None and fonts_dir.is_dir() else ()
        folders = dict.fromkeys((*own, *(face.file.resolve().parent for face in brand.faces)))
        settings = replace(settings, fonts_dir=tuple(  # each read with its subfolders: once
            f for f in folders if not any(f != o and f.is_relative_to(o) for o in folders)))
    try:
        booklet = (length_mm(brand.booklet["width"]), length_mm(brand.booklet["height"])) \
            if {"width", "height"} <= set(brand.booklet) else settings.booklet_mm
        return replace(settings, booklet_mm=booklet, bleed_mm=brand.print_mm("bleed"),
                       sheet=str(brand.print.get("sheet") or "A4"),
                       min_fill=brand.page_setting("min-fill"),
                       ink_limit=float(str(brand.print.get("ink-limit") or "300").rstrip("%")),
                       print_colours=tuple((name, tuple(float(v) for v in str(cmyk).split()))
                                           for name, cmyk in (brand.print.get("colours") or {})
                                           .items()),
                       pdfx=brand.output_profile() is not None)
    except (ValueError, KeyError):
        return settings


def guess_kind(path: str) -> str:
    """The kind of PDF a build path names: booklet, poster, bundle, imposed, tiles, or ''."""
    parts = Path(path).parts
    name = parts[-1] if parts else ""
    folder = parts[-2] if len(parts) > 1 else ""
    if name == "booklet-imposed.pdf":
        return "imposed"
    if name == "booklet.pdf" or folder == "personalised" or (folder, name) == ("print",
                                                                              "personalised.pdf"):
        return "booklet"  # personalised booklets too, one per file or all in one print file
    if name == "culture-kit.pdf":
        return "bundle"
    if folder == "posters":
        return "poster"
    if folder == "tiles":
        return "tiles"
    return ""


def guess_edition(path: str, languages: Iterable[str]) -> str:
    """The edition a path belongs to: the folder after build/, or any folder named as a language."""
    parts = Path(path).parts[:-1]
    languages = tuple(languages)
    for i, part in enumerate(parts[:-1]):
        if part == "build" and (not languages or parts[i + 1] in languages):
            return parts[i + 1]
    for part in reversed(parts):
        if part in languages:
            return part
    return ""


def expect_for(path: str, settings: Settings, kind: str = "", edition: str = "") -> Expect:
    """What a PDF at `path` (a build path such as 'en/print/booklet.pdf') should be.

    A path with a print/ folder is a print edition: bleed and 300 ppi. The imposed booklet and the
    poster tiles are for office printers: 300 ppi, no bleed. Every file under print/ is held to
    PDF/X-4 when the theme names an output profile (settings.pdfx)."""
    posix = "/" + Path(path).as_posix()
    kind = kind if kind in KINDS else guess_kind(path)
    edition = edition or guess_edition(path, settings.languages)
    office = kind in ("imposed", "tiles")
    is_print = "/print/" in posix and not office
    archive = "/archive/" in posix
    # Screen editions are tagged (personalised booklets too); print editions are not.
    tagged = archive or (kind in ("booklet", "poster", "bundle") and not is_print)
    sheet_w, sheet_h = SHEETS_MM.get(settings.sheet, SHEETS_MM["A4"])
    trim = {"booklet": settings.booklet_mm, "poster": settings.poster_mm,
            "imposed": (sheet_h, sheet_w)}.get(kind)
    return Expect(
        kind=kind, edition=edition, print=is_print, trim_mm=trim,
        bleed_mm=settings.bleed_mm if is_print else 0.0,
        page_multiple={"booklet": 4, "imposed": 2}.get(kind, 1),
        min_ppi=300 if (is_print or office) else 150,
        fonts_dir=settings.fonts_dir, tagged=tagged, archive=archive, min_fill=settings.min_fill,
        ink_limit=settings.ink_limit, print_colours=settings.print_colours,
        pdfx=settings.pdfx and "/print/" in posix)


def with_fills(expect: Expect, fill) -> Expect:
    """`expect` for a booklet whose layout measured its pages (`fill`: [named page, fill] per
    page, as Rendered.fill and the manifest keep it): preflight then checks the fill rule."""
    if expect.kind != "booklet" or not isinstance(fill, (list, tuple)):
        return expect
    return replace(expect, page_fills=tuple((str(kind), float(f)) for kind, f in fill))


@dataclass(frozen=True)
class Target:
    """One PDF to check: where it is, how to show it, what to expect of it."""

    path: Path
    name: str  # relative to the project root when inside it, else as given
    key: str  # relative to build/ (as in the manifest) when inside it, else ""
    expect: Expect


def find_targets(root: Path, paths: list[Path]) -> list[Target]:
    """The PDFs to check: those given, or every PDF in build/manifest.json. A missing file, a file
    that is not a PDF or a missing manifest is a ProjectError (one line each)."""
    root = root.resolve()
    settings = project_settings(root)
    build = root / "build"
    entries: list[tuple[Path, str, str]] = []  # path, kind, edition
    built = _built(build)  # {path under build/: manifest entry}, where there is a manifest
    if paths:
        entries = [(Path(p), "", "") for p in paths]
    else:
        manifest = build / "manifest.json"
        try:
            artifacts = json.loads(manifest.read_text(encoding="utf-8"))["artifacts"]
            entries = [(build / a["path"], str(a.get("kind", "")), str(a.get("edition", "")))
                       for a in artifacts if str(a["path"]).endswith(".pdf")]
        except FileNotFoundError:
            raise ProjectError([Problem(Location(manifest), "no build to check: there is no "
                                        "manifest; run `culturebook build` first")]) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError([Problem(Location(manifest), f"unreadable manifest ({exc})")]) from None
    problems, targets = [], []
    for path, kind, edition in entries:
        full = (path if path.is_absolute() else Path.cwd() / path).resolve()
        if not full.is_file():
            problems.append(Problem(Location(path), "no such file" if not full.exists() else
                                    "not a file"))
            continue
        with full.open("rb") as f:
            if b"%PDF-" not in f.read(1024):
                problems.append(Problem(Location(path), "not a PDF (no %PDF- header)"))
                continue
        name = _relative(full, root) or str(path)
        key = _relative(full, build.resolve())
        expect = expect_for(key or name, settings, kind, edition)
        entry = built.get(key) or {}
        if entry.get("sha256") == hashlib.sha256(full.read_bytes()).hexdigest():
            expect = with_fills(expect, entry.get("fill"))  # the file the build measured
        targets.append(Target(full, name, key, expect))
    if problems:
        raise ProjectError(problems)
    return targets


def _built(build: Path) -> dict[str, dict]:
    """build/manifest.json's entries by path, or none when it cannot be read."""
    try:
        artifacts = json.loads((build / "manifest.json").read_text(encoding="utf-8"))["artifacts"]
        return {str(a["path"]): a for a in artifacts}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return ""
