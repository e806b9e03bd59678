"""Colour on press: CMYK percentages -> CIELAB through a CMYK output profile, sRGB -> CIELAB, and ΔE2000.

A screen colour (#RRGGBB, sRGB) becomes CIELAB D50 by the sRGB formulas (IEC 61966-2-1, adapted to
D50 with the Bradford matrix the ICC's sRGB profile uses), in floating point. A CMYK colour becomes
CIELAB D50 through the output profile with LittleCMS (PIL.ImageCms), relative colorimetric: the
paper's white is L* 100, as the screen's white is, because a reader's eye adapts to the white of
the medium it looks at (absolute colorimetric would add the paper's own tint to every colour, so
that even blank paper would differ from the screen's white). LittleCMS's 8-bit Lab is the only
float-free Lab PIL offers: L* comes in steps of 0.4 and a*, b* in steps of 1, so a ΔE2000 from it is
good to about ±0.5. `closest` finds the CMYK (whole percent, within a total ink limit) that prints
nearest a screen colour: the profile's own separation, then a local search on ΔE2000.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path

Lab = tuple[float, float, float]
CMYK = tuple[float, float, float, float]

# sRGB (linear) -> XYZ D50: the sRGB primaries adapted from D65 with the Bradford transform.
_SRGB_D50 = ((0.4360747, 0.3850649, 0.1430804),
             (0.2225045, 0.7168786, 0.0606169),
             (0.0139322, 0.0971045, 0.7141733))
_D50 = (0.96422, 1.0, 0.82521)


def parse_cmyk(text: str) -> CMYK:
    """'100 62 0 0' (percent, as theme.yaml writes it) -> (100.0, 62.0, 0.0, 0.0)."""
    c, m, y, k = (float(v) for v in str(text).split())
    return c, m, y, k


def cmyk_text(cmyk: CMYK) -> str:
    """(100.0, 62.0, 0.0, 0.0) -> '100 62 0 0'."""
    return " ".join(f"{v:g}" for v in cmyk)


def total_ink(cmyk: CMYK) -> float:
    """Total area coverage, C+M+Y+K in percent."""
    return sum(cmyk)


def srgb_lab(colour: str) -> Lab:
    """A screen colour #RRGGBB as CIELAB D50."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    xyz = [sum(m * c for m, c in zip(row, linear, strict=True)) for row in _SRGB_D50]
    return _lab(xyz)


def _lab(xyz: list[float]) -> Lab:
    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = (f(v / w) for v, w in zip(xyz, _D50, strict=True))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e2000(lab1: Lab, lab2: Lab) -> float:
    """CIEDE2000 colour difference (kL = kC = kH = 1), as Sharma, Wu and Dalal (2005) write it."""
    L1, a1, b1 = lab1
    L2, a2, b2 = lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean ** 7 / (c_mean ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dLp, dCp = L2 - L1, c2p - c1p
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    else:
        dhp = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    dHp = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp) / 2)
    Lp, Cp = (L1 + L2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hp = (h1p + h2p) / 2
    else:
        hp = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hp - 30)) + 0.24 * math.cos(math.radians(2 * hp))
         + 0.32 * math.cos(math.radians(3 * hp + 6)) - 0.20 * math.cos(math.radians(4 * hp - 63)))
    d_theta = 30 * math.exp(-(((hp - 275) / 25) ** 2))
    rc = 2 * math.sqrt(Cp ** 7 / (Cp ** 7 + 25 ** 7))
    sl = 1 + 0.015 * (Lp - 50) ** 2 / math.sqrt(20 + (Lp - 50) ** 2)
    sc = 1 + 0.045 * Cp
    sh = 1 + 0.015 * Cp * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt((dLp / sl) ** 2 + (dCp / sc) ** 2 + (dHp / sh) ** 2
                     + rt * (dCp / sc) * (dHp / sh))


@dataclass(frozen=True)
class Match:
    """How a CMYK colour prints against a screen colour."""

    cmyk: CMYK
    delta_e: float


class Press:
    """A CMYK output profile: what CMYK values print as, and which come closest to a screen colour.
    A profile LittleCMS cannot use is a ValueError."""

    def __init__(self, profile: Path | bytes):
        from PIL import ImageCms

        relative = ImageCms.Intent.RELATIVE_COLORIMETRIC
        try:
            cmyk = ImageCms.ImageCmsProfile(io.BytesIO(profile) if isinstance(profile, bytes)
                                            else str(profile))
            lab = ImageCms.createProfile("LAB")  # D50
            self._to_lab = ImageCms.buildTransform(cmyk, lab, "CMYK", "LAB",
                                                   renderingIntent=relative)
            self._from_srgb = ImageCms.buildTransform(
                ImageCms.createProfile("sRGB"), cmyk, "RGB", "CMYK", renderingIntent=relative,
                flags=ImageCms.Flags.BLACKPOINTCOMPENSATION)
        except ImageCms.PyCMSError as exc:  # a damaged or unsupported profile
            raise ValueError(f"not a usable CMYK profile: {exc}") from None

    def labs(self, colours: list[CMYK]) -> list[Lab]:
        """What each CMYK colour (percent) prints as, CIELAB D50 relative to the paper."""
        from PIL import Image, ImageCms

        image = Image.new("CMYK", (len(colours), 1))
        image.putdata([tuple(round(v * 2.55) for v in c) for c in colours])
        out = ImageCms.applyTransform(image, self._to_lab)
        assert out is not None  # applyTransform returns None only in place
        return [(L * 100 / 255, a - 128, b - 128) for L, a, b in out.get_flattened_data()]

    def lab(self, cmyk: CMYK) -> Lab:
        return self.labs([cmyk])[0]

    def separation(self, colour: str) -> CMYK:
        """The profile's own CMYK for a screen colour (relative colorimetric, black point
        compensation), in whole percent."""
        from PIL import Image, ImageCms

        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        out = ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), self._from_srgb)
        assert out is not None
        c, m, y, k = (round(v / 2.55) for v in out.getpixel((0, 0)))
        return float(c), float(m), float(y), float(k)

    def delta_e(self, colour: str, cmyk: CMYK) -> float:
        """ΔE2000 between a screen colour and what `cmyk` prints as."""
        return delta_e2000(srgb_lab(colour), self.lab(cmyk))

    def closest(self, colour: str, limit: float = 300.0,
                inks: tuple[bool, ...] | None = None) -> Match:
        """The whole-percent CMYK within the total ink `limit` that prints nearest the screen
        colour, using only the `inks` marked True (default: all four), from the profile's own
        separation (see closest_lab)."""
        return self.closest_lab(srgb_lab(colour), self.separation(colour), limit, inks)

    def closest_lab(self, target: Lab, start: CMYK, limit: float = 300.0,
                    inks: tuple[bool, ...] | None = None) -> Match:
        """The whole-percent CMYK within `limit` that prints nearest `target`, using only the
        `inks` marked True: from `start`, steps of 8, 4, 2 and 1 % on one ink at a time while
        ΔE2000 falls; then each ink under 5 % is left out if that costs less than 0.3 (fewer
        inks print cleaner)."""
        usable = inks or (True,) * 4
        best = _fit(tuple(round(v) if usable[i] else 0.0 for i, v in enumerate(start)), limit)
        best_de = delta_e2000(target, self.lab(best))
        for step in (8, 4, 2, 1):
            while True:
                tries = [_fit(tuple(min(100.0, max(0.0, v + d * step)) if i == ink else v
                                    for i, v in enumerate(best)), limit)  # type: ignore[arg-type]
                         for ink in range(4) for d in (-1, 1) if usable[ink]]
                scored = [(delta_e2000(target, lab), c) for c, lab in zip(tries, self.labs(tries),
                                                                          strict=True)]
                de, cmyk = min(scored)
                if de >= best_de - 1e-9:
                    break
                best, best_de = cmyk, de
        for ink in range(4):
            if 0 < best[ink] < 5:
                lean = tuple(0.0 if i == ink else v for i, v in enumerate(best))
                de = delta_e2000(target, self.lab(lean))  # type: ignore[arg-type]
                if de < best_de + 0.3:
                    best, best_de = lean, de  # type: ignore[assignment]
        return Match(best, best_de)


def _fit(cmyk, limit: float) -> CMYK:
    """`cmyk` with black kept and the other inks scaled down until C+M+Y+K is within `limit`."""
    c, m, y, k = cmyk
    over = c + m + y + k - limit
    if over > 0 and c + m + y > 0:
        scale = max(0.0, (c + m + y - over) / (c + m + y))
        c, m, y = (math.floor(v * scale) for v in (c, m, y))
    return float(c), float(m), float(y), float(k)


@functools.lru_cache(maxsize=8)
def press(profile: Path | bytes) -> Press:
    """The Press of a profile (a file, or its bytes: a PDF's output intent), built once per process."""
    return Press(profile)
