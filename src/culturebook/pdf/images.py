"""Print-edition PDF -> the same PDF with every colour image in the output profile's CMYK.

WeasyPrint places raster images as they are stored: an RGB photo becomes a DeviceRGB image, which a
CMYK print file must not carry, and which a print shop's RIP would convert with a profile nobody
chose. This stage walks every image the pages draw (directly, inside forms and inside tiling
patterns) and converts each RGB one with LittleCMS (Pillow's ImageCms) from the image's own
profile (the ICC profile embedded in a JPEG, sRGB when there is none) to the output profile, with
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
from dataclasses import dataclass
from pathlib import Path

INTENTS = {"relative": 1, "perceptual": 0}  # the theme's words -> ICC rendering intents
JPEG_QUALITY = 95


@dataclass(frozen=True)
class ImageInks:
    """Where colour images go for print: the CMYK output profile, and how colours get there."""

    profile: Path
    intent: str = "relative"  # relative (colorimetric, black-point compensation) or perceptual


def convert_images(data: bytes, inks: ImageInks) -> bytes:
    """`data` (a PDF) with each colour image it draws converted to DeviceCMYK in the output
    profile's space; the bytes as they were when there is nothing to convert."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    target = inks.profile.read_bytes()
    changed = [image for image in _drawn_images(writer) if _convert(image, target, inks.intent)]
    if not changed:
        return data
    writer.pdf_header = reader.pdf_header
    if "/ID" in reader.trailer:  # the same identifier as before: only image data changed
        writer._ID = reader.trailer["/ID"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _drawn_images(writer) -> list:
    """Every image XObject the pages draw: in their resources, in forms and tiling patterns
    (however deep), each once. Soft masks in graphics states are not followed: what they draw is
    coverage."""
    found: dict[int, object] = {}
    seen: set[int] = set()
    stack = [page.get("/Resources") for page in writer.pages]
    while stack:
        resources = _resolved(stack.pop())
        if not hasattr(resources, "get"):
            continue
        for category in ("/XObject", "/Pattern"):
            named = _resolved(resources.get(category))
            if not hasattr(named, "values"):
                continue
            for ref in named.values():
                obj = _resolved(ref)
                key = getattr(ref, "idnum", None) or id(obj)
                if key in seen or not hasattr(obj, "get"):
                    continue
                seen.add(key)
                if obj.get("/Subtype") == "/Image":
                    found[key] = obj
                elif "/Resources" in obj:
                    stack.append(obj["/Resources"])
    return list(found.values())


def _resolved(obj):
    return obj.get_object() if hasattr(obj, "get_object") else obj


def _convert(image, target: bytes, intent: str) -> bool:
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
    if jpeg:
        picture = Image.open(io.BytesIO(image.get_data()))
        icc = picture.info.get("icc_profile") or icc
        if picture.mode != ("L" if mode == "L" else mode.split(";")[0]):
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
    if picture.mode == "CMYK" and (not icc or icc == target):
        return False  # untagged CMYK: taken to be for this press already
    cmyk = ImageCms.applyTransform(picture, _transform(icc, picture.mode, target, intent))
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
        table = lookup.get_data() if hasattr(lookup, "get_data") else bytes(lookup)
        if base == "RGB":
            return "P;" + table.decode("latin-1"), _source_space(space[1])[1]
    return None, None


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
