"""Theme name or font file -> the folder it is in: the project, an installed package, or culturebook.

A theme named by `theme:` (publication.yaml) or `extends:` (theme.yaml) is looked for in the
project's layouts/<name>/, then in the installed packages that declare it under the
`culturebook.themes` entry point group (entry name: the theme's name, value: the package that
holds theme.yaml), then among the themes culturebook ships (shipped/: the default theme). A font
file a theme names is looked for in the project's fonts/, then in the fonts/ folder of each theme
of the extends chain (the default theme's are culturebook's shipped/fonts/), then in the folder of
each package of the `culturebook.fonts` group (the CJK companion package). Packages are located
without importing them (importlib.util.find_spec of the top-level package), so a theme package
runs no code. Versions: a theme's `version:`, else its distribution's, else (the shipped themes)
culturebook's own; a theme that extends another may pin the version it was made with
(`extends-version:`), checked here.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from culturebook import __version__
from culturebook.errors import Location, Problems

SHIPPED = Path(__file__).resolve().parents[1] / "shipped"  # culturebook/shipped: default, fonts, example
SHIPPED_FONTS = SHIPPED / "fonts"
THEME_GROUP = "culturebook.themes"
FONT_GROUP = "culturebook.fonts"
FONT_HINT = "put it in the project's fonts/ folder (fonts are looked for there, in the themes' fonts/ " \
    "folders and in the installed font packages)"
LISTING_HINT = "`culturebook themes` lists the installed ones; a theme from a package needs it " \
    "installed beside culturebook (pipx inject culturebook PACKAGE, or pip install PACKAGE)"


@dataclass(frozen=True)
class Found:
    """A theme (or a font package) and where it was found."""

    name: str
    folder: Path
    origin: str  # project, package or shipped
    dist: str = ""  # the distribution that installed it (origin package)
    dist_version: str = ""

    @property
    def where(self) -> str:
        """Where it comes from, in a few words (for `culturebook themes` and messages)."""
        if self.origin == "package":
            return f"package {self.dist} {self.dist_version}"
        if self.origin == "project":
            return f"this project's layouts/{self.name}/"
        return f"shipped with culturebook {self.dist_version}"


def find_theme(project_root: Path, name: str) -> Found | None:
    """The theme called `name` by the lookup order (None where it is nowhere)."""
    local = project_root.resolve() / "layouts" / name
    if (local / "theme.yaml").is_file():
        return Found(name, local, "project")
    for found in _packages(THEME_GROUP):
        if found.name == name and (found.folder / "theme.yaml").is_file():
            return found
    shipped = SHIPPED / name
    if name != "fonts" and "/" not in name and (shipped / "theme.yaml").is_file():
        return Found(name, shipped, "shipped", "culturebook", __version__)
    return None


def installed_themes(project_root: Path) -> list[Found]:
    """Every theme a project can name, in the lookup order: its own, the packages', culturebook's
    (a name found twice is listed twice; the first is the one used)."""
    layouts = project_root.resolve() / "layouts"
    local = [Found(p.name, p, "project") for p in sorted(layouts.iterdir())
             if (p / "theme.yaml").is_file()] if layouts.is_dir() else []
    packaged = [f for f in _packages(THEME_GROUP) if (f.folder / "theme.yaml").is_file()]
    shipped = [Found(p.name, p, "shipped", "culturebook", __version__) for p in sorted(SHIPPED.iterdir())
               if (p / "theme.yaml").is_file()]
    return local + sorted(packaged, key=lambda f: f.name) + shipped


def not_found(name: str) -> tuple[str, str]:
    """The message and hint for a theme named nowhere."""
    return (f"theme '{name}' not found in layouts/{name}/, in an installed theme package or among "
            "culturebook's own themes", LISTING_HINT)


def theme_line(project_root: Path) -> Location:
    """Where content/publication.yaml names its theme (its first line when it does not)."""
    path = project_root / "content" / "publication.yaml"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return Location(path)
    for n, line in enumerate(lines, 1):
        match = re.match(r"theme:\s*", line)
        if match:
            return Location(path, n, match.end() + 1)
    return Location(path, 1, 1)


def theme_version(found: Found, data: dict) -> str:
    """A theme's version: its theme.yaml's `version:`, else its package's (culturebook's for the
    shipped ones); "" for a project's theme that gives none."""
    return str(data.get("version") or found.dist_version or "")


def check_pin(pin, extended: Found, version: str, problems: Problems) -> None:
    """An `extends-version:` (its YAML node) against the installed version of the theme it names:
    older installed is an error (the theme may use what that version lacks), newer a warning."""
    wanted = str(pin.value)
    if not version or _key(version) == _key(wanted):
        return
    upgrade = "pipx upgrade culturebook (or pip install -U culturebook)" if extended.origin == "shipped" \
        else f"pip install -U {extended.dist}" if extended.dist else f"update layouts/{extended.name}/"
    if _key(version) < _key(wanted):
        problems.error(pin.loc, f"theme '{extended.name}' is {version} here ({extended.where}), older "
                       f"than the {wanted} this theme was made with", f"upgrade it: {upgrade}")
    else:
        problems.warn(pin.loc, f"theme '{extended.name}' is {version} here ({extended.where}), newer "
                      f"than the {wanted} this theme was made with", "look over the booklet and "
                      f"posters, then record it: extends-version: {version}")


def _key(version: str) -> tuple:
    """A version as numbers to compare (1.10 after 1.9); what is not a number compares as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"[.+-]", version))


@dataclass(frozen=True)
class Missing:
    """A font face whose file is in a package that is not installed."""

    family: str
    file: str
    loc: Location  # its `file:` in theme.yaml
    package: str


def install_hint(package: str) -> str:
    """How to get a package of fonts or a theme beside culturebook."""
    return f"install {package}: pipx inject culturebook {package} (or pip install {package})"


def check_missing_fonts(missing: tuple[Missing, ...], families: dict[str, list[str]],
                        problems: Problems) -> None:
    """An error at each face whose package is not installed and whose family an edition's own
    stack names (`families`: each edition's language -> its stacks' families). A face no edition
    needs is left out quietly: a character only it has is then the glyph check's error. One line
    per family, at its first face (Regular and Bold come with the same package)."""
    seen = set()
    for face in missing:
        needed = [lang for lang, names in families.items() if face.family in names]
        if needed and face.family not in seen:
            seen.add(face.family)
            editions = ", ".join(needed)
            problems.error(face.loc, f"font file {face.file} not found: {face.family} sets the "
                           f"{editions} edition{'s' if ',' in editions else ''} and comes with "
                           f"the {face.package} package, which is not installed",
                           install_hint(face.package))


def font_folders(project_root: Path, theme_dirs: tuple[Path, ...] | list[Path]) -> list[Path]:
    """The folders a theme's font files are looked for in, in order."""
    folders = [project_root.resolve() / "fonts"] + [d / "fonts" for d in theme_dirs]
    if any(d.parent == SHIPPED for d in theme_dirs):
        folders.append(SHIPPED_FONTS)
    folders += [found.folder for found in _packages(FONT_GROUP)]
    return list(dict.fromkeys(folders))


def find_font(folders: list[Path], file: str) -> Path | None:
    """The first folder's copy of `file` (a path under a fonts folder); None where none has it or
    it names a place outside its folder."""
    for folder in folders:
        path = Path(os.path.normpath(folder / file))
        if path.is_relative_to(folder) and path.is_file():
            return path
    return None


def font_packages() -> list[Found]:
    """The installed packages of font files (the `culturebook.fonts` group)."""
    return _packages(FONT_GROUP)


def outside_folders(project_root: Path) -> list[Path]:
    """The folders outside the project that its themes and fonts can come from (the shipped ones,
    every installed theme and font package's): what a build's fingerprint and the preview watch
    besides the project's own content/, layouts/ and fonts/."""
    folders = [p.resolve() for p in sorted(SHIPPED.iterdir()) if p.is_dir() and p.name != "example"]
    folders += [p.resolve() for p in sorted(SHIPPED_FONTS.iterdir()) if p.is_dir()]
    folders += [f.folder.resolve() for f in _packages(THEME_GROUP) + _packages(FONT_GROUP)]
    return [f for f in dict.fromkeys(folders) if not f.is_relative_to(project_root.resolve())]


def _packages(group: str) -> list[Found]:
    """The packages an entry point group names, found without importing them."""
    found = []
    for entry in importlib.metadata.entry_points(group=group):
        top = entry.value.split(":")[0].strip()
        try:
            spec = importlib.util.find_spec(top.split(".")[0])
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(list(spec.submodule_search_locations)[0]).joinpath(*top.split(".")[1:])
        dist = entry.dist
        found.append(Found(entry.name, folder, "package", dist.name if dist else "",
                           dist.version if dist else ""))
    return found
