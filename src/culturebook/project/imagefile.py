"""An image file -> what is wrong with it, found by decoding it in full as the PDF would draw it.

WeasyPrint turns Pillow's LOAD_TRUNCATED_IMAGES on when it is imported, so a truncated PNG or JPEG
is drawn with its missing rows black or grey and nothing said. An image is therefore decoded here,
whole, with that setting off, before anything is laid out: what cannot be drawn as it is stored is
an error at the reference, what is drawn other than the file suggests (only the first frame of an
animation, CMYK colours placed unconverted, a file whose name says another format) a warning.
SVG is parsed as XML and must hold everything it shows: a reference to another file or to the
network is refused, as the rest of a project's rendering refuses it.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from culturebook.errors import Location, Problem, Problems

MAX_IMAGE_PIXELS = 50_000_000  # 50 MP: an A2 poster at 300 ppi is 35 MP

# What each accepted file name promises, and the formats Pillow may find in it.
SUFFIX_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}
FORMAT_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "GIF": "GIF", "WEBP": "WebP"}
FORMAT_SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}
# The pixel modes WeasyPrint draws (1 and P it converts to RGB); any other is drawn wrong.
DRAWN_MODES = {"RGB", "RGBA", "L", "LA", "CMYK", "1", "P"}

SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL_RE = re.compile(r"url\(\s*['\"]?([^'\")\s]+)|@import\s+['\"]([^'\"]+)")
AGAIN = "export or download the image again"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with an image file (an error unless `warning`), without its place."""

    message: str  # follows "image '<name>' "
    hint: str = ""
    warning: bool = False


_checked: dict[tuple, tuple[Finding, ...]] = {}


def check_image_file(file: Path, name: str, loc: Location, problems: Problems) -> bool:
    """Report what is wrong with the image `file` (referred to as `name`) at `loc`, each problem
    once; True when it can be drawn (perhaps with warnings)."""
    try:
        stat = file.stat()
        key = (str(file), stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = None
    findings = _checked.get(key) if key else None
    if findings is None:
        findings = tuple(inspect(file))
        if key:
            _checked[key] = findings
    for finding in findings:
        problem = Problem(loc, f"image '{name}' {finding.message}", finding.hint, finding.warning)
        if problem not in problems.items:  # an edition that falls back refers to it again
            problems.items.append(problem)
    return not any(not f.warning for f in findings)


def inspect(file: Path) -> list[Finding]:
    """What is wrong with an image file (PNG, JPEG, GIF, WebP or SVG)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        return [Finding(f"cannot be read: {exc.strerror}")]
    suffix = file.suffix.lower()
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or (
            suffix == ".svg" and not _is_raster(file)):
        findings = _inspect_svg(data)
        if suffix != ".svg" and not findings:  # WeasyPrint tries SVG when Pillow gives up
            findings.append(_misnamed("SVG", suffix, ".svg"))
        return findings
    return _inspect_raster(file)


def _is_raster(file: Path) -> bool:
    from PIL import Image

    with _strict_decoding():
        try:
            with Image.open(file):
                return True
        except Exception:  # noqa: BLE001 - not an image Pillow knows: taken for SVG
            return False


def _a(kind: str) -> str:
    """The article of a format's name, said as letters: an SVG, a PNG."""
    return "an" if kind[0] in "AEFHILMNORSX" else "a"


def _misnamed(kind: str, suffix: str, right: str) -> Finding:
    return Finding(f"is {_a(kind)} {kind} file named {suffix}; it is drawn as the {kind} it is",
                   f"rename it to {right} so that other programs open it too", warning=True)


@contextlib.contextmanager
def _strict_decoding():
    """Pillow as it is out of the box: a truncated file is an error (whatever WeasyPrint set), and
    a huge image is left to our own limit rather than warned about."""
    from PIL import Image, ImageFile

    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _inspect_raster(file: Path) -> list[Finding]:
    from PIL import Image, UnidentifiedImageError

    limit = MAX_IMAGE_PIXELS // 1_000_000
    scale_down = "scale it down; 300 ppi at the printed size is enough"
    findings = []
    with _strict_decoding():
        try:
            with Image.open(file) as im:
                fmt, mode, (w, h) = im.format, im.mode, im.size
                frames = getattr(im, "n_frames", 1)
                if fmt not in FORMAT_NAMES:
                    return [Finding(f"is {_a(fmt)} {fmt} file; culturebook takes PNG, JPEG, GIF, WebP "
                                    "and SVG images", "save it as PNG or JPEG")]
                if w * h > MAX_IMAGE_PIXELS:
                    return [Finding(f"is {w}×{h} px ({w * h / 1e6:.0f} MP), over the {limit} MP "
                                    "limit", scale_down)]
                im.verify()  # PNG: every chunk's checksum, and the file's end
            with Image.open(file) as im:
                im.load()  # the first frame, the one drawn, decoded in full
        except Image.DecompressionBombError:
            return [Finding(f"is over the {limit} MP limit", scale_down)]
        except UnidentifiedImageError:
            return [Finding("cannot be read as an image: its bytes are not PNG, JPEG, GIF or WebP",
                            AGAIN)]
        except Exception as exc:  # noqa: BLE001 - whatever the decoder says, the file is unusable
            reason = str(exc) or type(exc).__name__
            if "truncat" in reason.lower():
                return [Finding(f"is truncated: the file ends before the picture does ({reason})",
                                AGAIN)]
            return [Finding(f"is damaged: {reason}", AGAIN)]
    named = SUFFIX_FORMATS.get(file.suffix.lower())
    kind = FORMAT_NAMES[fmt]
    if named is None or FORMAT_NAMES[named] != kind:  # a JPEG named .png, a PNG named .svg
        findings.append(_misnamed(kind, file.suffix, FORMAT_SUFFIX["JPEG" if fmt == "MPO" else fmt]))
    if mode.startswith(("I", "F")):
        depth = "16-bit" if mode.startswith("I;16") else "32-bit"
        return [Finding(f"is a {depth} greyscale {kind}, which the PDF cannot draw (WeasyPrint: "
                        f"unknown image mode {mode})", "save it as 8-bit greyscale or RGB")]
    if mode not in DRAWN_MODES:
        return [Finding(f"has pixels in mode {mode}, which the PDF cannot draw",
                        "save it as 8-bit RGB")]
    if frames > 1:
        findings.append(Finding(f"is animated ({frames} frames); only its first frame is drawn",
                                "save the frame you want as a still image", warning=True))
    if mode == "CMYK":
        findings.append(Finding("is CMYK: screen editions place it unconverted, so each PDF viewer "
                                "shows its own conversion of its colours", "use an RGB (sRGB) image: "
                                "print editions convert RGB to the output profile's CMYK",
                                warning=True))
    return findings


def _inspect_svg(data: bytes) -> list[Finding]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        return [Finding(f"is not well-formed SVG: {exc}",
                        "open it in an SVG editor and save it again")]
    if root.tag != f"{SVG_NS}svg":
        tag = root.tag.rsplit("}", 1)[-1]
        return [Finding(f"is not an SVG image: its root element is <{tag}>, not <svg>",
                        "save it as SVG (or as PNG)")]
    text = data.decode("utf-8", "replace")
    for element in root.iter():
        refs = []
        if element.tag != f"{SVG_NS}a":  # a link is followed by the reader, not fetched
            refs += [element.get("href"), element.get(XLINK_HREF), element.get("src")]
        styles = [v for k, v in element.attrib.items() if "url(" in v or k == "style"]
        if element.tag == f"{SVG_NS}style" and element.text:
            styles.append(element.text)
        refs += [m[1] or m[2] for s in styles for m in _URL_RE.finditer(s)]
        for ref in refs:
            if ref and not ref.startswith(("#", "data:")):
                line = text.count("\n", 0, max(text.find(ref), 0)) + 1
                return [Finding(f"refers to '{ref}' (line {line} of the SVG); an SVG must hold "
                                "all it shows, nothing is fetched for it",
                                "embed what it refers to (as a data: URI) or remove the reference")]
    return _undrawable(root)


def _undrawable(root: ElementTree.Element) -> list[Finding]:
    """What WeasyPrint fails to draw in an SVG it parsed ("Failed to render SVG image", and the
    image left out): a viewBox that is not four numbers, a <use> inside what it draws."""
    fix = "open it in an SVG editor and save it again"
    for element in root.iter():
        box = element.get("viewBox")
        if box is not None:
            parts = box.replace(",", " ").split()
            try:
                numbers = [float(p) for p in parts]
            except ValueError:
                numbers = []
            if len(numbers) != 4:
                return [Finding(f"cannot be drawn: its viewBox '{box}' is not four numbers "
                                "(min-x min-y width height)", fix)]
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    parents = {child: parent for parent in root.iter() for child in parent}
    for use in root.iter(f"{SVG_NS}use"):
        target = ids.get((use.get("href") or use.get(XLINK_HREF) or "").removeprefix("#"))
        ancestor = use
        while target is not None and ancestor is not None:
            if ancestor is target:
                return [Finding(f"cannot be drawn: its <use> of #{target.get('id')} is inside "
                                "what it draws, so drawing it never ends", fix)]
            ancestor = parents.get(ancestor)
    return []


THEME_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}


def check_theme_images(dirs: tuple[Path, ...], problems: Problems) -> None:
    """Check every image file of the themes (a logo, a texture) that a template or stylesheet
    names, at the first place that names it; an image nothing names is never drawn."""
    texts = []
    for directory in dirs:
        for path in sorted(directory.rglob("*")):
            if path.suffix in (".html", ".css") and path.is_file():
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    texts.append((path, path.read_text(encoding="utf-8").splitlines()))
    seen = set()
    for directory in dirs:
        for file in sorted(directory.rglob("*")):
            name = file.relative_to(directory).as_posix()
            if file.suffix.lower() not in THEME_IMAGE_SUFFIXES or not file.is_file() or name in seen:
                continue
            seen.add(name)  # a theme's own file hides the one of the theme it extends
            pattern = re.compile(rf"(?<![\w/.-]){re.escape(name)}(?![\w/.-])")
            loc = next((Location(path, n, m.start() + 1) for path, lines in texts
                        for n, line in enumerate(lines, 1) if (m := pattern.search(line))), None)
            if loc is not None:
                check_image_file(file, name, loc, problems)


def reason_for(file: Path) -> str | None:
    """Why an image file cannot be drawn, in the words of the checks (for what WeasyPrint only
    logs, often without a reason), or None if the checks find nothing."""
    errors = [f for f in inspect(file) if not f.warning]
    return errors[0].message if errors else None
