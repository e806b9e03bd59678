"""The theme's print colours on press: each CMYK colour's total ink against the ink limit, and ΔE2000
between the screen colour and what its CMYK prints as under the output profile.

`colour_report` measures every theme colour that has a CMYK equivalent (`check` prints it as a
table); `check_print_colours` turns the report into problems at each colour's line under
print: colours: in theme.yaml: an error for an ink over 100 % or a total over print.ink-limit, a
warning for a colour that prints more than print.delta-e-warn from its screen colour when other
values of the same inks would print at least 1 ΔE2000 closer (the hint names them). The closest
values keep the inks the theme chose: a designer who set text in black alone, or a blue without
yellow, chose that on purpose (one ink registers sharp at small sizes); a colour that no values of
its inks reach is only reported in the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from culturebook.errors import Location, Problems
from culturebook.pdf.icc import CMYK, Press, cmyk_text, parse_cmyk, press, total_ink

MIN_GAIN = 1.0  # ΔE2000 that other values of the same inks must gain for a warning


@dataclass(frozen=True)
class PrintColour:
    """One theme colour on press: its screen and CMYK values and how far apart they print."""

    name: str
    screen: str  # #RRGGBB
    cmyk: CMYK
    delta_e: float | None  # None without an output profile
    closest: CMYK | None = None  # the same inks' values that print nearest the screen colour
    closest_delta_e: float | None = None

    @property
    def total(self) -> float:
        return total_ink(self.cmyk)


def ink_limit(brand) -> float:
    """print.ink-limit in percent (300 unless the theme says otherwise)."""
    return float(str(brand.print.get("ink-limit") or "300%").rstrip("%"))


def delta_e_warn(brand) -> float:
    """print.delta-e-warn: the ΔE2000 above which a print colour is a warning."""
    return float(brand.print.get("delta-e-warn") or 5)


def colour_report(brand) -> list[PrintColour]:
    """Each theme colour with CMYK values, measured through the theme's output profile (with no
    profile, ΔE is not known and only the inks are reported)."""
    on_press = usable_press(brand)
    cmyk = brand.print.get("colours") or {}
    rows = []
    for name, screen in brand.colours.items():
        if name not in cmyk:
            continue  # missing CMYK is the build plan's problem to report
        values = parse_cmyk(str(cmyk[name]))
        if on_press is None or max(values) > 100:
            rows.append(PrintColour(name, screen.upper(), values, None))
            continue
        closest = on_press.closest(screen, ink_limit(brand), tuple(v > 0 for v in values)
                                   if any(values) else None)
        rows.append(PrintColour(name, screen.upper(), values, on_press.delta_e(screen, values),
                                closest.cmyk, closest.delta_e))
    return rows


def usable_press(brand) -> Press | None:
    """The theme's output profile as a Press, or None without one (or with one LittleCMS cannot
    use: check_print_colours reports it)."""
    profile = brand.output_profile()
    if profile is None:
        return None
    try:
        return press(Path(profile))
    except (OSError, ValueError):  # unreadable, or not a profile LittleCMS can use
        return None


def check_print_colours(brand, problems: Problems) -> list[PrintColour]:
    """Problems of the theme's print colours, at their lines in theme.yaml; returns the report."""
    if brand.output_profile() is not None and usable_press(brand) is None:
        problems.error(brand.setting_location("output-profile"), f"output profile "
                       f"'{brand.print.get('output-profile')}' cannot be read as a colour profile",
                       "ask the print shop for the profile again: this copy is damaged")
    rows = colour_report(brand)
    limit, warn = ink_limit(brand), delta_e_warn(brand)
    condition = str(brand.print.get("output-condition") or "the output profile")
    for row in rows:
        where = print_colour_location(brand, row.name)
        label = f"print colour '{row.name}' ({cmyk_text(row.cmyk)})"
        if max(row.cmyk) > 100:
            problems.error(where, f"{label} has an ink over 100 %",
                           "each of cyan, magenta, yellow and black is 0 to 100")
        elif row.total > limit:
            problems.error(where, f"{label} lays down {row.total:g} % of ink; the limit is "
                           f"{limit:g} % (print.ink-limit)",
                           "take cyan, magenta and yellow down until the total is within the limit")
        elif (row.delta_e is not None and row.delta_e > warn and row.closest is not None
              and row.closest_delta_e is not None
              and row.delta_e - row.closest_delta_e >= MIN_GAIN):
            problems.warn(where, f"{label} prints {row.delta_e:.1f} ΔE2000 from {row.screen} on "
                          f"{condition} (print.delta-e-warn is {warn:g})",
                          f"{cmyk_text(row.closest)} comes closest with the same inks "
                          f"(ΔE2000 {row.closest_delta_e:.1f})")
    return rows


def print_colour_location(brand, name: str) -> Location:
    """Where a print colour is written: its line under print: colours: in the first theme that
    sets it (else where print: is)."""
    key = re.compile(rf"^(\s+){re.escape(name)}\s*:")
    for manifest in brand.files:
        section = ""
        for n, line in enumerate(Path(manifest).read_text(encoding="utf-8").splitlines(), 1):
            if line and not line[0].isspace() and not line.startswith("#"):
                section = line.split(":", 1)[0].strip()
                block = False
            elif section == "print" and line.strip().startswith("colours:"):
                block, indent = True, len(line) - len(line.lstrip())
            elif section == "print" and block and line.strip() and not line.lstrip().startswith("#"):
                match = key.match(line)
                if len(line) - len(line.lstrip()) <= indent:
                    block = False
                elif match:
                    return Location(Path(manifest), n, len(match[1]) + 1)
    return brand.setting_location("print")
