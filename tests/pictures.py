"""Draw the README's pictures (docs/*.png) from the default project's build: `make pictures`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def pages(pdf: Path, first: int, last: int, dpi: int) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(first), "-l", str(last), "-png",
                        str(pdf), f"{tmp}/p"], check=True)
        return [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("p-*.png"))]


def row(images: list[Image.Image], gap: int = 0, background: str = "#d9dde3") -> Image.Image:
    width = sum(i.width for i in images) + gap * (len(images) + 1)
    height = max(i.height for i in images) + 2 * gap
    sheet = Image.new("RGB", (width, height), background)
    x = gap
    for image in images:
        sheet.paste(image, (x, gap))
        x += image.width + gap
    return sheet


def preview_picture() -> None:
    """The live preview's page, as headless Chromium shows it once the first build is done."""
    from playwright.sync_api import expect, sync_playwright

    from test_preview import CHROMIUM, CHROMIUM_ARGS, free_port, start_preview, stop_preview

    port = free_port()
    log = Path(tempfile.mkdtemp()) / "preview.log"
    server = start_preview(ROOT, port, log)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            assert server.listening.wait(120), log.read_text()
            page.goto(f"http://127.0.0.1:{port}/")
            expect(page.locator("#status")).to_contain_text("up to date", timeout=120_000)
            page.wait_for_load_state("networkidle")
            shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
            shot.save(DOCS / "preview.png", optimize=True)
            browser.close()
    finally:
        stop_preview(server)


def main() -> int:
    subprocess.run([sys.executable, "-m", "culturebook", "build", "all", "-q",
                    "--project", str(ROOT)], check=True)
    DOCS.mkdir(exist_ok=True)
    for lang in ("en", "zh-Hans"):
        booklet = ROOT / "build" / lang / "booklet.pdf"
        cover = pages(booklet, 1, 1, 60)
        row(cover, gap=24).save(DOCS / f"cover-{lang}.png", optimize=True)
        # A spread: two facing pages, drawn side by side with the gutter between them.
        row(pages(booklet, 6, 7, 60), gap=24).save(DOCS / f"spread-{lang}.png", optimize=True)
        row(pages(booklet, 8, 9, 60), gap=24).save(DOCS / f"chapter-{lang}.png", optimize=True)
        posters = sorted((ROOT / "build" / lang / "posters").glob("*.pdf"))
        row([pages(p, 1, 1, 10)[0] for p in posters], gap=16).save(
            DOCS / f"posters-{lang}.png", optimize=True)
    # The print editions and the office sheets, once (English).
    folder = ROOT / "build" / "en" / "print"
    row(pages(folder / "booklet.pdf", 1, 2, 40), gap=24).save(DOCS / "print-en.png", optimize=True)
    row(pages(folder / "booklet-imposed.pdf", 1, 2, 30), gap=24).save(DOCS / "imposed-en.png",
                                                                      optimize=True)
    row(pages(folder / "tiles" / "integrity.pdf", 1, 3, 20), gap=16).save(DOCS / "tiles-en.png",
                                                                          optimize=True)
    # Personalised booklets: the cover and letter of one recipient per edition.
    subprocess.run([sys.executable, "-m", "culturebook", "build", "personalised", "-q",
                    "--recipients", str(ROOT / "content" / "people.example.csv"),
                    "--project", str(ROOT)], check=True)
    personal = [ROOT / "build" / "en" / "personalised" / "li-lei.pdf",
                ROOT / "build" / "zh-Hans" / "personalised" / "han-meimei.pdf"]
    row([page for pdf in personal for page in pages(pdf, 1, 2, 40)], gap=24).save(
        DOCS / "personalised.png", optimize=True)
    proof_picture()
    preview_picture()
    themes_picture()
    editorial_picture()
    fitted_picture()
    shapes_picture()
    print(f"wrote {len(list(DOCS.glob('*.png')))} pictures in {DOCS}")
    return 0


def proof_picture() -> None:
    """The soft proof beside the screen edition: the cover and the inside cover on screen, as
    `culturebook proof` shows them on paper, and the cover with --gamut (the screen's brand blue is
    beyond the press)."""
    proof = ROOT / "build" / "en" / "proof"
    command = [sys.executable, "-m", "culturebook", "proof", "booklet", "--edition", "en", "--dpi",
               "40", "-q", "--project", str(ROOT)]
    subprocess.run(command, check=True)
    proofed = [Image.open(proof / f"booklet-{n:02d}.png").convert("RGB") for n in (1, 2)]
    subprocess.run([*command, "--gamut"], check=True)
    warned = Image.open(proof / "booklet-01.png").convert("RGB")
    screen = pages(ROOT / "build" / "en" / "booklet.pdf", 1, 2, 40)
    shown = [screen[0], proofed[0], warned, screen[1], proofed[1]]
    row(shown, gap=20).save(DOCS / "proof-en.png", optimize=True)


ACME_THEME = """\
name: "Acme"
extends: default
colours:
  brand: "#C8102E"
  brand-deep: "#8E0B21"
  tint: "#FBEAEC"
  on-brand-soft: "#FADDE2"
print:
  colours:
    brand: "0 100 80 5"
    brand-deep: "0 100 80 51"
    tint: "0 8 4 0"
    on-brand-soft: "0 14 7 0"
"""


def themes_picture() -> None:
    """docs/themes.md's picture: the default theme's cover and values spread, then the same pages
    of a new project (`culturebook new`) whose theme changes four colours."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "culturebook", "new", "acme", "--name", "Acme",
                        "--languages", "en"], cwd=tmp, check=True, capture_output=True)
        project = Path(tmp) / "acme"
        (project / "layouts" / "acme" / "theme.yaml").write_text(ACME_THEME, encoding="utf-8")
        subprocess.run([sys.executable, "-m", "culturebook", "build", "booklet", "-q"],
                       cwd=project, check=True)
        default = ROOT / "build" / "en" / "booklet.pdf"
        acme = project / "build" / "en" / "booklet.pdf"
        shown = [*pages(default, 1, 1, 40), *pages(default, 6, 7, 40),
                 *pages(acme, 1, 1, 40), *pages(acme, 6, 7, 40)]
        row(shown, gap=20).save(DOCS / "themes.png", optimize=True)


def editorial_picture() -> None:
    """docs/themes.md's picture of the editorial theme (themes/editorial): this repository's
    project in it, the English cover, values spread and first chapter, and the value poster in
    both editions."""
    from test_editorial import editorial_project

    with tempfile.TemporaryDirectory() as tmp:
        project = editorial_project(Path(tmp) / "editorial")
        for target in ("booklet", "posters"):
            subprocess.run([sys.executable, "-m", "culturebook", "build", target, "-q",
                            "--project", str(project)], check=True)
        booklet = project / "build" / "en" / "booklet.pdf"
        # A2 at 14 dpi stands about as tall as A5 at 40 dpi.
        posters = [pages(project / "build" / lang / "posters" / "integrity.pdf", 1, 1, 14)[0]
                   for lang in ("en", "zh-Hans")]
        shown = [*pages(booklet, 1, 1, 40), *pages(booklet, 6, 7, 40), *pages(booklet, 9, 9, 40),
                 *posters]
        row(shown, gap=20).save(DOCS / "theme-editorial.png", optimize=True)


def fitted_picture() -> None:
    """The README's copyfitting picture: tests/projects/shapes, whose value names run from 3 to 59
    characters and statements from 4 to 80 words, as one poster series per edition."""
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "shapes"
        shutil.copytree(ROOT / "tests" / "projects" / "shapes" / "content", project / "content")
        shutil.copytree(ROOT / "layouts", project / "layouts")
        shutil.copytree(ROOT / "fonts", project / "fonts", copy_function=os.link)
        subprocess.run([sys.executable, "-m", "culturebook", "build", "posters", "-q",
                        "--project", str(project)], check=True)
        order = ["own", "growers-first", "listen", "open-books", "long-name", "pay", "mission-vision"]
        shown = [pages(project / "build" / lang / "posters" / f"{slug}.pdf", 1, 1, 10)[0]
                 for lang in ("en", "zh-Hans") for slug in order]
        half = len(shown) // 2
        top, bottom = row(shown[:half], gap=16), row(shown[half:], gap=16)
        sheet = Image.new("RGB", (max(top.width, bottom.width), top.height + bottom.height - 16),
                          "#d9dde3")
        sheet.paste(top, (0, 0))
        sheet.paste(bottom, (0, top.height - 16))
        sheet.save(DOCS / "posters-fit.png", optimize=True)


def shapes_picture() -> None:
    """The README's pagination pictures: every page of two booklets unlike the default project's,
    tests/projects/short-chapters (six values, three short chapters, seven milestones, one
    highlight) and tests/projects/shapes (long names and statements, one short chapter)."""
    import shutil

    for name in ("short-chapters", "shapes"):
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / name
            shutil.copytree(ROOT / "tests" / "projects" / name / "content", project / "content")
            shutil.copytree(ROOT / "layouts", project / "layouts")
            shutil.copytree(ROOT / "fonts", project / "fonts", copy_function=os.link)
            subprocess.run([sys.executable, "-m", "culturebook", "build", "booklet", "-q",
                            "--project", str(project)], check=True)
            booklet = project / "build" / "en" / "booklet.pdf"
            shown = pages(booklet, 1, 99, 16)
            # As a reader sees them: the cover alone, then spreads, the back cover alone.
            spreads = [shown[:1]] + [shown[i:i + 2] for i in range(1, len(shown) - 1, 2)] + [shown[-1:]]
            lines = [row([row(pair) for pair in spreads[i:i + 4]], gap=12)
                     for i in range(0, len(spreads), 4)]
            sheet = Image.new("RGB", (max(r.width for r in lines),
                                      sum(r.height for r in lines)), "#d9dde3")
            y = 0
            for line in lines:
                sheet.paste(line, (0, y))
                y += line.height
            sheet.save(DOCS / f"shape-{name}.png", optimize=True)


if __name__ == "__main__":
    sys.exit(main())
