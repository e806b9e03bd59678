"""Write this test project's images (content/images/): the same four colour bands stored seven ways.

Each image is 1400 × 300 px, four bands of 350 px: #0052D9 (a saturated blue), #808080 (mid grey),
#E02020 (red) and #141414 (near black, where perceptual and relative rendering differ most). At
the booklet's 116 mm text width that is 306 ppi, enough for print. Run it from the repository:
`python tests/projects/images/make-images.py`; the files it writes are committed, and running it
again gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
OUT = HERE / "content" / "images"
SIZE = (1400, 300)
BAND = SIZE[0] // 4
RGB = [(0x00, 0x52, 0xD9), (0x80, 0x80, 0x80), (0xE0, 0x20, 0x20), (0x14, 0x14, 0x14)]
CMYK = [(255, 158, 0, 0), (0, 0, 0, 128), (0, 230, 230, 0), (0, 0, 0, 242)]
GREY = [0, 80, 160, 240]


def bands(mode: str, colours: list) -> Image.Image:
    image = Image.new(mode, SIZE)
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(colours):
        draw.rectangle([i * BAND, 0, (i + 1) * BAND - 1, SIZE[1] - 1], fill=colour)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    srgb = (HERE / "sRGB.icc").read_bytes()  # LittleCMS's own sRGB would carry today's date
    adobe = (HERE / "compatibleWithAdobeRGB1998.icc").read_bytes()
    bands("RGB", RGB).save(OUT / "srgb.png", icc_profile=srgb)
    bands("RGB", RGB).save(OUT / "adobe-rgb.jpg", quality=95, subsampling=0, icc_profile=adobe)
    bands("RGB", RGB).save(OUT / "adobe-rgb.png", icc_profile=adobe)
    bands("RGB", RGB).save(OUT / "untagged.png")
    bands("CMYK", CMYK).save(OUT / "cmyk.jpg", quality=95)
    bands("L", GREY).save(OUT / "grey.png")
    alpha = bands("RGBA", [c + (255,) for c in RGB])
    ImageDraw.Draw(alpha).rectangle([0, SIZE[1] // 2, SIZE[0] - 1, SIZE[1] - 1], fill=(0, 0, 0, 0))
    alpha.save(OUT / "alpha.png")


if __name__ == "__main__":
    main()
