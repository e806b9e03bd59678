"""Preflight: check a finished PDF the way a print shop's preflight would, from its bytes alone.

`preflight_pdf(data, expect)` runs every check on one PDF and returns `Finding`s (errors and warnings);
it reads nothing but the bytes it is given and, for the fonts check, the names of the font files in
`expect.fonts_dir` (read once with fontTools and cached). The build calls it on every PDF it writes, so
the checks are cheap: each page's content stream is tokenised once (a small regex tokeniser; pypdf's
`ContentStream` parser takes 0.1-0.3 s per booklet) and that one walk feeds the fonts, notdef, images,
colour and bleed checks. Only the bleed check draws pixels, and only for pages of a print edition whose
paint reaches the trim.

The rest of the module is what `culturebook preflight` needs: which PDFs to check (build/manifest.json
or the paths given), what to expect of each (from its kind, its path and the project's theme), and the
JSON report per edition.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import Location, Problem, ProjectError

CHECKS = ("fonts", "notdef", "images", "pages", "boxes", "bleed", "colour", "metadata", "links")
KINDS = ("booklet", "poster", "bundle", "imposed", "tiles")
MM_PER_PT = 25.4 / 72
TOLERANCE_MM = 0.2  # box sizes and bleed widths
SHEETS_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
REPORT = "preflight.json"


@dataclass(frozen=True)
class Expect:
    """What a PDF should be."""

    kind: str  # "booklet" | "poster" | "bundle" | "imposed" | "tiles" ("" when unknown)
    edition: str  # language code, e.g. "zh-Hans" ("" when unknown)
    print: bool = False  # a print edition (TrimBox/BleedBox, no DeviceRGB vector colour)
    trim_mm: tuple[float, float] | None = None  # expected trim size (w, h) in mm, if known
    bleed_mm: float = 0.0  # expected bleed for print editions
    page_multiple: int = 1  # 4 for booklets
    min_ppi: int = 150  # 300 for print, 150 for screen
    fonts_dir: Path | None = None


@dataclass(frozen=True)
class Finding:
    """One thing wrong (`error`) or doubtful (a warning) in a PDF."""

    check: str  # one of CHECKS
    error: bool  # False = warning
    page: int | None  # 1-based, when it concerns one page
    message: str  # one line a user understands, naming what and by how much
    pixels: tuple[int, int] | None = None  # images: the image's size, to find its source file


class NotAPDF(ValueError):
    """The bytes given to `preflight_pdf` are not a PDF that can be read."""


def preflight_pdf(data: bytes, expect: Expect) -> list[Finding]:
    """Run every check on one PDF; findings in CHECKS order, then by page."""
    doc = _Document(data, expect)
    findings: list[Finding] = []
    for check in (check_fonts, check_notdef, check_images, check_pages, check_boxes, check_bleed,
                  check_colour, check_metadata, check_links):
        findings += check(doc)
    return findings


def write_report(path: Path, results: dict[str, list[Finding]]) -> None:
    """Write findings per file as JSON: files sorted by name, findings in the order given, and
    totals; through a temporary file and a rename."""
    from .build import write_atomic  # build.py imports this module: import at call time

    files = []
    for name in sorted(results):
        findings = results[name]
        errors = sum(f.error for f in findings)
        files.append({"path": name, "errors": errors, "warnings": len(findings) - errors,
                      "findings": [{k: v for k, v in asdict(f).items() if k != "pixels"}
                                   for f in findings]})
    report = {"errors": sum(f["errors"] for f in files),
              "warnings": sum(f["warnings"] for f in files), "files": files}
    write_atomic(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())


def totals(results: dict[str, list[Finding]]) -> tuple[int, int]:
    """(errors, warnings) over every file."""
    errors = sum(f.error for findings in results.values() for f in findings)
    return errors, sum(len(findings) for findings in results.values()) - errors


def failed(results: dict[str, list[Finding]], strict: bool = False) -> bool:
    """Whether these results fail a build: any error, or under `strict` any finding at all."""
    return any(f.error or strict for findings in results.values() for f in findings)


# --- the document, read once ------------------------------------------------------------------


@dataclass
class _Font:
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
class _Page:
    """One page's content walk: what it draws."""

    fonts: dict[object, _Font] = field(default_factory=dict)  # key: object number or id()
    notdef: dict[str, int] = field(default_factory=dict)  # font name -> .notdef glyphs drawn
    images: list[tuple[str, int, int, float, float]] = field(default_factory=list)
    rgb: dict[str, list[str]] = field(default_factory=dict)  # colour kind -> what
    edges: set[str] = field(default_factory=set)  # sides of the trim that paint reaches


class _Document:
    def __init__(self, data: bytes, expect: Expect):
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
        self.expect = expect
        self._scans: list[_Page] | None = None
        self._fonts: dict[object, _Font] = {}

    @functools.cached_property
    def page_numbers(self) -> dict[int, int]:
        """Object number of each page -> 0-based index."""
        return {p.indirect_reference.idnum: i for i, p in enumerate(self.pages)
                if p.indirect_reference is not None}

    @property
    def scans(self) -> list[_Page]:
        if self._scans is None:
            track = self.expect.print and self.expect.bleed_mm > 0
            self._scans = [_Walker(self, page, track).scan for page in self.pages]
        return self._scans

    def font(self, ref) -> _Font:
        key = ref.idnum if hasattr(ref, "idnum") else id(ref)
        if key not in self._fonts:
            self._fonts[key] = _read_font(ref.get_object())
        return self._fonts[key]


def _key(ref) -> object:
    return ref.idnum if hasattr(ref, "idnum") else id(ref)


def _get(obj, key, default=None):
    """obj[key] resolved, tolerating a missing key, a non-dictionary and an indirect object."""
    try:
        value = obj.get(key, default)
    except AttributeError:
        return default
    return value.get_object() if hasattr(value, "get_object") and value is not None else value


def _read_font(font) -> _Font:
    base = str(_get(font, "/BaseFont") or "")
    name = base[1:] if base.startswith("/") else base
    plain = name.split("+", 1)[1] if re.match(r"^[A-Z]{6}\+", name) else name
    subtype = str(_get(font, "/Subtype") or "")
    descriptor = _get(font, "/FontDescriptor")
    two_byte, cid_to_gid, notdef = False, None, frozenset()
    if subtype == "/Type0":
        descendants = _get(font, "/DescendantFonts") or []
        descendant = descendants[0].get_object() if len(descendants) else {}
        descriptor = _get(descendant, "/FontDescriptor")
        two_byte = str(_get(font, "/Encoding")) in ("/Identity-H", "/Identity-V")
        mapping = _get(descendant, "/CIDToGIDMap")
        if mapping is not None and hasattr(mapping, "get_data"):
            cid_to_gid = mapping.get_data()
    else:
        encoding = _get(font, "/Encoding")
        differences = _get(encoding, "/Differences") or []
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
    return _Font(plain, name, subtype, two_byte, cid_to_gid, notdef, descriptor)


# --- content streams ------------------------------------------------------------------------

# One token per match (with the whitespace before it; anything unexpected is skipped). Values stay
# bytes, numbers included (converted only where an operator needs them): b"1.5", b"/Name", b"<hex>",
# b"(literal)", b"[...]" (a flat array, one token: TJ's), list (a nested array), _Dict, and
# operators (group "o").
# Possessive repeats (Python 3.11) keep an unterminated string or array linear.
_STRING = rb"\((?:[^()\\]++|\\.|\((?:[^()\\]++|\\.|\((?:[^()\\]++|\\.)*+\))*+\))*+\)"
_TOKEN = re.compile(rb"""[ \t\r\n\f\x00]*+(?:
   (?P<n>[-+]?(?:\d+\.?\d*|\.\d+))
  |(?P<o>[A-Za-z'"*][A-Za-z0-9'"*]*)
  |(?P<h><[0-9A-Fa-f \t\r\n\f\x00]*>)
  |(?P<t>\[(?:[^\[\]()%]++|""" + _STRING + rb""")*+\])
  |(?P<a>\[|<<)
  |(?P<c>\]|>>)
  |(?P<m>/[^ \t\r\n\f\x00/\[\]()<>{}%]*)
  |(?P<s>""" + _STRING + rb""")
  |(?P<k>%[^\r\n]*))
""", re.X | re.S)
_NOTDEF_HEX = re.compile(rb"<(?:[0-9A-Fa-f]{4})*0000")  # an aligned 0000 in a hex string
_ZERO_PAIR = re.compile(rb"(?:\\000|\\00(?![0-7])|\\0(?![0-7])|\x00){2}")  # two zero bytes, literal
_HEX_GAP = re.compile(rb"<[0-9A-Fa-f]*[ \t\r\n\f\x00]")
_INLINE = re.compile(rb"(?:^|(?<=[ \t\r\n\f\x00]))BI[ \t\r\n\f\x00]")
_ID = re.compile(rb"[ \t\r\n\f\x00]ID[ \t\r\n\f\x00]")
_EI = re.compile(rb"[ \t\r\n\f\x00]EI(?=[ \t\r\n\f\x00]|$)")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
_PAINT = frozenset((b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"S", b"s"))
_INLINE_KEYS = {b"/W": b"/Width", b"/H": b"/Height", b"/CS": b"/ColorSpace", b"/IM": b"/ImageMask"}
_LITERALS = frozenset((b"true", b"false", b"null"))
MAX_FORM_DEPTH = 12


class _Dict(list):
    """A dictionary operand, kept as its flat key/value list."""


def _maybe_notdef(font: _Font, token: bytes) -> bool:
    """A quick look at a string token: False when it cannot draw .notdef with this font (most of
    them: a 2-byte code 0 needs four '0' hex digits, or zero bytes in a literal string)."""
    if not font.two_byte or font.cid_to_gid is not None:
        return token[:1] in (b"<", b"(")
    if token[:1] == b"<":
        return token.count(b"0") >= 4
    return token[:1] == b"(" and _ZERO_PAIR.search(token) is not None


def _array_maybe_notdef(font: _Font, array: bytes) -> bool:
    """The quick look for a whole TJ array token (hex strings without spaces, as WeasyPrint writes
    them, are searched for an aligned 0000 in one regex)."""
    if not font.two_byte or font.cid_to_gid is not None:
        return True
    if b"(" in array and _ZERO_PAIR.search(array):
        return True
    return b"<" in array and bool(_NOTDEF_HEX.search(array) or _HEX_GAP.search(array))


def _string_bytes(token: bytes) -> bytes:
    """The bytes of a hex <...> or literal (...) string token."""
    if token[:1] == b"<":
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", token).decode()
        return bytes.fromhex(digits + "0" * (len(digits) % 2))
    body = token[1:-1]
    if b"\\" not in body:
        return body
    out, i = bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch != 0x5C or i + 1 == len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif 0x30 <= nxt <= 0x37:
            octal = re.match(rb"[0-7]{1,3}", body[i + 1:i + 4])[0]
            out.append(int(octal, 8) & 0xFF)
            i += 1 + len(octal)
        elif nxt in (0x0D, 0x0A):  # a line continuation
            i += 2 + (nxt == 0x0D and body[i + 2:i + 3] == b"\n")
        else:
            out.append(nxt)
            i += 2
    return bytes(out)


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
    checks need: CTM (q/Q/cm), the font (Tf), colour spaces; records into a `_Page`."""

    def __init__(self, doc: _Document, page, track_edges: bool):
        self.doc = doc
        self.scan = _Page()
        self.track = track_edges
        self.trim = _box(page, "/TrimBox") or _box(page, "/MediaBox")
        self.resources_seen: set[object] = set()
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        resources = _get(page, "/Resources") or {}
        self.run(data, resources, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), ())
        group = _get(page, "/Group")
        if group is not None and _is_rgb(_get(group, "/CS")):
            self.scan.rgb.setdefault("group", []).append("page")

    # resources --------------------------------------------------------------------------------

    def look(self, resources, category: str, name: bytes):
        table = _get(resources, category)
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
        fonts = _get(resources, "/Font") or {}
        for ref in fonts.values():
            self.scan.fonts.setdefault(_key(ref), self.doc.font(ref))
        for name, space in (_get(resources, "/ColorSpace") or {}).items():
            if _is_rgb(space):
                self.scan.rgb.setdefault("resource", []).append(str(name))
        for name, shading in (_get(resources, "/Shading") or {}).items():
            if _is_rgb(_get(shading.get_object(), "/ColorSpace")):
                self.scan.rgb.setdefault("shading", []).append(str(name))
        for name, pattern in (_get(resources, "/Pattern") or {}).items():
            shading = _get(pattern.get_object(), "/Shading")
            if shading is not None and _is_rgb(_get(shading, "/ColorSpace")):
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
        width, height = _get(xobject, "/Width"), _get(xobject, "/Height")
        w_pt, h_pt = math.hypot(ctm[0], ctm[1]), math.hypot(ctm[2], ctm[3])
        if self.track:
            self.painted(_transform_box(ctm, 0, 0, 1, 1))
        if _get(xobject, "/ImageMask") is True:
            return
        if _is_rgb(_get(xobject, "/ColorSpace")):
            self.scan.rgb.setdefault("image", []).append(label)
        try:
            width, height = int(width), int(height)
        except (TypeError, ValueError):
            return
        if w_pt > 0.1 and h_pt > 0.1:
            self.scan.images.append((label, width, height, w_pt, h_pt))

    def glyphs(self, font: _Font | None, raw: bytes) -> None:
        if font is None or not raw:
            return
        data = _string_bytes(raw)
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
        pieces = _split_inline_images(data) if _INLINE.search(data) else [data]
        state = {"ctm": ctm, "font": None, "stack": [], "base": ctm}
        for piece in pieces:
            if isinstance(piece, _Dict):
                self.inline_image(piece, state["ctm"])
            else:
                self.tokens(piece, resources, state, forms)

    def inline_image(self, entries: _Dict, ctm) -> None:
        values = {_INLINE_KEYS.get(k, k): v for k, v in zip(entries[::2], entries[1::2], strict=False)}
        info = {"/Width": values.get(b"/Width"), "/Height": values.get(b"/Height"),
                "/ColorSpace": (values.get(b"/ColorSpace") or b"").decode("latin-1") or None,
                "/ImageMask": values.get(b"/ImageMask") == b"true"}
        self.image("inline image", info, ctm)

    def tokens(self, data: bytes, resources, state: dict, forms: tuple) -> None:
        ctm, font, saved = state["ctm"], state["font"], state["stack"]
        operands: list = []
        nested: list[list] = []
        track = self.track
        path: list[float] | None = None  # bbox of the current path, user space
        rgb = False
        scan = self.scan
        for match in _TOKEN.finditer(data):
            kind = match.lastgroup
            if kind != "o":
                if kind == "k":
                    continue
                if kind == "a":
                    nested.append(operands)
                    operands = [] if match[kind] == b"[" else _Dict()
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
                        array = _operands(array[1:-1]) if _array_maybe_notdef(font, array) else ()
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
                    ref, obj = self.look(resources, "/Font", operands[-2])
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
                    if shading is not None and _is_rgb(_get(shading, "/ColorSpace")):
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
        if pattern is None or _get(pattern, "/PatternType") != 1 or not hasattr(pattern, "get_data"):
            return
        key = ("pattern", _key(ref))
        if key in self.resources_seen or len(forms) >= MAX_FORM_DEPTH:
            return
        self.resources_seen.add(key)
        matrix = _matrix(_get(pattern, "/Matrix"))
        track, self.track = self.track, False  # the cells are painted where the fill is
        try:
            self.run(pattern.get_data(), _get(pattern, "/Resources") or resources,
                     _mult(matrix, base) if matrix else base, forms + (key,))
        finally:
            self.track = track

    def draw(self, name: bytes, resources, ctm, forms: tuple) -> None:
        ref, xobject = self.look(resources, "/XObject", name)
        if xobject is None:
            return
        subtype = _get(xobject, "/Subtype")
        key = _key(ref)
        if subtype == "/Image":
            own = _get(xobject, "/Name")
            label = str(own or name.decode("latin-1")).lstrip("/")
            if hasattr(ref, "idnum"):
                label += f" (object {ref.idnum})"
            self.image(label, xobject, ctm)
        elif subtype == "/Form" and key not in forms and len(forms) < MAX_FORM_DEPTH:
            m = _matrix(_get(xobject, "/Matrix"))
            inner = _mult(m, ctm) if m else ctm
            group = _get(xobject, "/Group")
            if group is not None and _is_rgb(_get(group, "/CS")):
                self.scan.rgb.setdefault("group", []).append(name.decode("latin-1"))
            self.run(xobject.get_data(), _get(xobject, "/Resources") or resources, inner,
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


def _split_inline_images(data: bytes) -> list:
    """Content bytes split around inline images (BI ... ID <binary> EI): bytes pieces, and a _Dict
    of each inline image's entries in their place."""
    pieces: list = []
    pos = 0
    while True:
        begin = _INLINE.search(data, pos)
        if begin is None:
            break
        start = _ID.search(data, begin.end() - 1)
        if start is None:
            break
        end = _EI.search(data, start.end())
        pieces.append(data[pos:begin.start()])
        pieces.append(_Dict(_operands(data[begin.end() - 1:start.start() + 1])))
        pos = len(data) if end is None else end.end()
    pieces.append(data[pos:])
    return pieces


def _operands(data: bytes) -> list:
    """The objects in `data` (no operators), arrays as lists and dictionaries as _Dict."""
    operands: list = []
    nested: list[list] = []
    for match in _TOKEN.finditer(data):
        kind = match.lastgroup
        if kind == "k":
            continue
        if kind == "a":
            nested.append(operands)
            operands = [] if match[kind] == b"[" else _Dict()
        elif kind == "c":
            if nested:
                inner, operands = operands, nested.pop()
                operands.append(inner)
        elif kind == "t":
            operands.append(_operands(match[kind][1:-1]))
        else:
            operands.append(match[kind])
    return operands


def content_operators(data: bytes) -> list[tuple[str, int]]:
    """(operator, operand count) of each operation in a content stream, as the walker tokenises it
    (for testing the tokeniser against pypdf's parser)."""
    result = []
    for piece in _split_inline_images(data) if _INLINE.search(data) else [data]:
        if isinstance(piece, _Dict):
            result.append(("INLINE IMAGE", len(piece) // 2))
            continue
        operands, nested = 0, 0
        for match in _TOKEN.finditer(piece):
            kind = match.lastgroup
            if kind == "k":
                continue
            if kind == "a":
                nested += 1
            elif kind == "c":
                nested -= 1
                operands += nested == 0
            elif kind == "o" and not nested:
                result.append((match[kind].decode("latin-1"), operands))
                operands = 0
            elif not nested:
                operands += 1
    return result


# --- boxes ------------------------------------------------------------------------------------


def _box(page, key: str) -> tuple[float, float, float, float] | None:
    value = _get(page, key)
    if value is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _mm(pt: float) -> float:
    return pt * MM_PER_PT


def _size(box) -> tuple[float, float]:
    return _mm(box[2] - box[0]), _mm(box[3] - box[1])


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _dims(w: float, h: float) -> str:
    return f"{_fmt(w)} × {_fmt(h)} mm"


# --- findings per page, merged ----------------------------------------------------------------


def _pages_text(pages: list[int]) -> str:
    runs: list[list[int]] = []
    for n in pages:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def _merge(check: str, error: bool, items: Iterable[tuple[int, str]]) -> list[Finding]:
    """One finding per distinct message: 'page 3: ...' or, when it holds for several pages,
    'pages 1-16: ...' (page None)."""
    groups: dict[str, list[int]] = {}
    for page, text in items:
        groups.setdefault(text, []).append(page)
    findings = []
    for text, pages in sorted(groups.items(), key=lambda group: min(group[1])):  # stable
        pages = sorted(set(pages))
        if len(pages) == 1:
            findings.append(Finding(check, error, pages[0], f"page {pages[0]}: {text}"))
        else:
            findings.append(Finding(check, error, None, f"pages {_pages_text(pages)}: {text}"))
    return findings


# --- the checks -------------------------------------------------------------------------------

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
    """Names of the font files in `fonts_dir`, read once per set of files (cached)."""
    files = sorted(p for p in Path(fonts_dir).rglob("*")
                   if p.suffix.lower() in (".otf", ".ttf", ".ttc", ".otc") and p.is_file())
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _font_names(str(fonts_dir), stamp)


def _from_fonts(name: str, names: frozenset[str], families: frozenset[str]) -> bool:
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


def check_fonts(doc: _Document) -> list[Finding]:
    """Every font embedded, subset, and one of the project's fonts/."""
    expect = doc.expect
    names = font_names(expect.fonts_dir) if expect.fonts_dir and expect.fonts_dir.is_dir() else None
    first: dict[object, tuple[int, _Font]] = {}
    for number, scan in enumerate(doc.scans, 1):
        for key, font in scan.fonts.items():
            first.setdefault(key, (number, font))
    findings = []
    for page, font in sorted(first.values(), key=lambda item: (item[0], item[1].base)):
        label = font.name or "(unnamed)"
        if font.subtype == "/Type3":
            continue  # glyphs drawn by the PDF's own content streams: nothing to embed
        embedded = font.descriptor is not None and any(
            k in font.descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        if not embedded:
            findings.append(Finding("fonts", True, page, f"page {page}: font {label} is not embedded"))
        elif font.base == font.name:
            findings.append(Finding("fonts", False, page, f"page {page}: font {label} is embedded "
                                    "whole, not subset (no ABCDEF+ prefix)"))
        if names is not None and not _from_fonts(font.name, *names):
            findings.append(Finding("fonts", True, page, f"page {page}: font {label} is not one of "
                                    f"the fonts in {expect.fonts_dir.name}/"))
    return findings


def check_notdef(doc: _Document) -> list[Finding]:
    """No glyph drawn as .notdef (the empty box of a missing character)."""
    findings = []
    for number, scan in enumerate(doc.scans, 1):
        for font, count in sorted(scan.notdef.items()):
            glyphs = "glyph" if count == 1 else "glyphs"
            findings.append(Finding("notdef", True, number, f"page {number}: {count} {glyphs} drawn "
                                    f"as .notdef (an empty box) in font {font}"))
    return findings


def check_images(doc: _Document) -> list[Finding]:
    """Effective resolution of each image at the size it is placed."""
    need = doc.expect.min_ppi
    findings = []
    for number, scan in enumerate(doc.scans, 1):
        worst: dict[str, tuple[float, float, float, int, int]] = {}
        for label, width, height, w_pt, h_pt in scan.images:
            ppi = min(width / (w_pt / 72), height / (h_pt / 72))
            if ppi < need and (label not in worst or ppi < worst[label][0]):
                worst[label] = (ppi, _mm(w_pt), _mm(h_pt), width, height)
        for label, (ppi, w_mm, h_mm, width, height) in sorted(worst.items()):
            findings.append(Finding("images", False, number, (
                f"page {number}: image {label} is {ppi:.0f} ppi at its placed size of "
                f"{_dims(w_mm, h_mm)} ({width} × {height} px); needs {need} ppi"), (width, height)))
    return findings


def check_pages(doc: _Document) -> list[Finding]:
    count, multiple = len(doc.pages), max(1, doc.expect.page_multiple)
    if count == 0:
        return [Finding("pages", True, None, "the document has no pages")]
    if count % multiple:
        up = count + multiple - count % multiple
        return [Finding("pages", True, None, f"{count} pages is not a multiple of {multiple} "
                        f"({up - count} short of {up})")]
    return []


def check_boxes(doc: _Document) -> list[Finding]:
    """Print: TrimBox and BleedBox on every page, the trim size, the bleed on every side, the bleed
    inside the MediaBox. Screen: trimmed (no TrimBox other than the MediaBox), the page size."""
    expect, tol = doc.expect, TOLERANCE_MM
    items: list[tuple[int, str]] = []
    for number, page in enumerate(doc.pages, 1):
        media = _box(page, "/MediaBox")
        trim, bleed = _box(page, "/TrimBox"), _box(page, "/BleedBox")
        if media is None:
            items.append((number, "no MediaBox"))
            continue
        if not expect.print:
            if trim is not None and any(abs(_mm(a - b)) > tol for a, b in zip(trim, media, strict=True)):
                items.append((number, "TrimBox differs from the MediaBox: a screen edition is "
                              "trimmed, without bleed or marks"))
            size = _size(media)
            if expect.trim_mm and not _same_size(size, expect.trim_mm):
                items.append((number, f"page size {_dims(*size)}, expected "
                              f"{_dims(*expect.trim_mm)}"))
            continue
        if trim is None:
            items.append((number, "no TrimBox"))
        if bleed is None:
            items.append((number, "no BleedBox"))
        if trim is not None and expect.trim_mm and not _same_size(_size(trim), expect.trim_mm):
            items.append((number, f"trim size {_dims(*_size(trim))}, expected "
                          f"{_dims(*expect.trim_mm)}"))
        if trim is not None and bleed is not None:
            for side, amount in _sides(trim, bleed):
                if abs(amount - expect.bleed_mm) > tol:
                    items.append((number, f"bleed on the {side} side is {_fmt(amount)} mm, "
                                  f"expected {_fmt(expect.bleed_mm)} mm"))
        if bleed is not None:
            for side, amount in _sides(bleed, media):
                if amount < -tol:
                    items.append((number, f"BleedBox extends {_fmt(-amount)} mm beyond the MediaBox "
                                  f"on the {side} side"))
    return _merge("boxes", True, items)


def _same_size(size: tuple[float, float], expected: tuple[float, float]) -> bool:
    return abs(size[0] - expected[0]) <= TOLERANCE_MM and abs(size[1] - expected[1]) <= TOLERANCE_MM


def _sides(inner, outer) -> list[tuple[str, float]]:
    """How far `outer` reaches beyond `inner` on each side, in mm (negative: it falls short)."""
    return [("left", _mm(inner[0] - outer[0])), ("right", _mm(outer[2] - inner[2])),
            ("top", _mm(outer[3] - inner[3])), ("bottom", _mm(inner[1] - outer[1]))]


BLEED_SAMPLE_PX = 5  # the bleed, drawn, is at least this many pixels wide
PAPER = 245  # a pixel whose red, green and blue are all at least this is unpainted paper


def check_bleed(doc: _Document) -> list[Finding]:
    """Print: where paint reaches the trim, it must carry on into the bleed (pixels).

    Only pages whose content paints up to a trim edge are drawn (from the content walk), at a low
    resolution that puts a few pixels in the bleed."""
    expect = doc.expect
    if not expect.print or expect.bleed_mm <= 0:
        return []
    pages = [(i, scan.edges) for i, scan in enumerate(doc.scans) if scan.edges]
    if not pages:
        return []
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return [Finding("bleed", False, None, "bleed coverage not checked: pypdfium2 is not installed")]
    dpi = min(72.0, max(20.0, BLEED_SAMPLE_PX / (expect.bleed_mm / 25.4)))
    scale = dpi / 72
    items = []
    try:
        pdf = pdfium.PdfDocument(doc.data)
    except pdfium.PdfiumError as exc:
        return [Finding("bleed", False, None, f"bleed coverage not checked: PDFium cannot open the "
                        f"file ({exc})")]
    try:
        for index, edges in pages:
            page = doc.pages[index]
            trim, bleed = _box(page, "/TrimBox"), _box(page, "/BleedBox")
            if trim is None or bleed is None or int(_get(page, "/Rotate") or 0) % 360:
                continue  # the boxes check reports missing boxes
            pixels = _draw(pdf, index, scale)
            for side in ("left", "right", "top", "bottom"):
                bare = pixels.uncovered(side, trim, bleed) if side in edges else 0.0
                if bare >= 2 / MM_PER_PT:  # 2 mm of edge
                    items.append((index + 1, f"the background stops at the trim on the {side} "
                                  f"side (bleed not covered along {_mm(bare):.0f} mm)"))
    finally:
        pdf.close()
    return _merge("bleed", True, items)


def _draw(pdf, index: int, scale: float) -> _Pixels:
    """Page `index` drawn by PDFium (RGB, no annotations)."""
    handle = pdf[index]
    try:
        crop = handle.get_bbox()  # what PDFium draws: the CropBox within the MediaBox
        bitmap = handle.render(scale=scale, rev_byteorder=True, draw_annots=False)
        try:
            return _Pixels(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                           bitmap.n_channels, crop, scale)
        finally:
            bitmap.close()
    finally:
        handle.close()


@dataclass
class _Pixels:
    data: bytes
    width: int
    height: int
    stride: int
    channels: int
    crop: tuple[float, float, float, float]  # the page area drawn (CropBox), pt
    scale: float  # px per pt

    def paper(self, x: float, y: float) -> bool | None:
        """Whether the page point (x, y) is unpainted; None when it is outside the drawing."""
        px = int((x - self.crop[0]) * self.scale)
        py = int((self.crop[3] - y) * self.scale)
        if not (0 <= px < self.width and 0 <= py < self.height):
            return None
        at = py * self.stride + px * self.channels
        return min(self.data[at:at + 3]) >= PAPER

    def uncovered(self, side: str, trim, bleed) -> float:
        """Length (pt) along one trim edge where the paper just inside the trim is painted and the
        bleed beyond it is not."""
        px = 1 / self.scale
        inside = max(1.5 * px, 0.5 / MM_PER_PT)
        amounts = dict(_sides(trim, bleed))
        outside = amounts[side] / MM_PER_PT * 0.7  # well into the bleed, clear of its outer edge
        if outside < px:
            return 0.0
        horizontal = side in ("top", "bottom")
        lo, hi = (trim[0], trim[2]) if horizontal else (trim[1], trim[3])
        edge = {"left": trim[0], "right": trim[2], "top": trim[3], "bottom": trim[1]}[side]
        sign = -1 if side in ("left", "bottom") else 1
        bare, steps = 0.0, max(1, int((hi - lo) / px))
        step = (hi - lo) / steps
        for i in range(steps):
            t = lo + (i + 0.5) * step
            if t - lo < 2 * px or hi - t < 2 * px:
                continue  # corners: leave them to the other side
            a, b = edge - sign * inside, edge + sign * outside
            p_in = self.paper(t, a) if horizontal else self.paper(a, t)
            p_out = self.paper(t, b) if horizontal else self.paper(b, t)
            if p_in is False and p_out is True:
                bare += step
        return bare


_COLOUR_TEXT = {
    "rg": "vector content painted in DeviceRGB (rg/RG operators)",
    "cs": "DeviceRGB colour space set with cs/CS ({what})",
    "resource": "the resources name a DeviceRGB colour space ({what})",
    "shading": "shading in DeviceRGB ({what})",
}


def check_colour(doc: _Document) -> list[Finding]:
    """Print: no DeviceRGB in vector content (errors); DeviceRGB images and transparency groups
    blending in DeviceRGB (warnings). Each kind once per page."""
    if not doc.expect.print:
        return []
    errors, warnings = [], []
    for number, scan in enumerate(doc.scans, 1):
        for kind in ("rg", "cs", "resource", "shading"):
            if kind in scan.rgb:
                what = ", ".join(sorted(set(scan.rgb[kind])))
                errors.append((number, _COLOUR_TEXT[kind].format(what=what)))
        if "image" in scan.rgb:
            images = sorted(set(scan.rgb["image"]))
            warnings.append((number, f"image{'s' * (len(images) > 1)} {', '.join(images)} in "
                             "DeviceRGB (convert to CMYK for print)"))
        if "group" in scan.rgb:
            warnings.append((number, "transparency group blends in DeviceRGB (/Group /CS)"))
    return _merge("colour", True, errors) + _merge("colour", False, warnings)


def check_metadata(doc: _Document) -> list[Finding]:
    """Title and language (errors), author (warning); a language other than the edition's
    (warning)."""
    info = doc.reader.trailer.get("/Info")
    info = info.get_object() if info is not None else {}
    root = doc.reader.trailer["/Root"].get_object()
    findings = []

    def text(value) -> str:
        value = value.get_object() if hasattr(value, "get_object") else value
        return str(value).strip() if value is not None else ""

    if not text(_get(info, "/Title")):
        findings.append(Finding("metadata", True, None, "no document title (/Title in the Info "
                                "dictionary)"))
    if not text(_get(info, "/Author")):
        findings.append(Finding("metadata", False, None, "no author (/Author in the Info dictionary)"))
    lang = text(_get(root, "/Lang"))
    if not lang:
        findings.append(Finding("metadata", True, None, "no document language (/Lang in the catalog)"))
    elif doc.expect.edition and lang.split("-")[0].lower() != doc.expect.edition.split("-")[0].lower():
        findings.append(Finding("metadata", False, None, f"the document language is '{lang}', but "
                                f"this is the '{doc.expect.edition}' edition"))
    return findings


def check_links(doc: _Document) -> list[Finding]:
    """Every internal link lands on a page of this document."""
    named = _named_destinations(doc.reader)
    items = []
    for number, page in enumerate(doc.pages, 1):
        for annot in _get(page, "/Annots") or []:
            annot = annot.get_object()
            if _get(annot, "/Subtype") != "/Link":
                continue
            action = _get(annot, "/A")
            if action is not None:
                if _get(action, "/S") != "/GoTo":
                    continue  # URI, GoToR, Launch...: not this document's pages
                dest = _get(action, "/D")
            else:
                dest = _get(annot, "/Dest")
            if dest is None:
                continue
            problem = _destination_problem(doc, dest, named)
            if problem:
                items.append((number, problem))
    return _merge("links", True, items)


def _destination_problem(doc: _Document, dest, named: dict, depth: int = 0) -> str:
    dest = dest.get_object() if hasattr(dest, "get_object") else dest
    if isinstance(dest, dict) and "/D" in dest and depth < 4:
        return _destination_problem(doc, dest["/D"], named, depth + 1)
    if isinstance(dest, list):
        if not dest:
            return "a link has an empty destination"
        target = dest[0]
        if hasattr(target, "idnum"):
            if target.idnum in doc.page_numbers:
                return ""
            return f"a link points to object {target.idnum}, which is not a page of this document"
        if isinstance(target, int):
            count = len(doc.pages)
            if 0 <= target < count:
                return ""
            return f"a link goes to page {target + 1}, but the document has {count} " \
                   f"page{'s' * (count != 1)}"
        return "a link has a malformed destination"
    name = str(dest)
    if name not in named:
        return f"a link goes to the destination '{name}', which this document does not define"
    if depth >= 4:
        return f"a link goes to '{name}', a loop of named destinations"
    problem = _destination_problem(doc, named[name], {}, depth + 1)
    return problem and f"the destination '{name}': {problem.removeprefix('a link ')}"


def _named_destinations(reader) -> dict[str, object]:
    """Named destinations: the catalog's /Dests dictionary and the /Names /Dests name tree."""
    root = reader.trailer["/Root"].get_object()
    found: dict[str, object] = {}
    old = _get(root, "/Dests")
    if old is not None:
        for key, value in old.items():
            found[str(key)[1:]] = value
            found[str(key)] = value
    tree = _get(_get(root, "/Names"), "/Dests")
    stack, seen = ([tree] if tree is not None else []), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        names = _get(node, "/Names") or []
        for i in range(0, len(names) - 1, 2):
            found[str(names[i].get_object() if hasattr(names[i], "get_object") else names[i])] = \
                names[i + 1]
        stack.extend(kid.get_object() for kid in _get(node, "/Kids") or [])
    return found


# --- a project's PDFs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What a project says about its PDFs: languages, sizes, bleed, fonts."""

    languages: tuple[str, ...] = ()
    booklet_mm: tuple[float, float] = (148.0, 210.0)
    poster_mm: tuple[float, float] | None = None
    bleed_mm: float = 3.0
    sheet: str = "A4"
    fonts_dir: Path | None = None


def project_settings(root: Path) -> Settings:
    """Read content/publication.yaml and the theme, as far as they can be read: preflight checks
    PDFs, so a project with a problem still gets its files checked with the defaults."""
    from .brand import load_brand
    from .errors import Problems
    from .schema import SETTINGS
    from .yamlsource import load_yaml

    fonts_dir = root / "fonts" if (root / "fonts").is_dir() else None
    try:
        node = load_yaml(root / "content" / "publication.yaml")
        values = SETTINGS.convert(node, "", Problems()) or {}
    except (ProjectError, AttributeError, OSError):
        return Settings(fonts_dir=fonts_dir)
    languages = tuple(values.get("languages") or ())
    poster_size = (values.get("posters") or {}).get("size", "A2")
    try:
        brand = load_brand(root, values.get("theme") or "default", Problems())
    except (ProjectError, ValueError, KeyError, OSError):
        brand = None
    return settings_from(brand, poster_size, languages, fonts_dir)


def settings_from(brand, poster_size: str, languages: Iterable[str], fonts_dir: Path | None) -> Settings:
    """Settings from what the build has in hand: its Brand (or None), the content's poster size and
    languages, and the project's fonts/ folder."""
    from .brand import length_mm
    from .render import POSTER_SIZES_MM

    settings = Settings(languages=tuple(languages), fonts_dir=fonts_dir,
                        poster_mm=tuple(map(float, POSTER_SIZES_MM[poster_size]))
                        if poster_size in POSTER_SIZES_MM else None)
    if brand is None:
        return settings
    try:
        booklet = (length_mm(brand.booklet["width"]), length_mm(brand.booklet["height"])) \
            if {"width", "height"} <= set(brand.booklet) else settings.booklet_mm
        return replace(settings, booklet_mm=booklet, bleed_mm=brand.print_mm("bleed"),
                       sheet=str(brand.print.get("sheet") or "A4"))
    except (ValueError, KeyError):
        return settings


def guess_kind(path: str) -> str:
    """The kind of PDF a build path names: booklet, poster, bundle, imposed, tiles, or ''."""
    parts = Path(path).parts
    name = parts[-1] if parts else ""
    folder = parts[-2] if len(parts) > 1 else ""
    if name == "booklet-imposed.pdf":
        return "imposed"
    if name == "booklet.pdf":
        return "booklet"
    if name == "culture-kit.pdf":
        return "bundle"
    if folder == "posters":
        return "poster"
    if folder == "tiles":
        return "tiles"
    return ""


def guess_edition(path: str, languages: Iterable[str]) -> str:
    """The edition a path belongs to: the folder after build/, or any folder named as a language."""
    parts = Path(path).parts[:-1]
    languages = tuple(languages)
    for i, part in enumerate(parts[:-1]):
        if part == "build" and (not languages or parts[i + 1] in languages):
            return parts[i + 1]
    for part in reversed(parts):
        if part in languages:
            return part
    return ""


def expect_for(path: str, settings: Settings, kind: str = "", edition: str = "") -> Expect:
    """What a PDF at `path` (a build path such as 'en/print/booklet.pdf') should be.

    A path with a print/ folder is a print edition: bleed and 300 ppi. The imposed booklet and the
    poster tiles are for office printers: 300 ppi, but no TrimBox/BleedBox or CMYK demands."""
    posix = "/" + Path(path).as_posix()
    kind = kind if kind in KINDS else guess_kind(path)
    edition = edition or guess_edition(path, settings.languages)
    office = kind in ("imposed", "tiles")
    is_print = "/print/" in posix and not office
    sheet_w, sheet_h = SHEETS_MM.get(settings.sheet, SHEETS_MM["A4"])
    trim = {"booklet": settings.booklet_mm, "poster": settings.poster_mm,
            "imposed": (sheet_h, sheet_w)}.get(kind)
    return Expect(
        kind=kind, edition=edition, print=is_print, trim_mm=trim,
        bleed_mm=settings.bleed_mm if is_print else 0.0,
        page_multiple={"booklet": 4, "imposed": 2}.get(kind, 1),
        min_ppi=300 if (is_print or office) else 150,
        fonts_dir=settings.fonts_dir)


@dataclass(frozen=True)
class Target:
    """One PDF to check: where it is, how to show it, what to expect of it."""

    path: Path
    name: str  # relative to the project root when inside it, else as given
    key: str  # relative to build/ (as in the manifest) when inside it, else ""
    expect: Expect


def find_targets(root: Path, paths: list[Path]) -> list[Target]:
    """The PDFs to check: those given, or every PDF in build/manifest.json. A missing file, a file
    that is not a PDF or a missing manifest is a ProjectError (one line each)."""
    root = root.resolve()
    settings = project_settings(root)
    build = root / "build"
    entries: list[tuple[Path, str, str]] = []  # path, kind, edition
    if paths:
        entries = [(Path(p), "", "") for p in paths]
    else:
        manifest = build / "manifest.json"
        try:
            artifacts = json.loads(manifest.read_text(encoding="utf-8"))["artifacts"]
            entries = [(build / a["path"], str(a.get("kind", "")), str(a.get("edition", "")))
                       for a in artifacts if str(a["path"]).endswith(".pdf")]
        except FileNotFoundError:
            raise ProjectError([Problem(Location(manifest), "no build to check: there is no "
                                        "manifest; run `culturebook build` first")]) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError([Problem(Location(manifest), f"unreadable manifest ({exc})")]) from None
    problems, targets = [], []
    for path, kind, edition in entries:
        full = (path if path.is_absolute() else Path.cwd() / path).resolve()
        if not full.is_file():
            problems.append(Problem(Location(path), "no such file" if not full.exists() else
                                    "not a file"))
            continue
        with full.open("rb") as f:
            if b"%PDF-" not in f.read(1024):
                problems.append(Problem(Location(path), "not a PDF (no %PDF- header)"))
                continue
        name = _relative(full, root) or str(path)
        key = _relative(full, build.resolve())
        targets.append(Target(full, name, key, expect_for(key or name, settings, kind, edition)))
    if problems:
        raise ProjectError(problems)
    return targets


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return ""


def write_reports(build_dir: Path, results: dict[str, list[Finding]]) -> list[Path]:
    """Write build/<lang>/preflight.json for each edition folder among `results` (keyed by path
    relative to build/, as in the manifest: 'en/booklet.pdf'), each listing its files checked;
    files outside an edition folder are left out. Returns the reports written."""
    editions: dict[str, dict[str, list[Finding]]] = {}
    for key, findings in results.items():
        parts = Path(key).parts
        if len(parts) > 1:
            editions.setdefault(parts[0], {})[key] = findings
    written = []
    for edition, files in sorted(editions.items()):
        path = build_dir / edition / REPORT
        write_report(path, files)
        written.append(path)
    return written


def run_preflight(root: Path, paths: list[Path]) -> dict[str, list[Finding]]:
    """Check the PDFs (those given, or the whole build), write build/<lang>/preflight.json for the
    files checked under build/<lang>/, and return the findings per file (by name)."""
    targets = find_targets(root, paths)
    results: dict[str, list[Finding]] = {}
    reports: dict[str, list[Finding]] = {}
    problems = []
    for target in targets:
        try:
            findings = preflight_pdf(target.path.read_bytes(), target.expect)
        except NotAPDF as exc:
            problems.append(Problem(Location(Path(target.name)), str(exc)))
            continue
        results[target.name] = findings
        if target.key:
            reports[target.key] = findings
    if problems:
        raise ProjectError(problems)
    write_reports(root.resolve() / "build", reports)
    return results


__all__ = ["CHECKS", "Expect", "Finding", "NotAPDF", "Settings", "Target", "expect_for", "failed",
           "find_targets", "preflight_pdf", "project_settings", "run_preflight", "settings_from",
           "totals", "write_report", "write_reports"]
