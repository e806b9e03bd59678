"""A print file -> its PDF/X-4 findings, rule by rule (ISO 15930-7), and the list of rules checked.

Each rule has a short id and one line saying what it demands; a finding names its rule
("PDF/X-4 trim-box: ...") and, where it concerns a page, the page. Two rules are the work of other
checks, which report them for every print file already: every font embedded (`fonts`) and no
DeviceRGB (`colour`, which also holds images: the build converts them to the output profile's
CMYK, so a DeviceRGB image left in a PDF/X file is an error). `NOT_CHECKED` lists what a full
PDF/X-4 validator would look at and this one does not, with why; preflight.json carries both lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from culturebook.pdf.pdfx import INFO_XMP, PDFX_VERSION, iso_date, normal_date, read_xmp
from culturebook.pdf.scan import Document, entry, page_box
from culturebook.preflight.expect import Expect, Finding, page_runs

TOLERANCE_PT = 0.01

Found = list[tuple[str, int | None, str]]  # (rule id, page or None, what is wrong)


@dataclass(frozen=True)
class Rule:
    """One PDF/X-4 requirement: an id, what it demands, and the check that reports it."""

    id: str
    description: str
    check: str = "pdfx"


RULES = (
    Rule("output-intent", "one /GTS_PDFX output intent with an OutputConditionIdentifier and an "
                          "embedded CMYK (N 4) ICC DestOutputProfile"),
    Rule("version", "the header says PDF 1.6 or earlier, and the catalog no later /Version"),
    Rule("xmp-version", "XMP metadata with pdfxid:GTS_PDFXVersion PDF/X-4"),
    Rule("xmp-ids", "XMP xmpMM:DocumentID, xmpMM:VersionID and xmpMM:RenditionClass"),
    Rule("xmp-info", "the XMP repeats the Info dictionary: Title, Author, Subject, Keywords, "
                     "Creator, Producer, CreationDate, ModDate, Trapped"),
    Rule("trapped", "Info /Trapped is /True or /False"),
    Rule("file-id", "the trailer has a file identifier (/ID)"),
    Rule("encryption", "the file is not encrypted"),
    Rule("trim-box", "every page has a TrimBox or an ArtBox"),
    Rule("box-nesting", "on every page TrimBox within BleedBox within MediaBox"),
    Rule("fonts-embedded", "every font is embedded", "fonts"),
    Rule("device-rgb", "no DeviceRGB in vector content, colour spaces, shadings, transparency "
                       "groups or images", "colour"),
    Rule("transfer", "no transfer function (/TR, or /TR2 other than /Default) in an ExtGState"),
    Rule("alternates", "no image with /Alternates"),
    Rule("postscript", "no PostScript XObject"),
    Rule("opi", "no OPI comments (/OPI) on images or forms"),
    Rule("actions", "no JavaScript and no actions other than links (/URI, /GoTo)"),
)

NOT_CHECKED = (
    ("spot-colours", "Separation and DeviceN colour spaces: one alternate and tint transform per "
                     "colourant name; culturebook prints in process CMYK only"),
    ("overprint", "overprint mode semantics (OPM 1 with ICC-based CMYK); culturebook sets no "
                  "overprint"),
    ("image-icc", "ICC versions and validity of profiles embedded in images and ICCBased colour "
                  "spaces other than the output profile"),
    ("annotations", "annotations inside the BleedBox being hidden or PrinterMark: the print files "
                    "keep only links, which print nothing"),
    ("optional-content", "optional content configurations (each named, no /AS auto-state); "
                         "culturebook writes none"),
    ("blend-groups", "colour spaces of transparency groups other than DeviceRGB, and blend modes"),
    ("external", "external content: /Ref reference XObjects and externally referenced profiles "
                 "(PDF/X-4p); culturebook embeds everything"),
    ("limits", "implementation limits (string, name and array lengths, nesting depth)"),
)


def rules_listed() -> dict:
    """The PDF/X-4 rules, for preflight.json: checked (id, description, check) and not checked."""
    return {"standard": PDFX_VERSION,
            "checked": [{"id": r.id, "description": r.description, "check": r.check} for r in RULES],
            "not-checked": [{"id": i, "why": why} for i, why in NOT_CHECKED]}


def claims_pdfx(doc: Document) -> bool:
    """Whether a file says it is PDF/X (an output intent, or the XMP's PDF/X version)."""
    root = doc.reader.trailer["/Root"].get_object()
    metadata = entry(root, "/Metadata")
    xmp = metadata.get_data() if metadata is not None else b""
    return bool(entry(root, "/OutputIntents")) or b"GTS_PDFXVersion" in xmp


def check_pdfx(doc: Document, expect: Expect) -> list[Finding]:
    """Every rule of RULES this module checks, on a file held to PDF/X-4: a print file of a theme
    with an output profile (`expect.pdfx`), or any print file that claims PDF/X."""
    if not (expect.pdfx or (expect.print and claims_pdfx(doc))):
        return []
    found: Found = []
    root = doc.reader.trailer["/Root"].get_object()
    info = entry(doc.reader.trailer, "/Info")
    found += _intent(root)
    found += _version(doc, root)
    found += _metadata(root, info if info is not None else {})
    if entry(info, "/Trapped") not in ("/True", "/False"):
        found.append(("trapped", None, "/Trapped in the Info dictionary is not /True or /False"))
    ids = entry(doc.reader.trailer, "/ID")
    if not ids or len(ids) != 2:
        found.append(("file-id", None, "no file identifier (/ID in the trailer)"))
    if "/Encrypt" in doc.reader.trailer:
        found.append(("encryption", None, "the file is encrypted"))
    found += _boxes(doc)
    found += _resources(doc)
    found += _actions(doc, root)
    return _findings(found)


def _findings(found: Found) -> list[Finding]:
    """Findings in RULES order, then by page; one per rule and message, its pages together."""
    order = {rule.id: n for n, rule in enumerate(RULES)}
    groups: dict[tuple[str, str], list[int | None]] = {}
    for rule, page, text in found:
        groups.setdefault((rule, text), []).append(page)
    findings = []
    for (rule, text), pages in sorted(groups.items(), key=lambda g: (order[g[0][0]],
                                                                      min(p or 0 for p in g[1]))):
        numbers = sorted({p for p in pages if p is not None})
        where = "" if not numbers else f"page {numbers[0]}: " if len(numbers) == 1 else \
            f"pages {page_runs(numbers)}: "
        findings.append(Finding("pdfx", True, numbers[0] if len(numbers) == 1 else None,
                                f"{where}PDF/X-4 {rule}: {text}"))
    return findings


def _intent(root) -> Found:
    intents = [i.get_object() for i in entry(root, "/OutputIntents") or []]
    pdfx = [i for i in intents if entry(i, "/S") == "/GTS_PDFX"]
    if not intents:
        return [("output-intent", None, "no output intent (/OutputIntents in the catalog)")]
    if not pdfx:
        kinds = ", ".join(str(entry(i, "/S")) for i in intents)
        return [("output-intent", None, f"the output intent is {kinds}, not /GTS_PDFX")]
    found: Found = []
    if len(pdfx) > 1:
        found.append(("output-intent", None, f"{len(pdfx)} /GTS_PDFX output intents, not one"))
    intent = pdfx[0]
    if not str(entry(intent, "/OutputConditionIdentifier") or "").strip():
        found.append(("output-intent", None, "the output intent has no OutputConditionIdentifier"))
    profile = entry(intent, "/DestOutputProfile")
    if profile is None:
        found.append(("output-intent", None, "the output intent embeds no profile "
                                             "(/DestOutputProfile)"))
    else:
        data = profile.get_data()
        if entry(profile, "/N") != 4 or data[16:20] != b"CMYK" or data[36:40] != b"acsp":
            found.append(("output-intent", None, "the output intent's profile is not a CMYK ICC "
                                                 "profile"))
    return found


def _version(doc: Document, root) -> Found:
    found: Found = []
    header = doc.data[:16].split(b"\n")[0].split(b"\r")[0].decode("latin-1")
    match = re.match(r"%PDF-(\d+)\.(\d+)", header)
    if match is None or (int(match[1]), int(match[2])) > (1, 6):
        found.append(("version", None, f"the header is {header.strip()}, later than PDF 1.6"))
    version = str(entry(root, "/Version") or "").lstrip("/")
    if version and tuple(int(v) for v in re.findall(r"\d+", version)[:2]) > (1, 6):
        found.append(("version", None, f"the catalog says /Version {version}, later than 1.6"))
    return found


def _metadata(root, info) -> Found:
    metadata = entry(root, "/Metadata")
    if metadata is None:
        return [("xmp-version", None, "no XMP metadata (/Metadata in the catalog)")]
    xmp = read_xmp(metadata.get_data())
    if xmp is None:
        return [("xmp-version", None, "the XMP metadata is not well-formed XML")]
    found: Found = []
    version = xmp.get("pdfxid:GTS_PDFXVersion")
    if version != PDFX_VERSION:
        found.append(("xmp-version", None, f"the XMP's pdfxid:GTS_PDFXVersion is "
                                           f"{version or 'missing'}, not {PDFX_VERSION}"))
    missing = [k for k in ("xmpMM:DocumentID", "xmpMM:VersionID", "xmpMM:RenditionClass")
               if not xmp.get(k)]
    if missing:
        found.append(("xmp-ids", None, f"the XMP has no {', '.join(missing)}"))
    for key, prop in INFO_XMP.items():
        value = entry(info, key)
        if value is None:
            continue
        text = str(value).lstrip("/") if key == "/Trapped" else str(value)
        theirs = xmp.get(prop)
        if key in ("/CreationDate", "/ModDate"):
            text, theirs = normal_date(iso_date(text) or text), theirs and normal_date(theirs)
        if theirs is None:
            found.append(("xmp-info", None, f"Info {key} is not in the XMP ({prop})"))
        elif theirs.strip() != text.strip():
            found.append(("xmp-info", None, f"Info {key} '{_short(text)}' differs from the "
                                            f"XMP's {prop} '{_short(theirs)}'"))
    return found


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def _boxes(doc: Document) -> Found:
    found: Found = []
    for number, page in enumerate(doc.pages, 1):
        media = page_box(page, "/MediaBox")
        trim = page_box(page, "/TrimBox") or page_box(page, "/ArtBox")
        if trim is None:
            found.append(("trim-box", number, "no TrimBox (or ArtBox)"))
        if media is None:
            continue
        bleed = page_box(page, "/BleedBox") or page_box(page, "/CropBox") or media
        if trim is not None and not _within(trim, bleed):
            found.append(("box-nesting", number, "the TrimBox reaches beyond the BleedBox"))
        if not _within(bleed, media):
            found.append(("box-nesting", number, "the BleedBox reaches beyond the MediaBox"))
    return found


def _within(inner, outer) -> bool:
    return (inner[0] >= outer[0] - TOLERANCE_PT and inner[1] >= outer[1] - TOLERANCE_PT
            and inner[2] <= outer[2] + TOLERANCE_PT and inner[3] <= outer[3] + TOLERANCE_PT)


def _resources(doc: Document) -> Found:
    """Transfer functions, alternate images, PostScript and OPI in the resources a page uses,
    through its forms, patterns and annotation appearances (each object looked at once)."""
    found: Found = []
    seen: dict[int, list[tuple[str, str]]] = {}  # object number -> what it holds

    def walk(resources, depth: int = 0) -> list[tuple[str, str]]:
        key = getattr(resources, "idnum", None)
        if key is not None and key in seen:
            return seen[key]
        resources = resources.get_object() if hasattr(resources, "get_object") else resources
        held: list[tuple[str, str]] = []
        if key is not None:
            seen[key] = held
        if not hasattr(resources, "get") or depth > 12:
            return held
        for name, state in (entry(resources, "/ExtGState") or {}).items():
            held += _transfer(f"ExtGState {name}", state.get_object())
        for name, ref in (entry(resources, "/XObject") or {}).items():
            xobject = ref.get_object()
            subtype = entry(xobject, "/Subtype")
            if subtype == "/PS" or entry(xobject, "/Subtype2") == "/PS":
                held.append(("postscript", f"XObject {name} is PostScript"))
            if "/OPI" in xobject:
                held.append(("opi", f"XObject {name} carries OPI comments (/OPI)"))
            if subtype == "/Image" and "/Alternates" in xobject:
                held.append(("alternates", f"image {name} has alternate images (/Alternates)"))
            if subtype == "/Form" and "/Resources" in xobject:
                held += walk(xobject.raw_get("/Resources"), depth + 1)
        for ref in (entry(resources, "/Pattern") or {}).values():
            pattern = ref.get_object()
            if "/Resources" in pattern:
                held += walk(pattern.raw_get("/Resources"), depth + 1)
            state = entry(pattern, "/ExtGState")
            if state is not None:
                held += _transfer("a shading pattern's ExtGState", state)
        return held

    for number, page in enumerate(doc.pages, 1):
        held = walk(page.raw_get("/Resources")) if "/Resources" in page else []
        for annot in entry(page, "/Annots") or []:
            appearance = entry(entry(annot.get_object(), "/AP"), "/N")
            if appearance is not None and "/Resources" in appearance:
                held = held + walk(appearance.raw_get("/Resources"))
        found += [(rule, number, text) for rule, text in dict.fromkeys(held)]
    return found


def _transfer(what: str, state) -> list[tuple[str, str]]:
    """A transfer function in an ExtGState: /TR, or /TR2 other than /Default."""
    held = []
    for key in ("/TR", "/TR2"):
        value = entry(state, key)
        if value is not None and not (key == "/TR2" and value == "/Default"):
            held.append(("transfer", f"{what} sets a transfer function ({key})"))
    return held


ALLOWED_ACTIONS = ("/URI", "/GoTo")


def _actions(doc: Document, root) -> Found:
    found: Found = []
    if entry(entry(root, "/Names"), "/JavaScript") is not None:
        found.append(("actions", None, "the document has JavaScript (/Names /JavaScript)"))
    if "/AA" in root:
        found.append(("actions", None, "the catalog has additional actions (/AA)"))
    opening = entry(root, "/OpenAction")
    if isinstance(opening, dict) and entry(opening, "/S") not in ALLOWED_ACTIONS:
        found.append(("actions", None, f"the document opens with a {entry(opening, '/S')} action"))
    for number, page in enumerate(doc.pages, 1):
        if "/AA" in page:
            found.append(("actions", number, "the page has additional actions (/AA)"))
        for annot in entry(page, "/Annots") or []:
            annot = annot.get_object()
            if "/AA" in annot:
                found.append(("actions", number, "an annotation has additional actions (/AA)"))
            action = entry(annot, "/A")
            if action is not None and entry(action, "/S") not in ALLOWED_ACTIONS:
                found.append(("actions", number, f"an annotation runs a {entry(action, '/S')} "
                                                 "action"))
    return found
