"""PDF bytes -> per-page scans: glyphs drawn, images placed, colour spaces used, painted area.

Each page's content stream (and the forms and tiling patterns it draws) is tokenised once
(pdf.tokens, a small regex tokeniser much quicker than pypdf's parser), and walked once. The walk
tracks only the graphics state the preflight checks need (CTM, font, colour spaces) and records it
in a `PageScan`.
"""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass, field

from culturebook.pdf.tokens import (
    INLINE_IMAGE,
    TOKEN,
    DictOperand,
    operands_of,
    split_inline_images,
    string_bytes,
)


class NotAPDF(ValueError):
    """The bytes given are not a PDF that can be read."""


@dataclass
class PdfFont:
    """What the checks need to know about one font dictionary."""

    name: str  # BaseFont without the subset prefix
    base: str  # BaseFont as written
    subtype: str
    two_byte: bool  # Type0 with Identity-H/V: 2-byte codes, code = CID
    cid_to_gid: bytes | None  # CIDToGIDMap stream (2 bytes per CID), None for Identity
    notdef_codes: frozenset[int]  # 1-byte codes a simple font's /Differences maps to /.notdef
    descriptor: object  # the FontDescriptor (of the descendant font for Type0), or None

    @property
    def checkable(self) -> bool:
        """Whether the notdef check can tell .notdef from the codes this font draws."""
        return self.two_byte or bool(self.notdef_codes)


@dataclass
class PageScan:
    """One page's content walk: what it draws."""

    fonts: dict[object, PdfFont] = field(default_factory=dict)  # key: object number or id()
    notdef: dict[str, int] = field(default_factory=dict)  # font name -> .notdef glyphs drawn
    images: list[tuple[str, int, int, float, float]] = field(default_factory=list)
    rgb: dict[str, list[str]] = field(default_factory=dict)  # colour kind -> what
    edges: set[str] = field(default_factory=set)  # sides of the trim that paint reaches
    # image object number -> the largest size (pt) it is drawn at on the page (w, h)
    placed: dict[int, tuple[float, float]] = field(default_factory=dict)


class Document:
    """A PDF read with pypdf, and its pages scanned on first use."""

    def __init__(self, data: bytes, track_edges: bool = False):
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        if b"%PDF-" not in data[:1024]:
            raise NotAPDF("not a PDF (no %PDF- header)")
        try:
            self.reader = PdfReader(io.BytesIO(data), strict=False)
            self.pages = list(self.reader.pages)
        except (PyPdfError, ValueError, KeyError, TypeError) as exc:
            raise NotAPDF(f"not a readable PDF ({exc})") from exc
        self.data = data
        self.track_edges = track_edges  # only the bleed check needs the painted edges
        self._fonts: dict[object, PdfFont] = {}

    @functools.cached_property
    def page_numbers(self) -> dict[int, int]:
        """Object number of each page -> 0-based index."""
        return {p.indirect_reference.idnum: i for i, p in enumerate(self.pages)
                if p.indirect_reference is not None}

    @functools.cached_property
    def scans(self) -> list[PageScan]:
        """What each page draws, in page order. Pages that draw the same content with the same
        resources in the same boxes (the shared pages of a personalised print file, say) are
        walked once and share their scan."""
        walked: dict[tuple, PageScan] = {}
        found = []
        for index, page in enumerate(self.pages):
            key = self.page_key(index)
            if key not in walked:
                walked[key] = _Walker(self, page, self.track_edges).scan
            found.append(walked[key])
        return found

    def page_key(self, index: int) -> tuple:
        """What decides how page `index` looks: its content streams, resources, boxes, rotation
        and group, by object identity (unique for a page whose parts are not shared)."""
        page = self.pages[index]

        def ident(value) -> object:
            if value is None:
                return None
            if hasattr(value, "idnum"):
                return ("ref", value.idnum, value.generation)
            if isinstance(value, list):
                return tuple(ident(v) for v in value)
            if isinstance(value, (int, float, str)):  # numbers (boxes, rotation) and names
                return value
            return ("direct", index)  # a dictionary or stream of this page's own

        return tuple(ident(page.raw_get(k) if k in page else None) for k in
                     ("/Contents", "/Resources", "/MediaBox", "/TrimBox", "/BleedBox",
                      "/Rotate", "/Group"))

    def font(self, ref) -> PdfFont:
        """The font a /Font resource entry refers to, read once per document."""
        key = _key(ref)
        if key not in self._fonts:
            self._fonts[key] = _read_font(ref.get_object())
        return self._fonts[key]


def _key(ref) -> object:
    return ref.idnum if hasattr(ref, "idnum") else id(ref)


def entry(obj, key, default=None):
    """obj[key] resolved, tolerating a missing key, a non-dictionary and an indirect object."""
    try:
        value = obj.get(key, default)
    except AttributeError:
        return default
    return value.get_object() if hasattr(value, "get_object") and value is not None else value


def page_box(page, key: str) -> tuple[float, float, float, float] | None:
    """A page box (/MediaBox, /TrimBox, ...) as (x0, y0, x1, y1) in pt; None when missing or malformed."""
    value = entry(page, key)
    if value is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _read_font(font) -> PdfFont:
    base = str(entry(font, "/BaseFont") or "")
    name = base[1:] if base.startswith("/") else base
    plain = name.split("+", 1)[1] if re.match(r"^[A-Z]{6}\+", name) else name
    subtype = str(entry(font, "/Subtype") or "")
    descriptor = entry(font, "/FontDescriptor")
    two_byte, cid_to_gid, notdef = False, None, frozenset()
    if subtype == "/Type0":
        descendants = entry(font, "/DescendantFonts") or []
        descendant = descendants[0].get_object() if len(descendants) else {}
        descriptor = entry(descendant, "/FontDescriptor")
        two_byte = str(entry(font, "/Encoding")) in ("/Identity-H", "/Identity-V")
        mapping = entry(descendant, "/CIDToGIDMap")
        if mapping is not None and hasattr(mapping, "get_data"):
            cid_to_gid = mapping.get_data()
    else:
        encoding = entry(font, "/Encoding")
        differences = entry(encoding, "/Differences") or []
        code, codes = 0, set()
        for item in differences:
            item = item.get_object() if hasattr(item, "get_object") else item
            if isinstance(item, int):
                code = item
            else:
                if str(item) == "/.notdef":
                    codes.add(code)
                code += 1
        notdef = frozenset(codes)
    return PdfFont(plain, name, subtype, two_byte, cid_to_gid, notdef, descriptor)


# --- the content walk -----------------------------------------------------------------------

_NOTDEF_HEX = re.compile(rb"<(?:[0-9A-Fa-f]{4})*0000")  # an aligned 0000 in a hex string
_ZERO_PAIR = re.compile(rb"(?:\\000|\\00(?![0-7])|\\0(?![0-7])|\x00){2}")  # two zero bytes, literal
_HEX_GAP = re.compile(rb"<[0-9A-Fa-f]*[ \t\r\n\f\x00]")
_PAINT = frozenset((b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"S", b"s"))
_INLINE_KEYS = {b"/W": b"/Width", b"/H": b"/Height", b"/CS": b"/ColorSpace", b"/IM": b"/ImageMask"}
_LITERALS = frozenset((b"true", b"false", b"null"))
MAX_FORM_DEPTH = 12  # forms and patterns nested deeper are not walked (a malformed file)


def _maybe_notdef(font: PdfFont, token: bytes) -> bool:
    """A quick look at a string token: False when it cannot draw .notdef with this font (most of
    them: a 2-byte code 0 needs four '0' hex digits, or zero bytes in a literal string)."""
    if not font.two_byte or font.cid_to_gid is not None:
        return token[:1] in (b"<", b"(")
    if token[:1] == b"<":
        return token.count(b"0") >= 4
    return token[:1] == b"(" and _ZERO_PAIR.search(token) is not None


def _array_maybe_notdef(font: PdfFont, array: bytes) -> bool:
    """The quick look for a whole TJ array token (hex strings without spaces, as WeasyPrint writes
    them, are searched for an aligned 0000 in one regex)."""
    if not font.two_byte or font.cid_to_gid is not None:
        return True
    if b"(" in array and _ZERO_PAIR.search(array):
        return True
    return b"<" in array and bool(_NOTDEF_HEX.search(array) or _HEX_GAP.search(array))


def _mult(m, n):
    """m then n (PDF matrices as 6-tuples)."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _transform_box(m, x0, y0, x1, y1):
    xs, ys = [], []
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        xs.append(m[0] * x + m[2] * y + m[4])
        ys.append(m[1] * x + m[3] * y + m[5])
    return min(xs), min(ys), max(xs), max(ys)


def _numbers(operands, count: int) -> list[float] | None:
    try:
        values = [float(v) for v in operands[-count:]]
    except (TypeError, ValueError):
        return None
    return values if len(values) == count else None


def _is_rgb(space, depth: int = 0) -> bool:
    """Whether a colour space is DeviceRGB or built on it (Indexed, Separation, DeviceN, Pattern)."""
    space = space.get_object() if hasattr(space, "get_object") else space
    if isinstance(space, (str, bytes)):
        name = space.decode("latin-1") if isinstance(space, bytes) else space
        return name in ("/DeviceRGB", "/RGB")
    if isinstance(space, list) and space and depth < 4:
        family = str(space[0])
        if family in ("/Indexed", "/I", "/Pattern") and len(space) > 1:
            return _is_rgb(space[1], depth + 1)
        if family == "/Separation" and len(space) > 2:
            return _is_rgb(space[2], depth + 1)
        if family == "/DeviceN" and len(space) > 2:
            return _is_rgb(space[2], depth + 1)
    return False


class _Walker:
    """Walks one page's content (and the forms it draws), tracking the graphics state that the
    checks need: CTM (q/Q/cm), the font (Tf), colour spaces; records into a `PageScan`."""

    def __init__(self, doc: Document, page, track_edges: bool):
        self.doc = doc
        self.scan = PageScan()
        self.track = track_edges
        self.trim = page_box(page, "/TrimBox") or page_box(page, "/MediaBox")
        self.resources_seen: set[object] = set()
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        resources = entry(page, "/Resources") or {}
        self.run(data, resources, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), ())
        group = entry(page, "/Group")
        if group is not None and _is_rgb(entry(group, "/CS")):
            self.scan.rgb.setdefault("group", []).append("page")

    # resources --------------------------------------------------------------------------------

    def look(self, resources, category: str, name: bytes):
        table = entry(resources, category)
        if table is None:
            return None, None
        ref = table.get(name.decode("latin-1")) if hasattr(table, "get") else None
        return ref, (ref.get_object() if ref is not None else None)

    def visit_resources(self, resources) -> None:
        """Note the fonts, colour spaces and shadings a resource dictionary names (once each)."""
        key = id(resources)
        if key in self.resources_seen:
            return
        self.resources_seen.add(key)
        fonts = entry(resources, "/Font") or {}
        for ref in fonts.values():
            self.scan.fonts.setdefault(_key(ref), self.doc.font(ref))
        for name, space in (entry(resources, "/ColorSpace") or {}).items():
            if _is_rgb(space):
                self.scan.rgb.setdefault("resource", []).append(str(name))
        for name, shading in (entry(resources, "/Shading") or {}).items():
            if _is_rgb(entry(shading.get_object(), "/ColorSpace")):
                self.scan.rgb.setdefault("shading", []).append(str(name))
        for name, pattern in (entry(resources, "/Pattern") or {}).items():
            shading = entry(pattern.get_object(), "/Shading")
            if shading is not None and _is_rgb(entry(shading, "/ColorSpace")):
                self.scan.rgb.setdefault("shading", []).append(str(name))

    # painting ---------------------------------------------------------------------------------

    def painted(self, box) -> None:
        """Paint covering `box` (page space): note which trim edges it reaches."""
        if self.trim is None:
            return
        x0, y0, x1, y1 = box
        tx0, ty0, tx1, ty1 = self.trim
        tol = 0.5
        if x1 <= tx0 or x0 >= tx1 or y1 <= ty0 or y0 >= ty1:
            return  # entirely outside the trim (a mark in the slug)
        if x0 <= tx0 + tol:
            self.scan.edges.add("left")
        if x1 >= tx1 - tol:
            self.scan.edges.add("right")
        if y0 <= ty0 + tol:
            self.scan.edges.add("bottom")
        if y1 >= ty1 - tol:
            self.scan.edges.add("top")

    def image(self, label: str, xobject, ctm) -> None:
        width, height = entry(xobject, "/Width"), entry(xobject, "/Height")
        w_pt, h_pt = math.hypot(ctm[0], ctm[1]), math.hypot(ctm[2], ctm[3])
        if self.track:
            self.painted(_transform_box(ctm, 0, 0, 1, 1))
        if entry(xobject, "/ImageMask") is True:
            return
        if _is_rgb(entry(xobject, "/ColorSpace")):
            self.scan.rgb.setdefault("image", []).append(label)
        try:
            width, height = int(width), int(height)
        except (TypeError, ValueError):
            return
        if w_pt > 0.1 and h_pt > 0.1:
            self.scan.images.append((label, width, height, w_pt, h_pt))

    def glyphs(self, font: PdfFont | None, raw: bytes) -> None:
        if font is None or not raw:
            return
        data = string_bytes(raw)
        count = 0
        if font.two_byte:
            gids = font.cid_to_gid
            for i in range(0, len(data) - 1, 2):
                cid = data[i] << 8 | data[i + 1]
                if cid == 0:
                    count += 1
                elif gids is not None and 2 * cid + 1 < len(gids) and \
                        gids[2 * cid] == 0 and gids[2 * cid + 1] == 0:
                    count += 1
        elif font.notdef_codes:
            count = sum(b in font.notdef_codes for b in data)
        if count:
            label = font.name or font.base or "(unnamed)"
            self.scan.notdef[label] = self.scan.notdef.get(label, 0) + count

    # the walk ---------------------------------------------------------------------------------

    def run(self, data: bytes, resources, ctm, forms: tuple) -> None:
        self.visit_resources(resources)
        pieces = split_inline_images(data) if INLINE_IMAGE.search(data) else [data]
        state = {"ctm": ctm, "font": None, "stack": [], "base": ctm}
        for piece in pieces:
            if isinstance(piece, DictOperand):
                self.inline_image(piece, state["ctm"])
            else:
                self.tokens(piece, resources, state, forms)

    def inline_image(self, entries: DictOperand, ctm) -> None:
        values = {_INLINE_KEYS.get(k, k): v for k, v in zip(entries[::2], entries[1::2], strict=False)}
        space = values.get(b"/ColorSpace") or b""
        if isinstance(space, list):  # an indexed space, [/I /RGB hival lookup]: its base decides
            space = space[1] if len(space) > 1 and isinstance(space[1], bytes) else b""
        info = {"/Width": values.get(b"/Width"), "/Height": values.get(b"/Height"),
                "/ColorSpace": _INLINE_KEYS.get(space, space).decode("latin-1") or None,
                "/ImageMask": values.get(b"/ImageMask") == b"true"}
        self.image("inline image", info, ctm)

    def tokens(self, data: bytes, resources, state: dict, forms: tuple) -> None:
        ctm, font, saved = state["ctm"], state["font"], state["stack"]
        operands: list = []
        nested: list[list] = []
        track = self.track
        # The operand handling below repeats operands_of() inline on purpose: this loop runs over
        # every token of every page, where a function call per token is the cost that matters.
        path: list[float] | None = None  # bbox of the current path, user space
        rgb = False
        scan = self.scan
        for match in TOKEN.finditer(data):
            kind = match.lastgroup
            if kind != "o":
                if kind == "k":
                    continue
                if kind == "a":
                    nested.append(operands)
                    operands = [] if match[kind] == b"[" else DictOperand()
                elif kind == "c":
                    if nested:
                        inner, operands = operands, nested.pop()
                        operands.append(inner)
                else:
                    operands.append(match[kind])
                continue
            op = match[kind]
            if nested or op in _LITERALS:  # true, false, null (or an operator inside an array)
                operands.append(op)
                continue
            if op == b"TJ":
                if font is not None and font.checkable and operands:
                    array = operands[-1]
                    if isinstance(array, bytes) and array[:1] == b"[":
                        array = operands_of(array[1:-1]) if _array_maybe_notdef(font, array) else ()
                    if isinstance(array, (list, tuple)):
                        for item in array:
                            if isinstance(item, bytes) and _maybe_notdef(font, item):
                                self.glyphs(font, item)
            elif op in (b"Tj", b"'", b'"'):
                if font is not None and font.checkable and operands and \
                        isinstance(operands[-1], bytes) and _maybe_notdef(font, operands[-1]):
                    self.glyphs(font, operands[-1])
            elif op == b"Tf":
                font = None
                if len(operands) >= 2 and isinstance(operands[-2], bytes):
                    ref, _ = self.look(resources, "/Font", operands[-2])
                    if ref is not None:
                        font = self.doc.font(ref)
                        scan.fonts.setdefault(_key(ref), font)
            elif op == b"q":
                saved.append((ctm, font))
            elif op == b"Q":
                if saved:
                    ctm, font = saved.pop()
            elif op == b"cm":
                m = _numbers(operands, 6)
                if m:
                    ctm = _mult(tuple(m), ctm)
            elif op in (b"rg", b"RG"):
                rgb = True
            elif op in (b"scn", b"SCN"):
                if operands and isinstance(operands[-1], bytes) and operands[-1][:1] == b"/":
                    self.pattern(operands[-1], resources, state["base"], forms)
            elif op in (b"cs", b"CS"):
                if operands and isinstance(operands[-1], bytes):
                    name = operands[-1].decode("latin-1")
                    if name == "/DeviceRGB":
                        scan.rgb.setdefault("cs", []).append(name)
                    elif name not in ("/DeviceCMYK", "/DeviceGray", "/Pattern"):
                        _, space = self.look(resources, "/ColorSpace", operands[-1])
                        if space is not None and _is_rgb(space):
                            scan.rgb.setdefault("cs", []).append(name)
            elif op == b"Do":
                if operands and isinstance(operands[-1], bytes):
                    self.draw(operands[-1], resources, ctm, forms)
            elif op == b"sh":
                if track:
                    self.painted(self.trim or (0, 0, 0, 0))
                if operands and isinstance(operands[-1], bytes):
                    _, shading = self.look(resources, "/Shading", operands[-1])
                    if shading is not None and _is_rgb(entry(shading, "/ColorSpace")):
                        scan.rgb.setdefault("shading", []).append(operands[-1].decode("latin-1"))
            elif track:
                if op == b"re":
                    v = _numbers(operands, 4)
                    if v:
                        x0, x1 = sorted((v[0], v[0] + v[2]))
                        y0, y1 = sorted((v[1], v[1] + v[3]))
                        path = _grow(path, x0, y0, x1, y1)
                elif op in (b"m", b"l", b"c", b"v", b"y"):
                    count = {b"m": 2, b"l": 2, b"c": 6, b"v": 4, b"y": 4}[op]
                    v = _numbers(operands, count)
                    if v:
                        xs, ys = v[0::2], v[1::2]
                        path = _grow(path, min(xs), min(ys), max(xs), max(ys))
                elif op in _PAINT:
                    if path is not None:
                        self.painted(_transform_box(ctm, *path))
                    path = None
                elif op == b"n":
                    path = None
            operands = []
        state["ctm"], state["font"] = ctm, font
        if rgb:
            scan.rgb.setdefault("rg", []).append("rg/RG")

    def pattern(self, name: bytes, resources, base, forms: tuple) -> None:
        """A tiling pattern's cells (once per page): the images and colours they draw. Its matrix
        maps to the default space of the stream that uses it (`base`)."""
        ref, pattern = self.look(resources, "/Pattern", name)
        if pattern is None or entry(pattern, "/PatternType") != 1 or not hasattr(pattern, "get_data"):
            return
        key = ("pattern", _key(ref))
        if key in self.resources_seen or len(forms) >= MAX_FORM_DEPTH:
            return
        self.resources_seen.add(key)
        matrix = _matrix(entry(pattern, "/Matrix"))
        track, self.track = self.track, False  # the cells are painted where the fill is
        try:
            self.run(pattern.get_data(), entry(pattern, "/Resources") or resources,
                     _mult(matrix, base) if matrix else base, forms + (key,))
        finally:
            self.track = track

    def draw(self, name: bytes, resources, ctm, forms: tuple) -> None:
        ref, xobject = self.look(resources, "/XObject", name)
        if xobject is None:
            return
        subtype = entry(xobject, "/Subtype")
        key = _key(ref)
        if subtype == "/Image":
            own = entry(xobject, "/Name")
            label = str(own or name.decode("latin-1")).lstrip("/")
            if hasattr(ref, "idnum"):
                label += f" (object {ref.idnum})"
                w, h = self.scan.placed.get(ref.idnum, (0.0, 0.0))
                self.scan.placed[ref.idnum] = (max(w, math.hypot(ctm[0], ctm[1])),
                                               max(h, math.hypot(ctm[2], ctm[3])))
            self.image(label, xobject, ctm)
        elif subtype == "/Form" and key not in forms and len(forms) < MAX_FORM_DEPTH:
            m = _matrix(entry(xobject, "/Matrix"))
            inner = _mult(m, ctm) if m else ctm
            group = entry(xobject, "/Group")
            if group is not None and _is_rgb(entry(group, "/CS")):
                self.scan.rgb.setdefault("group", []).append(name.decode("latin-1"))
            self.run(xobject.get_data(), entry(xobject, "/Resources") or resources, inner,
                     forms + (key,))


def _matrix(value) -> tuple[float, ...] | None:
    try:
        m = tuple(float(v) for v in value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return m if m and len(m) == 6 else None


def _grow(path, x0, y0, x1, y1):
    if path is None:
        return [x0, y0, x1, y1]
    return [min(path[0], x0), min(path[1], y0), max(path[2], x1), max(path[3], y1)]


