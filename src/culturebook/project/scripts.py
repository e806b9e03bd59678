"""Characters -> the script they are written in; HTML -> HTML with text in another language's
script marked with that language (`<span lang="zh-Hans">` around a Chinese name in English).

The fonts of a theme form one fallback chain per edition, so a Chinese name in the English
edition is drawn by the Chinese font. `lang` still has to say so: it chooses the Chinese glyph
forms (Japanese ones differ) and becomes the passage's /Lang in the tagged PDF, which a screen
reader reads it in. Marking the rendered HTML's text nodes does it once for every layout and
every field, filter or recipient value, instead of in each template.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable

# Blocks of the scripts a culture statement is likely to be written in, by first code point.
# The names are what a person calls the script (the error messages print them).
_BLOCKS = [
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x024F, "Latin"),
    (0x0370, 0x03FF, "Greek"), (0x0400, 0x052F, "Cyrillic"), (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"), (0x0600, 0x06FF, "Arabic"), (0x0700, 0x074F, "Syriac"),
    (0x0750, 0x077F, "Arabic"), (0x0780, 0x07BF, "Thaana"), (0x08A0, 0x08FF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"), (0x0980, 0x09FF, "Bengali"), (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"), (0x0B00, 0x0B7F, "Oriya"), (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"), (0x0C80, 0x0CFF, "Kannada"), (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"), (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"), (0x1000, 0x109F, "Myanmar"), (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"), (0x1200, 0x139F, "Ethiopic"), (0x1780, 0x17FF, "Khmer"),
    (0x1E00, 0x1EFF, "Latin"), (0x1F00, 0x1FFF, "Greek"), (0x2C60, 0x2C7F, "Latin"),
    (0x2D80, 0x2DDF, "Ethiopic"), (0x2DE0, 0x2DFF, "Cyrillic"), (0x2E80, 0x2FDF, "Han"),
    (0x3000, 0x303F, "Han"), (0x3040, 0x309F, "Hiragana"), (0x30A0, 0x30FF, "Katakana"),
    (0x3130, 0x318F, "Hangul"), (0x31F0, 0x31FF, "Katakana"), (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"), (0xA640, 0xA69F, "Cyrillic"), (0xA720, 0xA7FF, "Latin"),
    (0xA8E0, 0xA8FF, "Devanagari"), (0xAC00, 0xD7AF, "Hangul"), (0xF900, 0xFAFF, "Han"),
    (0xFB1D, 0xFB4F, "Hebrew"), (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
    (0xFF00, 0xFFEF, "Han"), (0x20000, 0x3FFFF, "Han"),
]
_STARTS = [start for start, _, _ in _BLOCKS]

# Languages written right to left (primary subtags): culturebook's layouts set text left to right.
RIGHT_TO_LEFT = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ku-Arab", "ps", "sd",
                           "syr", "ug", "ur", "yi"})


def script_name(ch: str) -> str | None:
    """The script `ch` is written in ("Arabic", "Han", ...), or None for a symbol, digit or
    punctuation mark that belongs to no one script (an emoji, a dash)."""
    code = ord(ch)
    at = bisect_right(_STARTS, code) - 1
    if at >= 0 and code <= _BLOCKS[at][1]:
        return _BLOCKS[at][2]
    if unicodedata.category(ch)[0] in "LM":  # a letter of a script not in the table: its name
        name = unicodedata.name(ch, "")
        return name.split()[0].title() if name else None
    return None


def is_right_to_left(lang: str) -> bool:
    """Whether a language code names a language written right to left (ar, he, fa-IR, ...)."""
    parts = lang.split("-")
    return parts[0].lower() in RIGHT_TO_LEFT or "-".join(parts[:2]) in RIGHT_TO_LEFT \
        or any(p.title() in ("Arab", "Hebr", "Thaa", "Syrc") for p in parts[1:])


# A tag, comment or doctype; what lies between them is text.
_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
_NAME = re.compile(r"<(/?)([A-Za-z][\w:-]*)")
_LANG = re.compile(r"""\slang\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})
_NOT_TEXT = frozenset({"head", "style", "script", "title", "template"})  # text nobody sees set
_PIECE = re.compile(r"&#?\w+;|.", re.S)  # a character, or an entity kept whole


def mark_languages(html: str, language_of: Callable[[str, str], str | None]) -> str:
    """`html` with each run of text that `language_of(character, lang of its element)` assigns to
    another language wrapped in `<span lang="...">`. Characters that belong to no script (spaces,
    digits, punctuation the element's fonts have) join a run when it goes on after them."""
    out: list[str] = []
    stack: list[tuple[str, str, bool]] = []  # (tag, lang, hidden) of the open elements
    pos = 0
    for match in _TAG.finditer(html):
        if match.start() > pos:
            lang, hidden = (stack[-1][1], stack[-1][2]) if stack else ("", False)
            text = html[pos:match.start()]
            out.append(text if hidden else _mark_text(text, lang, language_of))
        tag = match.group()
        out.append(tag)
        pos = match.end()
        name = _NAME.match(tag)
        if name is None:
            continue
        closing, element = name.group(1) == "/", name.group(2).lower()
        if closing:
            for n in range(len(stack) - 1, -1, -1):
                if stack[n][0] == element:
                    del stack[n:]
                    break
        elif element not in _VOID and not tag.endswith("/>"):
            lang_attr = _LANG.search(tag)
            parent = stack[-1] if stack else ("", "", False)
            lang = next(g for g in lang_attr.groups() if g is not None) if lang_attr else parent[1]
            stack.append((element, lang, parent[2] or element in _NOT_TEXT))
    lang, hidden = (stack[-1][1], stack[-1][2]) if stack else ("", False)
    rest = html[pos:]
    out.append(rest if hidden else _mark_text(rest, lang, language_of))
    return "".join(out)


def _mark_text(text: str, lang: str, language_of: Callable[[str, str], str | None]) -> str:
    if not text.strip() or (text.isascii() and language_of("a", lang) is None):
        return text  # nothing to mark: the common case, kept quick
    pieces = _PIECE.findall(text)
    langs = [None if len(p) > 1 else language_of(p, lang) for p in pieces]
    out: list[str] = []
    n = 0
    while n < len(pieces):
        mark = langs[n]
        if mark is None:
            out.append(pieces[n])
            n += 1
            continue
        end = n + 1  # the run goes on over same-language characters and the neutral ones between
        last = n
        while end < len(pieces) and (langs[end] == mark or (langs[end] is None and _neutral(
                pieces[end]))):
            if langs[end] == mark:
                last = end
            end += 1
        out.append(f'<span lang="{mark}">{"".join(pieces[n:last + 1])}</span>')
        n = last + 1
    return "".join(out)


def _neutral(piece: str) -> bool:
    """A space, digit, punctuation mark or entity: part of the text around it, whatever script."""
    return len(piece) > 1 or unicodedata.category(piece)[0] not in "LM"


# Punctuation that must not start a line (kept with the unit before) or end one (with the unit after).
_CLOSING = set("，。、；：？！）」』》〉】〕…—–,.;:?!)]}”’%·・ー々〜")
_OPENING = set("（「『《〈【〔([{“‘")


def units(text: str) -> list[tuple[str, bool]]:
    """The text's break units as (unit, whitespace before it): words, and each CJK character
    (with punctuation kept with its neighbour), in order."""
    found: list[tuple[str, bool]] = []
    for word in re.finditer(r"\S+", text):
        space = word.start() > 0 and bool(found)
        pieces: list[str] = []
        latin = ""
        for char in word.group():
            if _is_wide(char):
                if latin:
                    pieces.append(latin)
                    latin = ""
                pieces.append(char)
            else:
                latin += char
        if latin:
            pieces.append(latin)
        merged: list[str] = []
        for piece in pieces:
            if merged and (piece[0] in _CLOSING or merged[-1][-1] in _OPENING):
                merged[-1] += piece
            else:
                merged.append(piece)
        for n, piece in enumerate(merged):
            found.append((piece, space and n == 0))
    return found


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")
