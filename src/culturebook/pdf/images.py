"""Print-edition PDF -> the same PDF with every colour image in the output profile's CMYK.

WeasyPrint places raster images as they are stored: an RGB photo becomes a DeviceRGB image, which a
CMYK print file must not carry, and which a print shop's RIP would convert with a profile nobody
chose. This stage walks every image the pages draw (directly, inside forms and inside tiling
patterns) and converts each RGB one with LittleCMS (Pillow's ImageCms) from the image's own
profile (the ICC profile its file embeds, sRGB when there is none) to the output profile, with
the theme's rendering intent (relative colorimetric with black-point compensation, or perceptual).
A CMYK JPEG tagged with another CMYK profile is converted the same way; an untagged CMYK image is
taken to be in the output condition already and left alone, and greyscale images stay grey (one
ink). Soft masks (an image's alpha, a luminosity mask) are coverage, not colour: they are kept as
they are. A JPEG stays a JPEG (re-encoded at high quality); anything else is stored lossless.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

INTENTS = {"relative": 1, "perceptual": 0}  # the theme's words -> ICC rendering intents
JPEG_QUALITY = 95


@dataclass(frozen=True)
class ImageInks:
    """Where colour images go for print: the CMYK output profile, and how colours get there."""

    profile: Path
    intent: str = "relative"  # relative (colorimetric, black-point compensation) or perceptual
    # The profiles WeasyPrint leaves behind: {MD5 of an image file's URL: the ICC profile the
    # file embeds} (see `tagged_images`); the files are part of the build's inputs already.
    tagged: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)


def convert_images(data: bytes, inks: ImageInks) -> bytes:
    """`data` (a PDF) with each colour image it draws converted to DeviceCMYK in the output
    profile's space; the bytes as they were when there is nothing to convert."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    target = inks.profile.read_bytes()
    changed = [name for name, image in _drawn_images(writer).items()
               if _convert(name, image, target, inks)]
    if not changed:
        return data
    writer.pdf_header = reader.pdf_header
    if "/ID" in reader.trailer:  # the same identifier as before: only image data changed
        writer._ID = reader.trailer["/ID"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _drawn_images(writer) -> dict[str, object]:
    """Every image XObject the pages draw, by the name they draw it with: in their resources, in
    forms and tiling patterns (however deep), each once. Soft masks in graphics states are not
    followed: what they draw is coverage."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    stack = [page.get("/Resources") for page in writer.pages]
    while stack:
        resources = _resolved(stack.pop())
        if not hasattr(resources, "get"):
            continue
        for category in ("/XObject", "/Pattern"):
            named = _resolved(resources.get(category))
            if not hasattr(named, "items"):
                continue
            for name, ref in named.items():
                obj = _resolved(ref)
                key = getattr(ref, "idnum", None) or id(obj)
                if key in seen or not hasattr(obj, "get"):
                    continue
                seen.add(key)
                if obj.get("/Subtype") == "/Image":
                    found[str(name).lstrip("/")] = obj
                elif "/Resources" in obj:
                    stack.append(obj["/Resources"])
    return found


def _resolved(obj):
    return obj.get_object() if hasattr(obj, "get_object") else obj


def _convert(name: str, image, target: bytes, inks: ImageInks) -> bool:
    """Convert one image XObject in place; False when it stays as it is (grey, CMYK in the output
    condition, a mask, or stored in a way this stage does not decode)."""
    from PIL import Image, ImageCms
    from pypdf.generic import ArrayObject, NameObject, NumberObject

    if image.get("/ImageMask") or image.get("/BitsPerComponent") != 8:
        return False
    mode, icc = _source_space(image.get("/ColorSpace"))
    if mode is None or mode == "L":
        return False
    filters = _resolved(image.get("/Filter"))
    filters = [str(f) for f in filters] if isinstance(filters, list) else (
        [str(filters)] if filters else [])
    width, height = int(image["/Width"]), int(image["/Height"])
    jpeg = filters == ["/DCTDecode"]
    try:
        if jpeg:
            picture = Image.open(io.BytesIO(image.get_data()))
            picture.load()
            icc = picture.info.get("icc_profile") or icc
            if picture.mode != mode:
                return False
        elif filters in ([], ["/FlateDecode"]):
            if _resolved(image.get("/Decode")) is not None:
                return False  # a remapped range: rare, and not something WeasyPrint writes
            samples = image.get_data()
            if mode.startswith("P;"):
                picture = Image.frombytes("P", (width, height), samples)
                picture.putpalette(mode.split(";", 1)[1].encode("latin-1"), rawmode="RGB")
                picture = picture.convert("RGB")
            else:
                picture = Image.frombytes(mode, (width, height), samples)
        else:
            return False
    except (OSError, ValueError):
        return False  # samples that do not decode: left as they are, for preflight to report
    if not icc:  # WeasyPrint's name for an image: i<MD5 of its URL><0 or 1>
        icc = inks.tagged.get(name[1:-1])
    if icc and not _describes(icc, picture.mode):
        icc = None  # a damaged profile, or one for other pixels: the image is taken as untagged
    if picture.mode == "CMYK" and (not icc or icc == target):
        return False  # untagged CMYK: taken to be for this press already
    cmyk = ImageCms.applyTransform(picture, _transform(icc, picture.mode, target, inks.intent))
    for key in ("/DecodeParms", "/Decode", "/Filter"):
        image.pop(NameObject(key), None)
    image[NameObject("/ColorSpace")] = NameObject("/DeviceCMYK")
    if jpeg:
        encoded = io.BytesIO()
        cmyk.save(encoded, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
        stored = encoded.getvalue()
        image[NameObject("/Filter")] = NameObject("/DCTDecode")
        # Pillow writes CMYK JPEGs the Adobe way, each ink inverted and an APP14 marker saying
        # so; a PDF reader takes DCT samples literally, so the Decode array inverts them back.
        if b"Adobe" in stored[:200]:
            image[NameObject("/Decode")] = ArrayObject([NumberObject(v) for v in (1, 0) * 4])
    else:
        stored = zlib.compress(cmyk.tobytes(), 6)
        image[NameObject("/Filter")] = NameObject("/FlateDecode")
    image._data = stored
    if hasattr(image, "decoded_self"):
        image.decoded_self = None
    image[NameObject("/Length")] = NumberObject(len(stored))
    return True


def _source_space(space) -> tuple[str | None, bytes | None]:
    """The Pillow mode an image's samples are in ("RGB", "CMYK", "L", or "P;<RGB palette>"), and
    the ICC profile its colour space embeds; (None, None) for a space this stage leaves alone."""
    space = _resolved(space)
    name = str(space) if not isinstance(space, list) else str(space[0]) if space else ""
    if name in ("/DeviceRGB", "/DeviceCMYK", "/DeviceGray"):
        return {"/DeviceRGB": "RGB", "/DeviceCMYK": "CMYK", "/DeviceGray": "L"}[name], None
    if name == "/ICCBased" and len(space) > 1:
        stream = _resolved(space[1])
        mode = {1: "L", 3: "RGB", 4: "CMYK"}.get(int(stream.get("/N", 0)))
        return mode, stream.get_data() if mode else None
    if name in ("/Indexed", "/I") and len(space) == 4:
        base, _ = _source_space(space[1])
        lookup = _resolved(space[3])
        if hasattr(lookup, "get_data"):  # a stream
            table = lookup.get_data()
        else:  # a string, which pypdf may have read as text: its bytes as written
            table = getattr(lookup, "original_bytes", None) or bytes(lookup)
        if base == "RGB":
            return "P;" + table.decode("latin-1"), _source_space(space[1])[1]
    return None, None


def _describes(icc: bytes, mode: str) -> bool:
    """Whether `icc` is a profile LittleCMS reads, for pixels of `mode` (RGB or CMYK)."""
    from PIL import ImageCms

    try:
        space = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space
    except (OSError, ImageCms.PyCMSError):
        return False
    return space.strip() == mode


_TRANSFORMS: dict[tuple, object] = {}


def _transform(icc: bytes | None, mode: str, target: bytes, intent: str):
    """The LittleCMS transform from `icc` (sRGB when None) in `mode` to the CMYK profile `target`,
    made once per process for each source profile, target and intent."""
    from PIL import ImageCms

    key = (hashlib.sha256(icc or b"").digest(), mode, hashlib.sha256(target).digest(), intent)
    if key not in _TRANSFORMS:
        source = (ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc
                  else ImageCms.createProfile("sRGB"))
        _TRANSFORMS[key] = ImageCms.buildTransform(
            source, ImageCms.ImageCmsProfile(io.BytesIO(target)), mode, "CMYK",
            renderingIntent=ImageCms.Intent(INTENTS[intent]),
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION if intent == "relative" else ImageCms.Flags.NONE)
    return _TRANSFORMS[key]


_TAGGED: dict[tuple, bytes | None] = {}  # (file, size, mtime) -> the profile it embeds


def tagged_images(files: Iterable[Path]) -> dict[str, bytes]:
    """{the name WeasyPrint gives an image file's XObject: the ICC profile the file embeds} for
    those of `files` that embed one.

    WeasyPrint writes no colour profile for an image: a JPEG keeps its own (inside the JPEG data
    it copies), but a PNG, GIF or WebP is stored as bare samples, and so is a JPEG it turns
    upright (EXIF orientation) and encodes again. It names each image's XObject after its URL
    (`i` + the MD5 of the URL + whether it is interpolated), so the name finds the file and with
    it the profile."""
    found = {}
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        key = (str(file), stat.st_size, stat.st_mtime_ns)
        if key not in _TAGGED:
            _TAGGED[key] = _embedded_profile(file)
        icc = _TAGGED[key]
        if icc:
            for url in dict.fromkeys((file.as_uri(), file.resolve().as_uri())):
                found[hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()] = icc
    return found


def _embedded_profile(file: Path) -> bytes | None:
    from PIL import Image

    try:
        with Image.open(file) as picture:  # reads the header: the profile comes before pixels
            return picture.info.get("icc_profile") or None
    except Exception:  # noqa: BLE001 - a file the content checks refuse is never drawn
        return None
