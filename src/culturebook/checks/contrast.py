"""Text contrast against its background (WCAG AA), for the theme and the layouts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from culturebook.errors import Location, Problems
from culturebook.render.colours import ColourUse, blend

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


def check_contrast(brand, problems: Problems, uses: Iterable[ColourUse] = (),
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
