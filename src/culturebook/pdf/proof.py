"""Soft proof: a print PDF's pages as PNGs that look as they will on paper.

Ghostscript draws each page in CMYK, cropped to its TrimBox (or BleedBox), with the output profile as
both its default CMYK profile and its output profile, so DeviceCMYK ink values pass through
unchanged and anything else is separated as the press will. Pillow's ImageCms then turns the ink
values into sRGB through the same profile with the absolute colorimetric intent: the paper's own
white (FOGRA39: L 95, a 0, b -2) shows as a slightly grey-blue white, and the ink's dull blacks as
they print. The gamut warning compares the screen edition's page, drawn with pypdfium2, with its
proof through the profile (LittleCMS's gamut check) and hatches what the press cannot reach.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from culturebook.errors import Location, Problem, ProjectError

if TYPE_CHECKING:
    from PIL import Image as PILImage

BOXES = ("trim", "bleed")
WARNING_RGB = (255, 0, 255)  # the overlay's magenta: a colour no page of ours uses
HATCH_MM = (2.0, 0.5)  # the overlay's diagonal stripes: one every 2 mm, 0.5 mm wide (2 px at 100 dpi)
GS_MISSING = "culturebook proof needs Ghostscript (gs), which is not installed: apt-get install ghostscript"


class NoGhostscript(Exception):
    """`gs` is not on the PATH: proofing cannot start."""


@dataclass(frozen=True)
class Sheet:
    """One proofed page: its PNG, its size in pixels, and how many pixels the overlay marked."""

    png: bytes
    size: tuple[int, int]
    marked: int = 0


def ghostscript() -> str:
    """The path of Ghostscript's `gs`; NoGhostscript when there is none."""
    found = shutil.which("gs")
    if found is None:
        raise NoGhostscript(GS_MISSING)
    return found


def draw_cmyk(pdf: Path, profile: Path, dpi: int, box: str = "trim") -> list[PILImage.Image]:
    """Each page of `pdf` as a CMYK image at `dpi`, cropped to its TrimBox or BleedBox, its ink
    values as the press will print them (see the module's docstring)."""
    from PIL import Image

    command = [ghostscript(), "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=tiff32nc",
               f"-r{dpi}", "-dUseTrimBox" if box == "trim" else "-dUseBleedBox",
               "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4",
               f"-sOutputICCProfile={profile}", f"-sDefaultCMYKProfile={profile}"]
    with tempfile.TemporaryDirectory(prefix="culturebook-proof-") as tmp:
        result = subprocess.run([*command, "-o", f"{tmp}/page-%05d.tif", str(pdf)],
                                capture_output=True, text=True)
        files = sorted(Path(tmp).glob("page-*.tif"))
        if result.returncode != 0 or not files:
            said = [line.strip() for line in (result.stdout + result.stderr).splitlines()
                    if line.strip()]  # its first line says what; then come the interpreter's stacks
            said = [line for line in said if line.startswith("Error")] or said
            raise ProjectError([Problem(Location(pdf), "Ghostscript could not draw it"
                                        + (f": {said[0]}" if said else ""),
                                        "build it again: culturebook build print --force")])
        pages = []
        for file in files:
            with Image.open(file) as image:
                image.load()
                pages.append(image)
    return pages


class Press:
    """The colour transforms of one output profile, made once for every page proofed with it."""

    def __init__(self, profile: Path) -> None:
        from PIL import ImageCms

        srgb, press = ImageCms.createProfile("sRGB"), ImageCms.getOpenProfile(str(profile))
        self.profile = profile
        self.paper = ImageCms.buildTransform(press, srgb, "CMYK", "RGB",
                                             ImageCms.Intent.ABSOLUTE_COLORIMETRIC)
        relative, flags = ImageCms.Intent.RELATIVE_COLORIMETRIC, ImageCms.Flags.SOFTPROOFING
        self.proofs = [ImageCms.buildProofTransform(srgb, srgb, press, "RGB", "RGB", relative,
                                                    relative, flags | extra)
                       for extra in (ImageCms.Flags.NONE, ImageCms.Flags.GAMUTCHECK)]

    def on_paper(self, page: PILImage.Image) -> PILImage.Image:
        """A CMYK page as sRGB as it will look on the press's paper: absolute colorimetric
        through the profile, so the paper's white and the ink's blacks are simulated."""
        from PIL import ImageCms

        return ImageCms.applyTransform(page, self.paper)

    def out_of_gamut(self, screen: PILImage.Image) -> PILImage.Image:
        """A mask (mode L, 255 where marked) of the sRGB pixels of `screen` that the press cannot
        print. LittleCMS proofs the image through the profile twice, once with its gamut check
        (which paints what is out of gamut in its alarm grey); the pixels where the two differ
        are the ones it flagged."""
        from PIL import ImageChops, ImageCms

        rgb = screen.convert("RGB")
        plain, checked = (ImageCms.applyTransform(rgb, t) for t in self.proofs)
        return ImageChops.difference(plain, checked).convert("L").point(lambda v: 255 if v else 0)


def hatch(proof: PILImage.Image, mask: PILImage.Image, dpi: int) -> PILImage.Image:
    """`proof` (at `dpi`) with the masked area hatched in thin magenta stripes: the gamut warning,
    which leaves the proofed colour visible between its stripes."""
    from PIL import Image, ImageChops, ImageDraw

    stripes = Image.new("L", proof.size, 0)
    draw = ImageDraw.Draw(stripes)
    width, height = proof.size
    every, wide = (max(1, round(mm * dpi / 25.4)) for mm in HATCH_MM)
    for x in range(-height, width, max(every, wide + 1)):
        draw.line([(x, height), (x + height, 0)], fill=255, width=wide)
    return Image.composite(Image.new("RGB", proof.size, WARNING_RGB), proof,
                           ImageChops.multiply(mask, stripes))


def draw_screen(pdf: Path, sizes: list[tuple[int, int]]) -> list[PILImage.Image]:
    """The pages of a screen edition as sRGB images of the given pixel sizes (its pages are the
    print edition's trimmed pages), drawn with pypdfium2."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        images = []
        for page, size in zip(document, sizes, strict=False):
            scale = size[0] / page.get_width()
            image = page.render(scale=scale).to_pil().convert("RGB")
            images.append(image if image.size == size else image.resize(size))
            page.close()
        return images
    finally:
        document.close()


def trim_offsets(pdf: Path, dpi: int) -> list[tuple[int, int]]:
    """Where each page's TrimBox begins inside its BleedBox, in pixels at `dpi` (from the top left)."""
    from pypdf import PdfReader

    offsets = []
    for page in PdfReader(pdf).pages:
        trim, bleed = page.trimbox, page.bleedbox
        offsets.append((round((float(trim.left) - float(bleed.left)) * dpi / 72),
                        round((float(bleed.top) - float(trim.top)) * dpi / 72)))
    return offsets


def _same_pages(screen: Path, pdf: Path, count: int) -> None:
    """The gamut warning lays the screen page over its print page: both editions must have as many."""
    from pypdf import PdfReader

    have = len(PdfReader(screen).pages)
    if have != count:
        raise ProjectError([Problem(Location(screen), f"has {have} pages and its print edition "
                                    f"{pdf.name} {count}: the gamut warning needs the same pages",
                                    "build both again: culturebook build all")])


def proof_pages(pdf: Path, press: Press, dpi: int, box: str = "trim",
                screen: Path | None = None) -> list[Sheet]:
    """Every page of the print PDF `pdf` as a soft proof PNG on `press`; with `screen` (its screen
    edition, the same pages without bleed), the screen colours it cannot reach hatched in magenta."""
    from PIL import Image

    proofs = [press.on_paper(page) for page in draw_cmyk(pdf, press.profile, dpi, box)]
    masks: list[PILImage.Image | None] = [None] * len(proofs)
    if screen is not None:
        _same_pages(screen, pdf, len(proofs))
        offsets = trim_offsets(pdf, dpi) if box == "bleed" else [(0, 0)] * len(proofs)
        trimmed = [(proof.width - 2 * x, proof.height - 2 * y)
                   for proof, (x, y) in zip(proofs, offsets, strict=True)]
        for n, (page, offset) in enumerate(zip(draw_screen(screen, trimmed), offsets, strict=False)):
            mask = Image.new("L", proofs[n].size, 0)
            mask.paste(press.out_of_gamut(page), offset)
            masks[n] = mask
    sheets = []
    for proof, mask in zip(proofs, masks, strict=True):
        marked = 0
        if mask is not None:
            marked = mask.histogram()[255]
            proof = hatch(proof, mask, dpi) if marked else proof
        data = io.BytesIO()
        proof.save(data, "PNG", optimize=True)
        sheets.append(Sheet(data.getvalue(), proof.size, marked))
    return sheets
