"""The text colours a laid-out document draws, and on what background."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

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


def blend(colour: str, alpha: float, background: str) -> str:
    """A #RRGGBB colour at `alpha` opacity drawn over an opaque #RRGGBB background."""
    if alpha >= 1:
        return colour.upper()
    mixed = [alpha * int(colour[i:i + 2], 16) + (1 - alpha) * int(background[i:i + 2], 16)
             for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c):02X}" for c in mixed)


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
