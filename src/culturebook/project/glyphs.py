"""Edition text + Brand fonts -> a problem for every script no font of the theme can draw.

Pango would silently borrow a glyph from another font (or draw a box); checking each character
against the cmaps of the families that set its language (its own stacks, then every other font
the theme declares, as the stylesheets do) makes a missing glyph an error with the content file,
line and field instead.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from culturebook.errors import Problems
from culturebook.project.brand import Brand
from culturebook.project.content import Edition
from culturebook.project.scripts import script_name
from culturebook.project.themes import install_hint

# Characters that are never drawn from a font: line breaks, tabs, soft hyphens, joiners, and the
# variation selectors (U+FE0F after ❤ and the like), which HarfBuzz hides when a font lacks them.
_INVISIBLE = set("\n\r\t\u00ad\u200b\u200c\u200d\u2060\ufeff")
_INVISIBLE |= set(map(chr, range(0xFE00, 0xFE10)))


@cache
def font_cmap(path: Path, cache_dir: Path | None = None) -> frozenset[int]:
    """The code points a font file has glyphs for (cached: decoding a CJK cmap takes ~0.3 s)."""
    stat = path.stat()
    cached = None
    if cache_dir is not None:
        cached = cache_dir / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}.json"
        try:
            ranges = json.loads(cached.read_text())
            return frozenset(c for start, end in ranges for c in range(start, end + 1))
        except (OSError, ValueError, TypeError):
            pass
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        codes = frozenset(font.getBestCmap() or {})
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(_ranges(sorted(codes))))
        except OSError:
            pass  # a read-only project still checks, just without the cache
    return codes


def _ranges(codes: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return ranges


def coverage(brand: Brand, lang: str, cache_dir: Path | None = None) -> frozenset[int]:
    """The code points the fonts of a language's chain can draw: its own stacks' fonts, then
    every other font the theme declares (brand.chain_for), as the stylesheets set them."""
    return _families_coverage(brand, tuple(brand.chain_for(lang)), cache_dir)


def own_coverage(brand: Brand, lang: str, cache_dir: Path | None = None) -> frozenset[int]:
    """The code points the fonts of a language's own stacks can draw (without the fallbacks)."""
    return _families_coverage(brand, tuple(brand.families_for(lang)), cache_dir)


def _families_coverage(brand: Brand, families: tuple[str, ...],
                       cache_dir: Path | None) -> frozenset[int]:
    cmaps = [font_cmap(f.file, cache_dir) for f in brand.faces if f.family in families]
    return frozenset().union(*cmaps) if cmaps else frozenset()


@dataclass(frozen=True)
class Gap:
    """What no font of the theme sets in one text: a script (or, for a symbol, one character),
    where it first occurs in the text and how many characters of it the text has."""

    what: str  # "Arabic", or "'😀' (U+1F600 GRINNING FACE)"
    first: int  # index in the text
    count: int

    def message(self, where: str) -> str:
        """The problem's line, `where` saying which text ("this field", "the name")."""
        count = f"{self.count} character{'s' if self.count != 1 else ''} in {where}"
        if self.what[0] == "'":
            return f"no font in fonts/ has {self.what}; add one that does and list it in theme.yaml"
        return f"no font in fonts/ sets {self.what} ({count}); add one and list it in theme.yaml"


def missing_scripts(text: str, covered: frozenset[int]) -> list[Gap]:
    """What `text` needs that `covered` lacks: one Gap per script (per character for symbols,
    which belong to no script), in the order they first occur."""
    found: dict[str, list[int]] = {}
    for at, ch in enumerate(text):
        if ch in _INVISIBLE or ch == " " or ord(ch) in covered:
            continue
        script = script_name(ch)
        what = script or f"'{ch}' (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')})"
        found.setdefault(what, []).append(at)
    return [Gap(what, ats[0], len(ats)) for what, ats in found.items()]


def check_glyphs(edition: Edition, brand: Brand, problems: Problems,
                 cache_dir: Path | None = None) -> None:
    """Report the scripts of the edition's text that no font of the theme sets: one problem per
    field and script (a field in Arabic is one line, not one per letter). Every font the theme
    declares sets what the edition's own fonts lack, so only a script none of them has is one.
    Text found complete once, with the same fonts, is not checked again (a marker in the cache:
    loading a CJK font's cmap is most of a build with nothing to do)."""
    marker = _checked_marker(edition, brand, cache_dir)
    if marker is not None and marker.exists():
        return
    before = len(problems.items)
    covered: dict[str, frozenset[int]] = {}
    for run in edition.runs:
        if run.lang not in covered:
            covered[run.lang] = coverage(brand, run.lang, cache_dir)
        for gap in missing_scripts(run.text, covered[run.lang]):
            line, col = _position(run, run.text[gap.first])
            where, message = type(run.loc)(run.loc.path, line, col), gap.message("this field")
            # The same source text printed by another edition too (untranslated, or a value's
            # name beneath its translation) is the same line: reported once.
            if not any(p.location == where and p.message == message for p in problems.items):
                problems.error(where, message, _not_installed(brand))
    if len(problems.items) == before:
        _note_checked(marker)


def _not_installed(brand: Brand) -> str:
    """A hint naming the theme's fonts whose package is not installed: most likely what would
    have set the characters."""
    missing = {face.family: face.package for face in brand.missing}
    return "; ".join(f"the theme's {family} is not installed: {install_hint(package)}"
                     for family, package in missing.items())


def _checked_marker(edition: Edition, brand: Brand, cache_dir: Path | None) -> Path | None:
    """Where a complete check of this text against these fonts is noted."""
    if cache_dir is None:
        return None
    digest = hashlib.sha256()
    for face in brand.faces:
        stat = face.file.stat()
        digest.update(f"{face.family}\0{face.file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    for lang in sorted({run.lang for run in edition.runs}):
        digest.update(f"{lang}:{','.join(brand.chain_for(lang))}\n".encode())
    for run in edition.runs:
        digest.update(f"{run.lang}\0{run.text}\0".encode())
    return cache_dir / "checked" / digest.hexdigest()


def _note_checked(marker: Path | None) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # a read-only cache: the text is checked again next time


def _position(run, ch: str) -> tuple[int, int]:
    """Best guess of the character's line and column in the file: search from the field's line."""
    try:
        lines = run.loc.path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return run.loc.line, run.loc.col
    for n in range(max(run.loc.line - 1, 0), len(lines)):
        if ch in lines[n]:
            return n + 1, lines[n].index(ch) + 1
    return run.loc.line, run.loc.col
