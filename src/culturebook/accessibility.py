"""Accessibility, from both ends: a theme and its layouts -> problems at `check` time (colour
contrast, skipped heading levels), and a finished PDF -> what a screen reader will meet (its
structure tree, read with pypdf).

`colour_uses` reads the text colours a filled layout draws, and the background under each, from
WeasyPrint's cascade (no layout); `check_contrast` holds them to WCAG AA.

`read_structure` is what the preflight checks `tags` and `archive` (preflight.py) and the tests
read: the headings in reading order with their text, the figures and their alternative text, the
languages of passages, and text drawn outside any tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from .errors import Location, Problems

# --- colour contrast (WCAG 2.x) -----------------------------------------------------------------

AA_BODY = 4.5  # WCAG AA for body text
AA_LARGE = 3.0  # for large text: 18 pt, or 14 pt bold


def luminance(colour: str) -> float:
    """WCAG relative luminance of an sRGB colour written #RRGGBB."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


PT = 4 / 3  # CSS px per pt
TRANSPARENT_PAGE = (1.0, 1.0, 1.0)  # nothing painted: the text is read on white
_TEXT_KINDS = ("before", "after")  # the pseudo-elements that can add text of their own
MARGIN_BOX = re.compile(r"@(top|bottom)-(left|center|right)(-corner)?|@(left|right)-(top|middle|bottom)")


@dataclass(frozen=True)
class ColourUse:
    """Text a layout draws: its colour, what it is drawn on, and where (for the author).

    `text` is the text colour as the stylesheet sets it (#RRGGBB) and `alpha` its opacity;
    `background` is what shows through behind it, every layer already composited over white.
    `text_var` and `background_var` are the theme colours the stylesheet named with
    var(--colour-NAME), when it did: they tell apart theme colours that share a value."""

    text: str
    background: str
    large: bool
    where: str  # e.g. ".label in booklet.html"
    alpha: float = 1.0
    text_var: str = ""
    background_var: str = ""


def check_contrast(brand, problems: Problems, uses: list[ColourUse] = (),
                   template_of=lambda where: None) -> None:
    """Each text colour the layouts draw (`uses`, from colour_uses), and each extra pair the
    theme lists under `contrast:`, meets WCAG AA against its background: 4.5:1 for body text, 3:1
    for large text. A failing pair of colours is one error at the text colour (its theme.yaml
    line, or for a colour written as a literal the stylesheet line that writes it), naming the
    first element that draws it; a pair used at both sizes is held to the stricter need.

    `template_of(where)` is the layout file a use's "where" names, for a literal colour that no
    stylesheet writes."""
    failing: dict[tuple[str, str], tuple[float, float, ColourUse]] = {}
    for use in list(uses) + _listed_pairs(brand, problems):
        drawn = blend(use.text, use.alpha, use.background)
        need = AA_LARGE if use.large else AA_BODY
        ratio = contrast(drawn, use.background)
        key = (_label(brand, use.text, use.text_var, use.alpha),
               _label(brand, use.background, use.background_var))
        if ratio < need and (key not in failing or need > failing[key][0]):
            failing[key] = (need, ratio, use)  # the first use of the strictest need
    for (text, background), (need, ratio, use) in failing.items():
        kind = "body text" if need == AA_BODY else "large text"
        name = _name(brand, use.text, use.text_var)
        where = f", e.g. {use.where}" if use.where else ""
        location = (brand.colour_location(name) if name
                    else _literal_location(brand, use.text, template_of(use.where)))
        problems.error(location,
                       f"colour {text} on {background} has a contrast of {ratio:.2f}:1; {kind} "
                       f"needs {need:g}:1 (WCAG AA){where}",
                       f"darken or lighten {_short(text)} or {_short(background)} until they "
                       "differ enough")


def _listed_pairs(brand, problems: Problems) -> list[ColourUse]:
    """The extra pairs under `contrast:` in theme.yaml (text the cascade cannot see: over an
    image, in a positioned overlay); a name that is not a colour is an error."""
    pairs = []
    for pair in brand.contrast:
        text, background = pair["text"], pair["background"]
        missing = [name for name in (text, background) if name not in brand.colours]
        if missing:
            problems.error(brand.setting_location("contrast"),
                           f"contrast: no colour '{missing[0]}' in colours",
                           f"the colours are: {', '.join(brand.colours)}")
            continue
        pairs.append(ColourUse(brand.colours[text].upper(), brand.colours[background].upper(),
                               pair.get("size") == "large", "", text_var=text,
                               background_var=background))
    return pairs


def _name(brand, colour: str, var: str = "") -> str:
    """The theme colour named `colour` (#RRGGBB): the one the stylesheet wrote, when several
    share the value; "" for a colour that is not the theme's."""
    names = [n for n, value in brand.colours.items() if value.upper() == colour.upper()]
    return var if var in names else (names[0] if names else "")


def _label(brand, colour: str, var: str = "", alpha: float = 1.0) -> str:
    """How a message names a colour: 'muted' (#8E98A8), or the literal #8E98A8."""
    name = _name(brand, colour, var)
    label = f"'{name}' ({colour})" if name else colour
    return label + (f" at {alpha:.0%} opacity" if alpha < 1 else "")


def _short(label: str) -> str:
    """A colour's label without its value: 'muted', or the literal itself."""
    return label.split(" (")[0].split(" at ")[0]


def _literal_location(brand, colour: str, template: Path | None) -> Location:
    """Where a colour that is not a theme colour is written: the first stylesheet line of the
    theme that writes it (#RRGGBB, or #RGB when it has a short form), else the layout."""
    forms = [colour.lower()]
    if all(colour[i] == colour[i + 1] for i in (1, 3, 5)):
        forms.append(f"#{colour[1]}{colour[3]}{colour[5]}".lower())
    pattern = re.compile("|".join(re.escape(f) for f in forms) + r"(?![0-9a-f])", re.IGNORECASE)
    for directory in brand.dirs:
        for sheet in sorted(directory.rglob("*.css")):
            for n, line in enumerate(sheet.read_text(encoding="utf-8").splitlines(), 1):
                if match := pattern.search(line):
                    return Location(sheet, n, match.start() + 1)
    return Location(template or brand.dirs[0])


def blend(colour: str, alpha: float, background: str) -> str:
    """A #RRGGBB colour at `alpha` opacity drawn over an opaque #RRGGBB background."""
    if alpha >= 1:
        return colour.upper()
    mixed = [alpha * int(colour[i:i + 2], 16) + (1 - alpha) * int(background[i:i + 2], 16)
             for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c):02X}" for c in mixed)


# --- the colours a document draws, from WeasyPrint's cascade (no layout) ---------------------


def colour_uses(document, style_for, template: str) -> list[ColourUse]:
    """Every text colour a filled layout draws and the background under it, from the computed
    styles of a WeasyPrint HTML `document` (`style_for`, from get_all_computed_styles): each
    element with text of its own (its text, or a child's tail), each ::before/::after with text
    content, and each page margin box with content (running heads, folios) on every kind of
    page the document uses.

    The background is the nearest background colour of the element or its ancestors, else that
    of the @page the element lands on (its nearest named `page:`), else white; translucent
    layers are composited. Text whose nearest background is an image is left out: its contrast
    cannot be known from the styles (list it under `contrast:` in theme.yaml)."""
    from weasyprint.layout.page import PageType, set_page_type_computed_styles

    root = document.etree_element
    parents = {child: parent for parent in root.iter() for child in parent}
    pages: dict[tuple, object] = {}

    def page_style(name: str, side: str, blank: bool = False):
        key = (name, side, blank)
        if key not in pages:
            page_type = PageType(side, blank, name, 1, ())
            set_page_type_computed_styles(page_type, document, style_for)
            pages[key] = page_type
        return pages[key]

    uses: list[ColourUse] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        chain = [element]
        while chain[-1] in parents:
            chain.append(parents[chain[-1]])
        styles = [style_for(e) for e in chain]
        if any(s is None or s["display"] == ("none",) for s in styles):
            continue
        name = next((s["page"] for s in styles if s["page"] not in ("", "auto")), "")
        page_types = {page_style(name, side) for side in ("left", "right")}
        where = f"{_describe(element, chain)} in {template}"
        if _has_own_text(element):
            for page_type in page_types:
                _add_use(uses, styles[0], styles + [style_for(page_type)], where)
        for kind in _TEXT_KINDS:
            pseudo = style_for(element, kind)
            if pseudo is not None and _draws_text(pseudo["content"]):
                for page_type in page_types:
                    _add_use(uses, pseudo, [pseudo] + styles + [style_for(page_type)],
                             f"{_describe(element, chain)}::{kind} in {template}")
    names = {s["page"] for s in (style_for(e) for e in root.iter() if isinstance(e.tag, str))
             if s is not None and s["page"] not in ("auto",)} | {""}
    for name in sorted(names):
        for side in ("left", "right"):
            for blank in (False, True):
                page_type = page_style(name, side, blank)
                for (owner, kind), box in list(style_for.get_computed_styles().items()):
                    if owner == page_type and MARGIN_BOX.fullmatch(kind or "") and \
                            _draws_text(box["content"]):
                        page = f"@page {name} " if name else "@page "
                        _add_use(uses, box, [box, style_for(page_type)],
                                 f"{page}{kind} in {template}")
    first = {}
    for use in uses:  # one use of each pair of colours, the first in the document
        first.setdefault(replace(use, where=""), use)
    return list(first.values())


def _add_use(uses: list[ColourUse], style, layers: list, where: str) -> None:
    """Add the text drawn in `style` over the backgrounds of `layers` (itself first, the page
    last), unless it is hidden or its background is an image."""
    if style["visibility"] != "visible":
        return
    background = _backdrop(layers)
    colour = _rgba(style["color"])
    if background is None or colour is None:
        return
    size = style["font_size"] / PT
    large = size >= 18 - 1e-6 or (size >= 14 - 1e-6 and style["font_weight"] >= 700)
    uses.append(ColourUse(_hex(colour[:3]), _hex(background), large, where, round(colour[3], 3),
                          _colour_var(style, "color"), _background_var(layers)))


def _backdrop(layers: list) -> tuple[float, float, float] | None:
    """The opaque colour behind text: the background colours of `layers` (nearest first) down to
    the first opaque one, composited over white; None when an image comes first."""
    found = []
    for style in layers:
        if any(kind != "none" for kind, _ in style["background_image"]):
            return None
        colour = _rgba(style["color"] if style["background_color"] == "currentcolor"
                       else style["background_color"])
        if colour is not None and colour[3] > 0:
            found.append(colour)
            if colour[3] >= 1:
                break
    out = TRANSPARENT_PAGE
    for *rgb, alpha in reversed(found):
        out = tuple(alpha * c + (1 - alpha) * o for c, o in zip(rgb, out, strict=True))
    return out


def _background_var(layers: list) -> str:
    """The theme colour named by the nearest background that is painted, if it used a var()."""
    for style in layers:
        colour = _rgba(style["background_color"]) if style["background_color"] != "currentcolor" \
            else None
        if colour is not None and colour[3] > 0:
            return _colour_var(style, "background_color")
    return ""


def _colour_var(style, key: str) -> str:
    """The NAME of var(--colour-NAME) in the declaration that gives `style` its `key`, looking
    up the ancestors for an inherited property; "" if it is written some other way."""
    while style is not None:
        cascaded = getattr(style, "cascaded", {})
        if key in cascaded and cascaded[key][0] != "inherit":
            tokens = getattr(cascaded[key][0], "tokens", None) or []
            return next(iter(_vars(tokens)), "")
        if key != "color":
            return ""
        style = getattr(style, "parent_style", None)
    return ""


def _vars(tokens) -> list[str]:
    """The theme colours named in var(--colour-NAME) functions among CSS tokens (nested too)."""
    found = []
    for token in tokens:
        if getattr(token, "type", "") == "function":
            if token.lower_name == "var":
                name = next((t.value for t in token.arguments if t.type == "ident"), "")
                if name.startswith("--colour-"):
                    found.append(name[len("--colour-"):])
            found += _vars(token.arguments)
    return found


def _rgba(colour) -> tuple[float, float, float, float] | None:
    """A computed colour as sRGB red, green, blue and alpha (0 to 1); None if it is not one."""
    try:
        srgb = colour.to("srgb")
    except (AttributeError, NotImplementedError, KeyError, ValueError):
        return None
    red, green, blue = (min(1.0, max(0.0, c or 0)) for c in srgb.coordinates)
    return red, green, blue, colour.alpha


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(c * 255):02X}" for c in rgb)


def _has_own_text(element) -> bool:
    """Whether an element holds text itself (not only through its children)."""
    return bool((element.text or "").strip()) or any((c.tail or "").strip() for c in element)


def _draws_text(content) -> bool:
    """Whether a computed `content` puts text on the page (not normal/none or only "")."""
    if isinstance(content, str):
        return False
    return any(kind != "string" or str(value).strip() for kind, value in content)


def _describe(element, chain: list) -> str:
    """An element as a selector an author recognises: its first class, else its tag after the
    nearest ancestor's first class (`.letter-note footer`), else its tag. `chain` is the element
    and its ancestors, nearest first."""
    def first_class(e) -> str:
        classes = (e.get("class") or "").split()
        return f".{classes[0]}" if classes else ""

    if first_class(element):
        return first_class(element)
    named = next((first_class(e) for e in chain[1:] if first_class(e)), "")
    return f"{named} {element.tag}" if named else element.tag


# --- headings in the layouts -----------------------------------------------------------------


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []  # level, the start tag as written

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self.found.append((int(tag[1]), self.get_starttag_text() or f"<{tag}"))


def heading_levels(html: str) -> list[tuple[int, str]]:
    """The headings of an HTML document in order: (level, start tag)."""
    parser = _Headings()
    parser.feed(html)
    return parser.found


def check_heading_levels(html: str, template: Path, sources: list[Path],
                         problems: Problems) -> None:
    """A document's headings start at h1 and never skip a level going down (h2 then h4); the
    first skip is an error at the template line that writes the heading."""
    level = 0
    for found, tag in heading_levels(html):
        if found > level + 1:
            what = f"<h{found}> follows <h{level}>" if level else f"the first heading is <h{found}>"
            problems.error(_tag_location(tag, found, [template, *sources]),
                           f"heading level skipped in {template.name}: {what}",
                           f"use <h{level + 1}> here, so that a screen reader's outline has no "
                           "gap")
            return
        level = found


def _tag_location(tag: str, level: int, files: list[Path]) -> Location:
    """Where a rendered start tag is written in the layouts: the line with the same tag and
    class, else the first <hN of that level."""
    klass = re.search(r'class="([^"]*)"', tag)
    needles = ([f'<h{level} class="{klass[1]}"'] if klass else []) + [f"<h{level}"]
    for needle in needles:
        for path in files:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            for n, line in enumerate(lines, 1):
                if needle in line:
                    return Location(path, n, line.index(needle) + 1)
    return Location(files[0])


# --- a PDF's structure tree ------------------------------------------------------------------


@dataclass
class Structure:
    """What a tagged PDF tells a screen reader, in reading order."""

    marked: bool = False  # /MarkInfo /Marked true
    lang: str = ""  # the catalog's /Lang
    display_title: bool = False  # /ViewerPreferences /DisplayDocTitle true
    tree: bool = False  # a /StructTreeRoot with elements
    headings: list[tuple[int, str]] = field(default_factory=list)  # (level, text)
    figures: list[str | None] = field(default_factory=list)  # each /Figure's /Alt (None: none)
    languages: list[tuple[str, str]] = field(default_factory=list)  # (text, /Lang) of passages
    untagged: dict[int, int] = field(default_factory=dict)  # page (1-based) -> text runs untagged
    tags: list[str] = field(default_factory=list)  # every structure type, in order
    text: str = ""  # all the tagged text, in reading order (empty when read without text)


def read_structure(reader, text: bool = True) -> Structure:
    """Read the structure tree of a PDF (a pypdf PdfReader) and the marked content of its pages.

    Without `text`, the text of headings and passages is left empty and the pages are only
    tokenised (about 20 times quicker: what preflight does on every file a build writes)."""
    root = reader.trailer["/Root"].get_object()
    info = Structure()
    mark = _get(root, "/MarkInfo")
    info.marked = bool(mark is not None and _get(mark, "/Marked") in (True, "true"))
    info.lang = str(_get(root, "/Lang") or "")
    prefs = _get(root, "/ViewerPreferences")
    info.display_title = bool(prefs is not None and _get(prefs, "/DisplayDocTitle") in (True, "true"))
    pages = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    texts: dict[int, dict[int, str]] = {}
    for number, page in enumerate(reader.pages):
        if text:
            texts[number], untagged = _marked_text(page)
        else:
            contents = page.get_contents()
            untagged = _untagged_operators(contents.get_data() if contents is not None else b"")
        if untagged:
            info.untagged[number + 1] = untagged
    tree = _get(root, "/StructTreeRoot")
    if tree is None:
        return info

    def text_of(element, page: int | None) -> str:
        if _get(element, "/ActualText") is not None:
            return str(_get(element, "/ActualText"))
        out = []
        kids = _get(element, "/K")
        page = _page_of(element, pages, page)
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, int):
                out.append(texts.get(page, {}).get(kid, ""))
            elif isinstance(kid, dict) and _get(kid, "/Type") == "/MCR":
                out.append(texts.get(_page_of(kid, pages, page), {}).get(int(kid["/MCID"]), ""))
            elif isinstance(kid, dict) and "/S" in kid:
                out.append(text_of(kid, page))
        return "".join(out)

    def walk(element, page: int | None) -> None:
        kids = _get(element, "/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if not isinstance(kid, dict) or "/S" not in kid:
                continue
            kind = str(kid["/S"])[1:]
            info.tags.append(kind)
            kid_page = _page_of(kid, pages, page)
            if re.fullmatch(r"H[1-6]", kind):
                info.headings.append((int(kind[1]), " ".join(text_of(kid, kid_page).split())))
            if kind == "Figure":
                alt = _get(kid, "/Alt")
                info.figures.append(str(alt) if alt is not None else None)
            if _get(kid, "/Lang") is not None:
                info.languages.append((" ".join(text_of(kid, kid_page).split()),
                                       str(_get(kid, "/Lang"))))
            walk(kid, kid_page)

    walk(tree, None)
    info.tree = bool(info.tags)
    if text:
        info.text = text_of(tree, None)
    return info


def _get(obj, key):
    value = obj.get(key) if hasattr(obj, "get") else None
    return value.get_object() if hasattr(value, "get_object") else value


def _page_of(element, pages: dict[int, int], default: int | None) -> int | None:
    ref = element.get("/Pg") if hasattr(element, "get") else None
    return pages.get(ref.idnum, default) if ref is not None and hasattr(ref, "idnum") else default


def _marked_text(page) -> tuple[dict[int, str], int]:
    """The text of each marked-content id on a page, and how many text-showing operators draw
    outside any marked content (neither tagged nor an artifact)."""
    stack: list[int | None] = []
    texts: dict[int, list[str]] = {}
    untagged = 0

    def before(operator, operands, cm, tm):
        nonlocal untagged
        if operator == b"BDC":
            props = operands[1] if len(operands) > 1 else None
            props = props.get_object() if hasattr(props, "get_object") else props
            mcid = props.get("/MCID") if isinstance(props, dict) else None
            stack.append(int(mcid) if mcid is not None else -1)
        elif operator == b"BMC":
            stack.append(-1)
        elif operator == b"EMC" and stack:
            stack.pop()
        elif operator in (b"Tj", b"TJ", b"'", b'"') and not stack:
            untagged += 1

    def text(value, cm, tm, font, size):
        mcid = next((m for m in reversed(stack) if m is not None and m >= 0), None)
        if mcid is not None and value:
            texts.setdefault(mcid, []).append(value)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return {k: "".join(v) for k, v in texts.items()}, untagged


def _untagged_operators(data: bytes) -> int:
    """How many text-showing operators of a content stream draw outside marked content."""
    from .pdfscan import _TOKEN

    depth = untagged = 0
    for match in _TOKEN.finditer(data):
        operator = match["o"]
        if operator is None:
            continue
        if operator in (b"BDC", b"BMC"):
            depth += 1
        elif operator == b"EMC":
            depth = max(0, depth - 1)
        elif operator in (b"Tj", b"TJ", b"'", b'"') and not depth:
            untagged += 1
    return untagged
