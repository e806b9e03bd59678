"""The names of the project's font files, as the fonts check compares them with the fonts a PDF
embeds: PostScript, full and family names, and the names WeasyPrint writes."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from pathlib import Path

from culturebook.files import cache_dir, write_atomic

_STYLE_WORDS = frozenset(
    "regular normal italic oblique thin hairline ultra extra semi demi light book medium bold heavy "
    "black condensed expanded semicondensed semiexpanded small caps smallcaps".split())


def normalise(text: str) -> str:
    """Letters and digits only, lowercased (how font names are compared)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


@functools.lru_cache(maxsize=8)
def _font_names(folder: str, stamp: tuple) -> tuple[frozenset[str], frozenset[str]]:
    """(every name of every font file in `folder`, the family names), normalised."""
    from fontTools.ttLib import TTFont, TTLibError

    names, families = set(), set()
    for path, _, _ in stamp:
        try:
            font = TTFont(path, lazy=True, fontNumber=0)
        except (TTLibError, OSError):
            continue
        table = font["name"] if "name" in font else None
        if table is not None:
            get = table.getDebugName
            for name_id in (1, 4, 6, 16, 21):
                if get(name_id):
                    names.add(normalise(get(name_id)))
            for fam, style in ((1, 2), (16, 17), (21, 22)):
                if get(fam):
                    families.add(normalise(get(fam)))
                    if get(style):
                        names.add(normalise(get(fam) + get(style)))
        font.close()
    return frozenset(names | families), frozenset(families)


def font_names(fonts_dir: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Names of the font files in `fonts_dir`, read once per set of files: kept in memory, and on
    disk in culturebook's cache, since opening the fonts (a Chinese one is 16 MB) costs a tenth of
    a second that a one-poster rebuild should not pay every time."""

    files = sorted(p for p in Path(fonts_dir).rglob("*")
                   if p.suffix.lower() in (".otf", ".ttf", ".ttc", ".otc") and p.is_file())
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    cached = cache_dir() / "font-names" / (hashlib.sha256(repr(stamp).encode()).hexdigest() + ".json")
    try:
        names, families = json.loads(cached.read_text(encoding="utf-8"))
        return frozenset(names), frozenset(families)
    except (OSError, ValueError):
        pass
    names, families = _font_names(str(fonts_dir), stamp)
    try:
        write_atomic(cached, json.dumps([sorted(names), sorted(families)]).encode())
    except OSError:  # a read-only cache only costs time
        pass
    return names, families


def from_fonts(name: str, names: frozenset[str], families: frozenset[str]) -> bool:
    """Whether a font named `name` (BaseFont without its subset prefix) is a font in fonts/.

    Accepts a PostScript, full or family+style name ('InterDisplay-Bold', 'Inter Display Bold'),
    and the names WeasyPrint writes (Pango's description: 'Inter-Display-Semi-Bold', whose family
    part 'Inter Display' is a family in fonts/)."""
    if normalise(name) in names:
        return True
    words = [w for w in re.split(r"[-_ ,]+", name) if w]
    while words and normalise(words[-1]) in _STYLE_WORDS:
        words.pop()
        if normalise("".join(words)) in families:
            return True
    return False
