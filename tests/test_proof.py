"""The soft proof (`culturebook proof`, pdf/proof.py, build/proofing.py): CMYK pages through the output
profile to sRGB PNGs, paper white simulated, trimmed; the gamut warning; the command's lines."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageCms
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

from conftest import REPO, read_pdf
from culturebook.errors import ProjectError
from culturebook.pdf.proof import WARNING_RGB, Press, draw_cmyk, proof_pages
from projectkit import edit, run_cli, where

PROFILE = REPO / "layouts" / "default" / "coated-fogra39-tac300.icc"
MM = 72 / 25.4


@pytest.fixture(scope="module")
def press() -> Press:
    return Press(PROFILE)


def ink(press: Press, c: float, m: float, y: float, k: float) -> tuple[int, int, int]:
    """What ImageCms makes of one ink mix (percent) on the press's paper, computed directly."""
    patch = Image.new("CMYK", (1, 1), tuple(round(v * 255 / 100) for v in (c, m, y, k)))
    return press.on_paper(patch).getpixel((0, 0))


def lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """An sRGB colour in CIELAB (D50), L 0-100."""
    to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"),
                                     "RGB", "LAB")
    L, a, b = ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), to_lab).getpixel((0, 0))
    return L * 100 / 255, a - 128, b - 128  # Pillow's LAB keeps a and b offset by 128


def delta_e(one, other) -> float:
    return sum((x - y) ** 2 for x, y in zip(lab(one), lab(other), strict=True)) ** 0.5


def test_paper_white_is_the_profiles_paper_not_ffffff(press: Press) -> None:
    paper = ink(press, 0, 0, 0, 0)
    assert paper != (255, 255, 255)
    L, a, b = lab(paper)
    assert (round(L), round(a), round(b)) == (95, 0, -2)  # FOGRA39's paper


def test_gamut_marks_pure_green_and_not_mid_grey(press: Press) -> None:
    screen = Image.new("RGB", (40, 20), (128, 128, 128))
    screen.paste((0, 255, 0), (0, 0, 20, 20))
    mask = press.out_of_gamut(screen)
    assert mask.crop((0, 0, 20, 20)).getextrema() == (255, 255)  # all of the green
    assert mask.crop((20, 0, 40, 20)).getextrema() == (0, 0)  # none of the grey


def sample_pdf(path: Path, trim_mm=(100.0, 60.0), bleed_mm: float = 3.0, slug_mm: float = 10.0) -> Path:
    """A one-page print PDF: a slug, a bleed, and in the trimmed page a 100 62 0 0 patch (left
    half, into the bleed) and an sRGB #00FF00 patch (right half)."""
    width, height = trim_mm
    outer = slug_mm + bleed_mm
    writer = PdfWriter()
    page = writer.add_blank_page((width + 2 * outer) * MM, (height + 2 * outer) * MM)
    stream = DecodedStreamObject()
    o, w, h, b = (round(v * MM, 3) for v in (outer, width, height, bleed_mm))
    stream.set_data(f"1 0.62 0 0 k {o - b} {o - b} {w / 2 + b} {h + 2 * b} re f "
                    f"0 1 0 rg {o + w / 2} {o} {w / 2} {h} re f".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    for box, inset in (("/TrimBox", outer), ("/BleedBox", slug_mm)):
        page[NameObject(box)] = ArrayObject(FloatObject(round(v * MM, 3)) for v in
                                            (inset, inset, width + 2 * outer - inset,
                                             height + 2 * outer - inset))
    with open(path, "wb") as f:
        writer.write(f)
    return path


def test_ink_passes_through_unchanged_and_rgb_is_separated(tmp_path: Path) -> None:
    pdf = sample_pdf(tmp_path / "sample.pdf")
    [page] = draw_cmyk(pdf, PROFILE, 100)
    assert page.mode == "CMYK"
    assert page.size == (round(100 / 25.4 * 100), round(60 / 25.4 * 100))  # the trimmed page
    assert page.getpixel((20, 20)) == (255, 158, 0, 0)  # 100 62 0 0, as the press gets it
    green = page.getpixel((page.width - 20, 20))
    assert green != (255, 0, 255, 0)  # separated through the profile, not naively
    assert green[0] > 128 and green[2] > 128 and green[1] < 64


def test_bleed_box_and_the_gamut_warning(tmp_path: Path, press: Press) -> None:
    pdf = sample_pdf(tmp_path / "sample.pdf")
    screen = tmp_path / "screen.pdf"
    writer = PdfWriter()
    page = writer.add_blank_page(100 * MM, 60 * MM)
    stream = DecodedStreamObject()
    stream.set_data(f"0.5 0.5 0.5 rg 0 0 {50 * MM} {60 * MM} re f "
                    f"0 1 0 rg {50 * MM} 0 {50 * MM} {60 * MM} re f".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    with open(screen, "wb") as f:
        writer.write(f)
    [sheet] = proof_pages(pdf, press, 100, "bleed", screen)
    image = Image.open(io.BytesIO(sheet.png))
    assert image.size == sheet.size == (round(106 / 25.4 * 100), round(66 / 25.4 * 100))
    colours = {c for _, c in image.crop((image.width - 60, 40, image.width - 20, 80)).getcolors(10**5)}
    assert WARNING_RGB in colours and len(colours) > 1  # hatched: stripes, the proof between them
    grey_side = {c for _, c in image.crop((30, 40, 70, 80)).getcolors(10**5)}
    assert grey_side == {ink(press, 100, 62, 0, 0)}  # the screen's grey is printable: no stripes
    assert 0 < sheet.marked < image.width * image.height / 2


def test_a_file_ghostscript_cannot_draw(tmp_path: Path) -> None:
    broken = tmp_path / "booklet.pdf"
    broken.write_bytes(b"not a PDF")
    with pytest.raises(ProjectError) as caught:
        draw_cmyk(broken, PROFILE, 100)
    [problem] = caught.value.problems
    line, hint = problem.format().splitlines()
    assert line.startswith(f"{broken}: Ghostscript could not draw it: Error: ")  # its own words
    assert hint == "    hint: build it again: culturebook build print --force"


def test_no_output_profile_and_no_personalised_print_file(make_project) -> None:
    from culturebook.build.proofing import proof_jobs, write_proofs
    from culturebook.checks.project import check_project

    root = make_project()
    theme = root / "layouts" / "default" / "theme.yaml"
    edit(theme, "  output-profile: coated-fogra39-tac300.icc\n", "")
    checked = check_project(root)
    with pytest.raises(ProjectError) as caught:
        write_proofs(root, checked, [], 100, "trim", False)
    [problem] = caught.value.problems
    assert problem.format(root).splitlines() == [
        f"layouts/default/theme.yaml:{where(theme.read_text(), 'print:')}: a soft proof needs the "
        "press's CMYK output profile, and none is named",
        "    hint: add the print shop's CMYK profile as print.output-profile in theme.yaml"]
    with pytest.raises(ProjectError) as caught:
        proof_jobs(root, checked, ["en"], ("booklet", "personalised"))
    assert [p.format(root) for p in caught.value.problems] == [
        "build/en/print/personalised.pdf: not built, so there is nothing to proof\n"
        "    hint: build it first: culturebook build personalised --recipients CSV"]


def test_without_ghostscript_one_line(tmp_path: Path) -> None:
    import culturebook

    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    env.update(NO_COLOR="1", PATH=str(tmp_path),  # an empty folder: no gs on it
               PYTHONPATH=str(Path(culturebook.__file__).resolve().parent.parent))
    result = subprocess.run([sys.executable, "-m", "culturebook", "proof"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["culturebook proof needs Ghostscript (gs), which is not "
                                          "installed: apt-get install ghostscript"]
    assert result.stdout == ""


@pytest.mark.parametrize(("args", "lines"), [
    (["--dpi", "5"], ["Error: Invalid value for '--dpi': 5 is not in the range 20<=x<=600."]),
    (["bookelt"], ['culturebook proof: unknown document "bookelt"',
                   '    hint: did you mean "booklet"?']),
    (["--gamot"], ['culturebook proof: unknown option "--gamot"', '    hint: did you mean "--gamut"?']),
])
def test_bad_options_one_line(tmp_path: Path, args: list[str], lines: list[str]) -> None:
    result = run_cli("proof", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == lines


def test_help_says_what_it_does(tmp_path: Path) -> None:
    result = run_cli("proof", "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for words in ("build/<lang>/proof/", "output profile", "paper's own white", "--gamut", "--dpi",
                  "Ghostscript"):
        assert words in text


# --- the default project, built ------------------------------------------------------------------


@pytest.fixture(scope="module")
def proofed(built_root: Path):
    """`culturebook proof --edition en` run on the session's build (an earlier proof page past the
    booklet's last left there to be removed)."""
    folder = built_root / "build" / "en" / "proof"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "booklet-99.png").write_bytes(b"an earlier proof of a longer booklet")
    result = run_cli("proof", "--edition", "en", cwd=built_root)
    assert result.returncode == 0, result.stderr
    return built_root, result


def test_one_png_per_page_trimmed_at_the_dpi(proofed) -> None:
    root, result = proofed
    pdf = root / "build" / "en" / "print" / "booklet.pdf"
    reader = read_pdf(pdf)
    folder = root / "build" / "en" / "proof"
    pngs = sorted(folder.glob("booklet-*.png"))
    assert [p.name for p in pngs] == [f"booklet-{n:02d}.png" for n in range(1, len(reader.pages) + 1)]
    trim = reader.pages[0].trimbox
    expected = (float(trim.width) / 72 * 100, float(trim.height) / 72 * 100)
    for png in pngs:
        with Image.open(png) as image:
            assert all(abs(got - want) <= 1 for got, want in zip(image.size, expected, strict=True))
    posters = sorted(p.name for p in (folder / "posters").glob("*.png"))
    assert posters == sorted(f"{p.stem}-1.png" for p in (root / "build" / "en" / "print" /
                                                          "posters").glob("*.pdf"))
    assert not (root / "build" / "zh-Hans" / "proof").exists()
    lines = result.stdout.splitlines()
    assert lines[0] == (f"build/en/proof/booklet-01.png .. booklet-{len(pngs)}.png: {len(pngs)} "
                        f"pages, 583x827 px, {sum(p.stat().st_size for p in pngs) // 1024} KB")
    assert lines[-1].startswith(f"proofed 6 print files, {len(pngs) + 5} pages at 100 dpi in ")


def test_paper_and_brand_as_the_profile_has_them(proofed, press: Press) -> None:
    root, _ = proofed
    folder = root / "build" / "en" / "proof"
    with Image.open(folder / "booklet-02.png") as inside_cover:
        paper = inside_cover.convert("RGB").getpixel((40, 40))  # above the text: blank
    assert paper == ink(press, 0, 0, 0, 0) != (255, 255, 255)
    with Image.open(folder / "booklet-01.png") as cover:
        brand = cover.convert("RGB").getpixel((8, 8))  # the full-bleed brand blue, in the trim
    theme = yaml.safe_load((root / "layouts" / "default" / "theme.yaml").read_text(encoding="utf-8"))
    cmyk = [int(v) for v in theme["print"]["colours"]["brand"].split()]
    assert delta_e(brand, ink(press, *cmyk)) < 1


def test_earlier_pages_go_and_verify_passes(proofed) -> None:
    root, _ = proofed
    assert not (root / "build" / "en" / "proof" / "booklet-99.png").exists()
    result = run_cli("verify", cwd=root)
    assert result.returncode == 0, result.stderr


def test_gamut_warning_on_the_brand_blue(proofed) -> None:
    root, _ = proofed
    result = run_cli("proof", "booklet", "--gamut", "--edition", "en", cwd=root)
    assert result.returncode == 0, result.stderr
    # The screen's brand blue #0052D9 is beyond what coated FOGRA39 prints: the cover is hatched.
    assert "pages with colours the press cannot reach" in result.stdout.splitlines()[0]
    with Image.open(root / "build" / "en" / "proof" / "booklet-01.png") as cover:
        colours = {c for _, c in cover.convert("RGB").crop((0, 0, 40, 40)).getcolors(10**5)}
    assert WARNING_RGB in colours
