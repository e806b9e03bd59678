"""Each preflight check of one PDF against what its kind of document must be."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from culturebook.pdf.scan import Document, PdfFont, entry, page_box
from culturebook.pdf.structure import read_structure
from culturebook.preflight.expect import Expect, Finding, page_runs
from culturebook.preflight.fontnames import font_names, from_fonts
from culturebook.preflight.inks import check_inks
from culturebook.preflight.pdfx import check_pdfx
from culturebook.render.paginate import TEXT_PAGE, PageFill, underfilled

CHECKS = ("fonts", "notdef", "images", "pages", "boxes", "bleed", "colour", "pdfx", "metadata",
          "links", "tags", "archive", "fill", "inks")


MM_PER_PT = 25.4 / 72


TOLERANCE_MM = 0.2  # box sizes and bleed widths


def check_fill(doc: Document, expect: Expect) -> list[Finding]:
    """The fill rule on a booklet, from how its layout used each page (expect.page_fills: the
    build's measure, kept in build/manifest.json): every text page but the last reaches at least
    the theme's min-fill of its text area. A PDF alone does not say which pages are text pages,
    so a PDF without that measure is not checked."""

    if not expect.page_fills or len(expect.page_fills) != len(doc.pages):
        return []
    pages = [PageFill(n, kind, fill) for n, (kind, fill) in enumerate(expect.page_fills, 1)]
    return [Finding("fill", True, page.number,
                    f"page {page.number} is a text page only {page.fill:.0%} full (the theme's "
                    f"pages: min-fill is {expect.min_fill:.0%}); a designer would call it empty")
            for page in underfilled(pages, expect.min_fill) if page.kind == TEXT_PAGE]


def preflight_pdf(data: bytes, expect: Expect) -> list[Finding]:
    """Run every check on one PDF; findings in CHECKS order, then by page."""
    doc = Document(data, track_edges=expect.print and expect.bleed_mm > 0)
    findings: list[Finding] = []
    for check in (check_fonts, check_notdef, check_images, check_pages, check_boxes, check_bleed,
                  check_colour, check_pdfx, check_metadata, check_links, check_tags,
                  check_archive, check_fill, check_inks):
        findings += check(doc, expect)
    return findings


def _mm(pt: float) -> float:
    return pt * MM_PER_PT


def _size(box) -> tuple[float, float]:
    return _mm(box[2] - box[0]), _mm(box[3] - box[1])


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _dims(w: float, h: float) -> str:
    return f"{_fmt(w)} × {_fmt(h)} mm"


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
            findings.append(Finding(check, error, None, f"pages {page_runs(pages)}: {text}"))
    return findings


def check_fonts(doc: Document, expect: Expect) -> list[Finding]:
    """Every font embedded, subset, and one of the project's fonts/."""
    folders = expect.fonts_dir if isinstance(expect.fonts_dir, tuple) else (expect.fonts_dir,)
    fonts_dir = tuple(d for d in folders if d is not None and d.is_dir())
    names = None
    for folder in fonts_dir:  # the theme's fonts may be in several installed packages
        more = font_names(folder)
        names = more if names is None else (names[0] | more[0], names[1] | more[1])
    shown = "the project's fonts/ or its theme's" if isinstance(expect.fonts_dir, tuple) else \
        f"the fonts in {fonts_dir[0].name}/" if fonts_dir else ""
    first: dict[object, tuple[int, PdfFont]] = {}
    for number, scan in enumerate(doc.scans, 1):
        for key, font in scan.fonts.items():
            first.setdefault(key, (number, font))
    findings = []
    for page, font in sorted(first.values(), key=lambda item: (item[0], item[1].base)):
        label = font.name or "(unnamed)"
        if font.subtype == "/Type3":
            continue  # glyphs drawn by the PDF's own content streams: nothing to embed
        embedded = isinstance(font.descriptor, dict) and any(
            k in font.descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        if not embedded:
            findings.append(Finding("fonts", True, page, f"page {page}: font {label} is not embedded"))
        elif font.base == font.name:
            findings.append(Finding("fonts", False, page, f"page {page}: font {label} is embedded "
                                    "whole, not subset (no ABCDEF+ prefix)"))
        if fonts_dir and names is not None and not from_fonts(font.name, *names):
            findings.append(Finding("fonts", True, page, f"page {page}: font {label} is not one of "
                                    f"{shown}"))
    return findings


def check_notdef(doc: Document, expect: Expect) -> list[Finding]:
    """No glyph drawn as .notdef (the empty box of a missing character)."""
    findings = []
    for number, scan in enumerate(doc.scans, 1):
        for font, count in sorted(scan.notdef.items()):
            glyphs = "glyph" if count == 1 else "glyphs"
            findings.append(Finding("notdef", True, number, f"page {number}: {count} {glyphs} drawn "
                                    f"as .notdef (an empty box) in font {font}"))
    return findings


def check_images(doc: Document, expect: Expect) -> list[Finding]:
    """Effective resolution of each image at the size it is placed."""
    need = expect.min_ppi
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


def check_pages(doc: Document, expect: Expect) -> list[Finding]:
    """At least one page, and a multiple of the kind's (4 for booklets, 2 imposed)."""
    count, multiple = len(doc.pages), max(1, expect.page_multiple)
    if count == 0:
        return [Finding("pages", True, None, "the document has no pages")]
    if count % multiple:
        up = count + multiple - count % multiple
        return [Finding("pages", True, None, f"{count} pages is not a multiple of {multiple} "
                        f"({up - count} short of {up})")]
    return []


def check_boxes(doc: Document, expect: Expect) -> list[Finding]:
    """Print: TrimBox and BleedBox on every page, the trim size, the bleed on every side, the bleed
    inside the MediaBox. Screen: trimmed (no TrimBox other than the MediaBox), the page size."""
    tol = TOLERANCE_MM
    items: list[tuple[int, str]] = []
    for number, page in enumerate(doc.pages, 1):
        media = page_box(page, "/MediaBox")
        trim, bleed = page_box(page, "/TrimBox"), page_box(page, "/BleedBox")
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


def check_bleed(doc: Document, expect: Expect) -> list[Finding]:
    """Print: where paint reaches the trim, it must carry on into the bleed (pixels).

    Only pages whose content paints up to a trim edge are drawn (from the content walk), at a low
    resolution that puts a few pixels in the bleed."""
    if not expect.print or expect.bleed_mm <= 0:
        return []
    pages = [(i, scan.edges) for i, scan in enumerate(doc.scans) if scan.edges]
    if not pages:
        return []
    import pypdfium2 as pdfium

    dpi = min(72.0, max(20.0, BLEED_SAMPLE_PX / (expect.bleed_mm / 25.4)))
    scale = dpi / 72
    items = []
    try:
        pdf = pdfium.PdfDocument(doc.data)
    except pdfium.PdfiumError as exc:
        return [Finding("bleed", False, None, f"bleed coverage not checked: PDFium cannot open the "
                        f"file ({exc})")]
    found: dict[tuple, list[str]] = {}  # a page drawn like an earlier one is not drawn again
    try:
        for index, edges in pages:
            page = doc.pages[index]
            trim, bleed = page_box(page, "/TrimBox"), page_box(page, "/BleedBox")
            if trim is None or bleed is None or int(entry(page, "/Rotate") or 0) % 360:
                continue  # the boxes check reports missing boxes
            key = doc.page_key(index)
            if key not in found:
                pixels = _draw(pdf, index, scale)
                found[key] = []
                for side in ("left", "right", "top", "bottom"):
                    bare = pixels.uncovered(side, trim, bleed) if side in edges else 0.0
                    if bare >= 2 / MM_PER_PT:  # 2 mm of edge
                        found[key].append(f"the background stops at the trim on the {side} side "
                                          f"(bleed not covered along {_mm(bare):.0f} mm)")
            items += [(index + 1, message) for message in found[key]]
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


def check_colour(doc: Document, expect: Expect) -> list[Finding]:
    """Print and PDF/X: no DeviceRGB in vector content (errors); no DeviceRGB images (errors in a
    file with an output intent, whose images the build converts to the output profile's CMYK;
    warnings without one, where there is no profile to convert to); transparency groups blending in
    DeviceRGB (warnings; errors in PDF/X). Each kind once per page."""
    if not (expect.print or expect.pdfx):
        return []
    errors: list[tuple[int, str]] = []
    warnings: list[tuple[int, str]] = []
    converted = bool(entry(doc.reader.trailer["/Root"].get_object(), "/OutputIntents"))
    for number, scan in enumerate(doc.scans, 1):
        for kind in ("rg", "cs", "resource", "shading"):
            if kind in scan.rgb:
                what = ", ".join(sorted(set(scan.rgb[kind])))
                errors.append((number, _COLOUR_TEXT[kind].format(what=what)))
        if "image" in scan.rgb:
            images = sorted(set(scan.rgb["image"]))
            (errors if converted else warnings).append((number, (
                f"image{'s' * (len(images) > 1)} {', '.join(images)} in DeviceRGB (convert to CMYK "
                "for print)")))
        if "group" in scan.rgb:
            (errors if expect.pdfx else warnings).append(
                (number, "transparency group blends in DeviceRGB (/Group /CS)"))
    return _merge("colour", True, errors) + _merge("colour", False, warnings)


def check_metadata(doc: Document, expect: Expect) -> list[Finding]:
    """Title and language (errors), author (warning); a language other than the edition's
    (warning)."""
    info = doc.reader.trailer.get("/Info")
    info = info.get_object() if info is not None else {}
    root = doc.reader.trailer["/Root"].get_object()
    findings = []

    def text(value) -> str:
        value = value.get_object() if hasattr(value, "get_object") else value
        return str(value).strip() if value is not None else ""

    if not text(entry(info, "/Title")):
        findings.append(Finding("metadata", True, None, "no document title (/Title in the Info "
                                "dictionary)"))
    if not text(entry(info, "/Author")):
        findings.append(Finding("metadata", False, None, "no author (/Author in the Info dictionary)"))
    lang = text(entry(root, "/Lang"))
    if not lang:
        findings.append(Finding("metadata", True, None, "no document language (/Lang in the catalog)"))
    elif expect.edition and lang.split("-")[0].lower() != expect.edition.split("-")[0].lower():
        findings.append(Finding("metadata", False, None, f"the document language is '{lang}', but "
                                f"this is the '{expect.edition}' edition"))
    return findings


def check_links(doc: Document, expect: Expect) -> list[Finding]:
    """Every internal link lands on a page of this document."""
    named = _named_destinations(doc.reader)
    items = []
    for number, page in enumerate(doc.pages, 1):
        for annot in entry(page, "/Annots") or []:
            annot = annot.get_object()
            if entry(annot, "/Subtype") != "/Link":
                continue
            action = entry(annot, "/A")
            if action is not None:
                if entry(action, "/S") != "/GoTo":
                    continue  # URI, GoToR, Launch...: not this document's pages
                dest = entry(action, "/D")
            else:
                dest = entry(annot, "/Dest")
            if dest is None:
                continue
            problem = _destination_problem(doc, dest, named)
            if problem:
                items.append((number, problem))
    return _merge("links", True, items)


def check_tags(doc: Document, expect: Expect) -> list[Finding]:
    """Screen and archival editions: a tagged PDF a screen reader can follow. Marked, with a
    structure tree, the title in the title bar, headings that never skip a level going down,
    alternative text on every figure, and no text drawn outside the tags. (The language is the
    metadata check's.)"""
    if not expect.tagged:
        return []

    found = read_structure(doc.reader, text=False)
    findings = []
    if not found.marked:
        findings.append(Finding("tags", True, None, "not a tagged PDF (no /MarkInfo /Marked true): "
                                "a screen reader cannot follow it"))
    if not found.tree:
        findings.append(Finding("tags", True, None, "no structure tree (/StructTreeRoot)"))
    if not found.display_title:
        findings.append(Finding("tags", True, None, "the title bar shows the file name, not the "
                                "title (/DisplayDocTitle is not true)"))
    level = 0
    for heading, _ in found.headings:
        if heading > level + 1:
            findings.append(Finding("tags", True, None, f"heading level skipped: H{heading} after "
                                    + (f"H{level}" if level else "no heading")))
            break
        level = heading
    missing = sum(alt is None or not alt.strip() for alt in found.figures)
    if missing:
        findings.append(Finding("tags", True, None, f"{missing} figure{'s' * (missing > 1)} "
                                "without alternative text (/Alt)"))
    findings += _merge("tags", True, [(page, "text drawn outside the tags, which a screen "
                                       "reader skips") for page in sorted(found.untagged)])
    return findings


def check_archive(doc: Document, expect: Expect) -> list[Finding]:
    """The archival edition: PDF/A-3 identified in the XMP metadata, an sRGB output intent, its
    content files embedded as associated files (relationship Source), and no encryption."""
    if not expect.archive:
        return []
    root = doc.reader.trailer["/Root"].get_object()
    findings = []
    metadata = entry(root, "/Metadata")
    xmp = metadata.get_object().get_data() if metadata is not None else b""
    part = re.search(rb'pdfaid:part(?:="|>)(\d)', xmp)
    if part is None or part[1] != b"3":
        findings.append(Finding("archive", True, None, "the XMP metadata does not identify PDF/A-3 "
                                "(pdfaid:part)"))
    if not any(entry(i.get_object(), "/S") == "/GTS_PDFA1" for i in entry(root, "/OutputIntents") or []):
        findings.append(Finding("archive", True, None, "no PDF/A output intent (/GTS_PDFA1)"))
    sources = [f.get_object() for f in entry(root, "/AF") or []]
    if not any(entry(f, "/AFRelationship") == "/Source" and entry(f, "/EF") is not None
               for f in sources):
        findings.append(Finding("archive", True, None, "no content file embedded as its source "
                                "(/AF with /AFRelationship /Source)"))
    if "/Encrypt" in doc.reader.trailer:
        findings.append(Finding("archive", True, None, "the file is encrypted, which PDF/A forbids"))
    return findings


def _destination_problem(doc: Document, dest, named: dict, depth: int = 0) -> str:
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
    old = entry(root, "/Dests")
    if old is not None:
        for key, value in old.items():
            found[str(key)[1:]] = value
            found[str(key)] = value
    tree = entry(entry(root, "/Names"), "/Dests")
    stack, seen = ([tree] if tree is not None else []), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        names = entry(node, "/Names") or []
        for i in range(0, len(names) - 1, 2):
            found[str(names[i].get_object() if hasattr(names[i], "get_object") else names[i])] = \
                names[i + 1]
        stack.extend(kid.get_object() for kid in entry(node, "/Kids") or [])
    return found
