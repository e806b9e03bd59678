"""Ink on a print PDF's pages -> findings: total ink over the limit, small text and hairlines in
several inks, rich black in small text, and CMYK images whose pixels carry more ink than the limit.

Each page's content (and the forms it draws) is walked with pdf.tokens, tracking the CTM, the text
matrix and size, the line width and the fill and stroke colours set in DeviceCMYK (k/K, or
cs/CS then sc/scn in DeviceCMYK or a four-channel ICCBased space; g/G as black alone). Paint that lies
wholly outside the bleed box is left alone: it is the slug, where pdf.prepress draws the crop and
registration marks in registration colour (1 1 1 1 K, 400 %) on purpose, and the trimmer cuts it
off. A colour that is one of the theme's print colours is named ('muted' (30 15 0 62)), else by
its values. Two inks in small text are accepted (a brand blue needs cyan and magenta); three or more,
or rich black, are not. Inline images are not measured (WeasyPrint writes none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from culturebook.pdf.icc import Press, press
from culturebook.pdf.scan import Document, entry, page_box
from culturebook.pdf.tokens import INLINE_IMAGE, TOKEN, split_inline_images
from culturebook.preflight.expect import Expect, Finding, page_runs

SMALL_TEXT_PT = 12.0  # text set smaller than this is in one or two inks, never rich black
TEXT_INKS = 3  # small text in this many inks or more is a warning (a brand colour takes two)
HAIRLINE_PT = 0.5  # lines (and filled rules) this thin or thinner should be one ink
FEW = 5.0  # an ink at this % or less barely shows when it misregisters
RICH_BLACK_K = 90.0  # K at or above this with any C, M or Y is a rich black
IMAGE_SHARE = 1e-4  # an image is over the limit when more than this share of its pixels is
_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_FILL = frozenset((b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"))
_STROKE = frozenset((b"S", b"s", b"B", b"B*", b"b", b"b*"))
_PATH = {b"m": 2, b"l": 2, b"c": 6, b"v": 4, b"y": 4}


@dataclass
class _State:
    ctm: tuple = _IDENTITY
    fill: tuple | None = None  # CMYK in percent, or None for a colour that is not CMYK
    stroke: tuple | None = None
    fill_cmyk: bool = False  # the fill colour space is CMYK (for sc/scn)
    stroke_cmyk: bool = False
    width: float = 1.0
    size: float = 0.0
    clip: float = math.inf  # the thinnest clipping path's width (pt): a border WeasyPrint fills


@dataclass
class _Found:
    over: dict = field(default_factory=dict)  # colour -> pages
    text: dict = field(default_factory=dict)  # (colour, size) -> pages
    lines: dict = field(default_factory=dict)  # (colour, width) -> pages
    images: dict = field(default_factory=dict)  # label -> (pages, tac, pixels)


def check_inks(doc: Document, expect: Expect) -> list[Finding]:
    """Print editions: the ink findings of every page (see the module docstring)."""
    if not expect.print:
        return []
    found = _Found()
    tac_of: dict[object, float] = {}
    for number, page in enumerate(doc.pages, 1):
        trim = (page_box(page, "/BleedBox") or page_box(page, "/TrimBox")
                or page_box(page, "/MediaBox"))
        walk = _Walk(number, trim, found, tac_of, IMAGE_SHARE)
        contents = page.get_contents()
        walk.run(contents.get_data() if contents is not None else b"", entry(page, "/Resources") or {},
                 _State(), ())
    names = {tuple(float(v) for v in cmyk): name for name, cmyk in expect.print_colours}

    def label(cmyk: tuple) -> str:
        values = " ".join(f"{v:g}" for v in cmyk)
        return f"'{names[cmyk]}' ({values})" if cmyk in names else f"CMYK {values}"

    limit = expect.ink_limit
    findings = []
    for cmyk, pages in found.over.items():
        if sum(cmyk) > limit:
            findings.append(Finding("inks", True, _one(pages), f"{_pages(pages)}: {label(cmyk)} "
                                    f"lays down {sum(cmyk):g} % of ink; the limit is {limit:g} %"))
    for label_key, (pages, tac, pixels) in found.images.items():
        if tac > limit:
            findings.append(Finding("inks", True, _one(pages), (
                f"{_pages(pages)}: image {label_key} reaches {tac:.0f} % of ink; the limit is "
                f"{limit:g} % (convert it with the output profile)"), pixels))
    for (cmyk, size), pages in sorted(found.text.items(), key=lambda i: (min(i[1]), i[0][1])):
        if cmyk[3] >= RICH_BLACK_K and sum(cmyk[:3]) > 0:
            what, fix = "rich black", "set small text in black alone, 0 0 0 100"
        else:
            what = f"{sum(v > FEW for v in cmyk)}-colour"
            fix = f"set text under {SMALL_TEXT_PT:g} pt in one or two inks" + _fewer(doc, cmyk, limit)
        findings.append(Finding("inks", False, _one(pages), (
            f"{_pages(pages)}: {what} {size:g} pt text in {label(cmyk)}: a registration risk; "
            f"{fix}")))
    for (cmyk, width), pages in sorted(found.lines.items(), key=lambda i: (min(i[1]), i[0][1])):
        findings.append(Finding("inks", False, _one(pages), (
            f"{_pages(pages)}: {width:g} pt line in {sum(v > FEW for v in cmyk)} inks, "
            f"{label(cmyk)}: a registration risk; draw hairlines in one ink")))
    return findings


def _fewer(doc: Document, cmyk: tuple, limit: float) -> str:
    """', e.g. 0 0 0 81 (ΔE2000 2.4)': the values in fewer inks (black alone for a grey, else the
    two strongest) that print nearest `cmyk` under the PDF's output intent; else a word of advice."""
    grey = cmyk[3] == max(cmyk)
    on_press = _intent_press(doc)
    if on_press is None:
        return " (a grey in black alone)" if grey else ""
    strongest = sorted(range(4), key=lambda i: -cmyk[i])[:1 if grey else 2]
    inks = tuple(i in strongest for i in range(4))
    match = on_press.closest_lab(on_press.lab(cmyk), cmyk, limit, inks)
    values = " ".join(f"{v:g}" for v in match.cmyk)
    return f", e.g. {values} (ΔE2000 {match.delta_e:.1f})"


def _intent_press(doc: Document) -> Press | None:
    """The CMYK profile of the PDF's output intent, or None."""
    for intent in entry(doc.reader.trailer["/Root"], "/OutputIntents") or []:
        profile = entry(intent.get_object(), "/DestOutputProfile")
        if profile is not None and entry(profile, "/N") == 4:
            try:
                return press(profile.get_data())
            except (ValueError, OSError):
                return None
    return None


def _one(pages: list[int]) -> int | None:
    return pages[0] if len(set(pages)) == 1 else None


def _pages(pages: list[int]) -> str:
    return f"page {pages[0]}" if len(set(pages)) == 1 else f"pages {page_runs(pages)}"


def _mult(m, n):
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _scale(m) -> float:
    """How much a matrix scales lengths, on average over directions."""
    return math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))


def _floats(operands: list, count: int) -> list[float] | None:
    try:
        values = [float(v) for v in operands[-count:]]
    except (TypeError, ValueError):
        return None
    return values if len(values) == count else None


def _cmyk(values: list[float] | None) -> tuple | None:
    return tuple(round(v * 100, 1) + 0.0 for v in values) if values else None


def _is_cmyk(space) -> bool:
    """DeviceCMYK, or an ICCBased space with four channels."""
    space = space.get_object() if hasattr(space, "get_object") else space
    if isinstance(space, str):
        return space in ("/DeviceCMYK", "/CMYK")
    if isinstance(space, list) and len(space) > 1 and str(space[0]) == "/ICCBased":
        return entry(space[1].get_object(), "/N") == 4
    return False


class _Walk:
    """One page's walk, adding what it finds to a `_Found`."""

    def __init__(self, page: int, trim, found: _Found, tac_of: dict, share: float):
        self.page, self.trim, self.found, self.tac_of, self.share = page, trim, found, tac_of, share

    def outside(self, box) -> bool:
        """Whether a page-space box lies wholly outside the bleed (the slug and its marks)."""
        if self.trim is None or box is None:
            return False
        x0, y0, x1, y1 = box
        tx0, ty0, tx1, ty1 = self.trim
        return x1 <= tx0 or x0 >= tx1 or y1 <= ty0 or y0 >= ty1

    def run(self, data: bytes, resources, state: _State, forms: tuple) -> None:
        pieces = split_inline_images(data) if INLINE_IMAGE.search(data) else [data]
        for piece in pieces:
            if isinstance(piece, bytes):
                self.tokens(piece, resources, state, forms)

    def tokens(self, data: bytes, resources, state: _State, forms: tuple) -> None:
        saved: list[_State] = []
        operands: list = []
        depth = 0
        tm: tuple = _IDENTITY
        path: list[float] | None = None
        thin = False  # the path so far is rectangles no wider than a hairline
        clipping = False  # W or W* seen: the path clips when it ends
        for match in TOKEN.finditer(data):
            kind = match.lastgroup or ""
            if kind != "o":
                if kind == "a":
                    depth += 1
                elif kind == "c":
                    depth -= 1
                elif kind != "k" and depth == 0:
                    operands.append(match[kind])
                continue
            op = match[kind]
            if depth:
                continue
            if op == b"q":
                saved.append(_State(**state.__dict__))
            elif op == b"Q":
                if saved:
                    state = saved.pop()
            elif op == b"cm":
                m = _floats(operands, 6)
                if m:
                    state.ctm = _mult(tuple(m), state.ctm)
            elif op in (b"k", b"K"):
                cmyk = _cmyk(_floats(operands, 4))
                if op == b"k":
                    state.fill, state.fill_cmyk = cmyk, True
                else:
                    state.stroke, state.stroke_cmyk = cmyk, True
            elif op in (b"g", b"G"):
                grey = _floats(operands, 1)
                cmyk = (0.0, 0.0, 0.0, round((1 - grey[0]) * 100, 1) + 0.0) if grey else None
                if op == b"g":
                    state.fill = cmyk
                else:
                    state.stroke = cmyk
            elif op in (b"rg", b"RG"):
                if op == b"rg":
                    state.fill = None
                else:
                    state.stroke = None
            elif op in (b"cs", b"CS"):
                name = operands[-1] if operands and isinstance(operands[-1], bytes) else b""
                space: object = name.decode("latin-1")
                if space not in ("/DeviceCMYK", "/DeviceRGB", "/DeviceGray", "/Pattern"):
                    table = entry(resources, "/ColorSpace") or {}
                    space = table.get(space) if hasattr(table, "get") else None
                four = _is_cmyk(space)
                black = (0.0, 0.0, 0.0, 100.0) if four else None  # the initial colour
                if op == b"cs":
                    state.fill_cmyk, state.fill = four, black
                else:
                    state.stroke_cmyk, state.stroke = four, black
            elif op in (b"sc", b"scn"):
                state.fill = _cmyk(_floats(operands, 4)) if state.fill_cmyk else None
            elif op in (b"SC", b"SCN"):
                state.stroke = _cmyk(_floats(operands, 4)) if state.stroke_cmyk else None
            elif op == b"w":
                w = _floats(operands, 1)
                if w:
                    state.width = w[0]
            elif op == b"BT":
                tm = _IDENTITY
            elif op == b"Tm":
                m = _floats(operands, 6)
                if m:
                    tm = tuple(m)
            elif op == b"Tf":
                size = _floats(operands, 1)
                state.size = abs(size[0]) if size else 0.0
            elif op in (b"Tj", b"TJ", b"'", b'"'):
                self.text(state, tm)
            elif op == b"re":
                v = _floats(operands, 4)
                if v:
                    x0, x1 = sorted((v[0], v[0] + v[2]))
                    y0, y1 = sorted((v[1], v[1] + v[3]))
                    thin = (path is None or thin) and \
                        min(x1 - x0, y1 - y0) * _scale(state.ctm) <= HAIRLINE_PT + 0.01
                    path = _grow(path, x0, y0, x1, y1)
            elif op in _PATH:
                v = _floats(operands, _PATH[op])
                if v:
                    path = _grow(path, min(v[0::2]), min(v[1::2]), max(v[0::2]), max(v[1::2]))
                    thin = False
            elif op in (b"W", b"W*"):
                clipping = True
            elif op in _FILL or op in _STROKE:
                box = _box(state.ctm, path) if path is not None else None
                if not self.outside(box):
                    if op in _FILL:
                        width = _box_thickness(box) if thin else state.clip
                        self.paint(state.fill, width <= HAIRLINE_PT + 0.01, width)
                    if op in _STROKE:
                        width = state.width * _scale(state.ctm)
                        self.paint(state.stroke, width <= HAIRLINE_PT + 0.01, width)
                path, thin, clipping = None, False, False
            elif op == b"n":
                if clipping and path is not None:
                    state.clip = min(state.clip, _box_thickness(_box(state.ctm, path)))
                path, thin, clipping = None, False, False
            elif op == b"Do":
                if operands and isinstance(operands[-1], bytes):
                    self.draw(operands[-1], resources, state, forms)
            operands = []

    def text(self, state: _State, tm) -> None:
        colour = state.fill
        if colour is None:
            return
        self.found.over.setdefault(colour, []).append(self.page)
        size = round(state.size * _scale(_mult(tm, state.ctm)), 1)
        inks = sum(v > FEW for v in colour)
        rich = colour[3] >= RICH_BLACK_K and sum(colour[:3]) > 0
        if 0 < size < SMALL_TEXT_PT and (inks >= TEXT_INKS or rich):
            self.found.text.setdefault((colour, size), []).append(self.page)

    def paint(self, colour, hairline: bool, width: float) -> None:
        if colour is None or not any(colour):
            return
        self.found.over.setdefault(colour, []).append(self.page)
        if hairline and sum(v > FEW for v in colour) > 1:
            self.found.lines.setdefault((colour, round(width, 2)), []).append(self.page)

    def draw(self, name: bytes, resources, state: _State, forms: tuple) -> None:
        table = entry(resources, "/XObject") or {}
        ref = table.get(name.decode("latin-1")) if hasattr(table, "get") else None
        if ref is None:
            return
        xobject = ref.get_object()
        key = ref.idnum if hasattr(ref, "idnum") else id(xobject)
        subtype = entry(xobject, "/Subtype")
        if subtype == "/Form" and key not in forms and len(forms) < 12:
            m = entry(xobject, "/Matrix")
            try:
                matrix = tuple(float(v) for v in m) if m is not None else _IDENTITY
            except (TypeError, ValueError):
                matrix = _IDENTITY
            inner = _State(**{**state.__dict__, "ctm": _mult(matrix, state.ctm)})
            self.run(xobject.get_data(), entry(xobject, "/Resources") or resources, inner,
                     forms + (key,))
        elif subtype == "/Image" and _is_cmyk(entry(xobject, "/ColorSpace")):
            if self.outside(_box(state.ctm, [0, 0, 1, 1])):
                return
            if key not in self.tac_of:
                self.tac_of[key] = image_ink(xobject, self.share)
            label = str(entry(xobject, "/Name") or name.decode("latin-1")).lstrip("/")
            if hasattr(ref, "idnum"):
                label += f" (object {ref.idnum})"
            pages, tac, pixels = self.found.images.get(label, ([], 0.0, None))
            size = (int(entry(xobject, "/Width") or 0), int(entry(xobject, "/Height") or 0))
            self.found.images[label] = (pages + [self.page], max(tac, self.tac_of[key]), size)


def image_ink(xobject, share: float = 1e-4) -> float:
    """The total ink (C+M+Y+K, percent) that more than `share` of a CMYK image's pixels reach
    (a few stray pixels of JPEG ringing are not counted); 0 when it cannot be decoded."""
    from PIL import Image, ImageMath

    try:
        image = xobject.decode_as_image()
    except Exception:  # noqa: BLE001 - a filter pypdf cannot decode: nothing to measure
        return 0.0
    if image is None or image.mode != "CMYK":
        return 0.0
    if image.width * image.height > 4_000_000:  # sample a large image
        image = image.resize((max(1, image.width // 2), max(1, image.height // 2)),
                             Image.Resampling.NEAREST)
    # pypdf gives the samples as a PDF reader takes them: a /Decode array (the inverted Adobe CMYK
    # JPEGs the build writes carry [1 0 1 0 1 0 1 0]) is already applied.
    c, m, y, k = image.split()
    total = ImageMath.lambda_eval(lambda a: (a["c"] + a["m"] + a["y"] + a["k"]) / 4,
                                  c=c, m=m, y=y, k=k).convert("L")  # 0-255 for 0-400 %
    histogram = total.histogram()
    allowed, seen = share * image.width * image.height, 0
    for level in range(255, -1, -1):
        seen += histogram[level]
        if seen > allowed:
            return level * 400 / 255
    return 0.0


def _grow(path, x0, y0, x1, y1):
    if path is None:
        return [x0, y0, x1, y1]
    return [min(path[0], x0), min(path[1], y0), max(path[2], x1), max(path[3], y1)]


def _box(m, path):
    xs, ys = [], []
    for x, y in ((path[0], path[1]), (path[2], path[1]), (path[0], path[3]), (path[2], path[3])):
        xs.append(m[0] * x + m[2] * y + m[4])
        ys.append(m[1] * x + m[3] * y + m[5])
    return min(xs), min(ys), max(xs), max(ys)


def _box_thickness(box) -> float:
    return min(box[2] - box[0], box[3] - box[1]) if box else 0.0
