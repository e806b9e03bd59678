"""Shared fixtures and PDF helpers.

- `build_result` / `built_root`: the default project (this repository's content/ and layouts/) copied into
  a temporary folder and built once per test session with `culturebook.build.build(root, "all")`.
- `make_project`: a fresh copy of the default project for a test that changes it.
- `slow` marks: on every test that uses a fixture building a project (SLOW_FIXTURES); a test that
  builds or renders by itself for a second or more carries `@pytest.mark.slow` in its module.
  `make test-fast` (`-m "not slow and not browser and not cluster"`) leaves them out.
- The caches: every test session keeps culturebook's caches in a folder of its own (XDG_CACHE_HOME,
  which the commands the tests start inherit), removed at its end, so that tests neither fill the
  user's ~/.cache/culturebook (thousands of projects' entries a run) nor pass thanks to it.
- `no_weasyprint_warnings`: opt-in guard (`pytestmark = pytest.mark.usefixtures(...)`) that fails a test
  if the `weasyprint` logger reports a warning while it runs.
- Plain helpers (imported by the test modules) to read PDFs with pypdf and to draw pages with poppler,
  Ghostscript and MuPDF.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

REPO = Path(__file__).resolve().parent.parent
EDITIONS = ("en", "zh-Hans")
MM_PER_PT = 25.4 / 72


# --- markers ------------------------------------------------------------------------------------

# Fixtures that build a project or render its PDFs, once per session or per module, by module ("" for
# this file's, which every module sees). A test using one, itself or through another fixture, is slow.
SLOW_FIXTURES = {
    "": {"build_result", "languages_built", "shared", "english_only"},
    "test_copyfit": {"shapes"},
    "test_errors_cli": {"built"},
    "test_paginate": {"short_chapters"},
    "test_personalised": {"batch"},
    "test_preview": {"built"},
    "test_publish": {"states"},
}


def pytest_configure(config) -> None:
    cache = Path(tempfile.mkdtemp(prefix="culturebook-test-cache-"))
    config.stash[CACHE] = cache
    os.environ["XDG_CACHE_HOME"] = str(cache)


def pytest_unconfigure(config) -> None:
    cache = config.stash.get(CACHE, None)
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)


CACHE = pytest.StashKey[Path]()


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        names = SLOW_FIXTURES[""] | SLOW_FIXTURES.get(item.module.__name__, set())
        if names.intersection(item.fixturenames):
            item.add_marker(pytest.mark.slow)


# --- projects -----------------------------------------------------------------------------------


def copy_project(dest: Path, source: Path = REPO) -> Path:
    """Copy a project's content/ and layouts/ into `dest`; give it the fonts without copying 34 MB.

    culturebook confines a project to its own folder (a font or file that resolves outside the project
    is refused), so a symlinked fonts/ would be rejected: the font files are hard-linked instead (copied
    when the temporary folder is on another file system).
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "content", dest / "content")
    shutil.copytree(source / "layouts", dest / "layouts")
    try:
        shutil.copytree(source / "fonts", dest / "fonts", copy_function=os.link)
    except OSError:
        shutil.rmtree(dest / "fonts", ignore_errors=True)
        shutil.copytree(source / "fonts", dest / "fonts")
    return dest


class WeasyPrintLog(logging.Handler):
    """Collects the warnings (and worse) the `weasyprint` logger reports while attached."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> WeasyPrintLog:
        # A handler on the logger itself sees records even while culturebook turns propagation off.
        logging.getLogger("weasyprint").addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger("weasyprint").removeHandler(self)

    def messages(self) -> list[str]:
        return [f"{r.levelname}: {r.getMessage()}" for r in self.records]


@dataclass(frozen=True)
class BuildResult:
    root: Path
    artifacts: list  # culturebook.build.Artifact
    warnings: list  # culturebook.errors.Problem
    weasyprint_log: list[str]


@pytest.fixture(scope="session")
def build_result(tmp_path_factory) -> BuildResult:
    """The default project, built once for the whole session (both editions, every target)."""
    from culturebook.build.pipeline import build

    root = copy_project(tmp_path_factory.mktemp("default") / "project")
    with WeasyPrintLog() as log:
        artifacts, warnings = build(root, "all")
    return BuildResult(root, artifacts, warnings, log.messages())


@pytest.fixture(scope="session")
def built_root(build_result) -> Path:
    """Root folder of the shared build of the default project (its PDFs are under build/)."""
    return build_result.root


@pytest.fixture(scope="session")
def checked(built_root):
    """culturebook's own reading of the built project: content (per edition) and brand."""
    from culturebook.checks.project import check_project

    return check_project(built_root)


@pytest.fixture(scope="session")
def languages_built(tmp_path_factory) -> Path:
    """tests/projects/languages (en, fr translated in part, ja) with zh-Hans, zh-Hant and ko editions
    added (the Japanese text in each, so one character is drawn in every region's form; Korean
    punctuation in the ko mission), its booklets built once for the session."""
    from culturebook.build.pipeline import build
    from projectkit import make_project as make_named_project

    root = make_named_project(tmp_path_factory.mktemp("languages") / "project", "languages")
    content = root / "content"
    japanese = (content / "ja.yaml").read_text(encoding="utf-8")
    for lang in ("zh-Hans", "zh-Hant", "ko"):
        (content / f"{lang}.yaml").write_text(japanese, encoding="utf-8")
    korean = japanese.replace('mission: "小さなことをきちんと作る"', 'mission: "“작은 일을, 잘.”"')
    (content / "ko.yaml").write_text(korean, encoding="utf-8")
    settings = content / "publication.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "languages: [en, fr, ja]", "languages: [en, fr, ja, zh-Hans, zh-Hant, ko]"), encoding="utf-8")
    build(root, "booklet")
    return root


@pytest.fixture
def make_project(tmp_path):
    """make_project(name="project") -> a fresh copy of the default project to modify."""

    def make(name: str = "project") -> Path:
        return copy_project(tmp_path / name)

    return make


@pytest.fixture
def no_weasyprint_warnings() -> Iterator[WeasyPrintLog]:
    """Fail the test if WeasyPrint logs a warning while it runs."""
    with WeasyPrintLog() as log:
        yield log
    if log.records:
        pytest.fail("WeasyPrint logged unexpected warnings:\n  " + "\n  ".join(log.messages()),
                    pytrace=False)


# --- reading PDFs -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _reader(path: str, mtime: float, size: int) -> PdfReader:
    return PdfReader(path)


def read_pdf(path: Path) -> PdfReader:
    """A (cached) pypdf reader for `path`; do not modify it."""
    stat = Path(path).stat()
    return _reader(str(path), stat.st_mtime, stat.st_size)


def normalise(text: str) -> str:
    """Letters and digits only, lowercased: typography (quotes, dashes, hyphenation, line breaks,
    spaces) does not count."""
    text = unicodedata.normalize("NFKC", text).replace("-\n", "").lower()
    return "".join(ch for ch in text if ch.isalnum())


def page_text(reader: PdfReader, index: int) -> str:
    return reader.pages[index].extract_text() or ""


def all_text(reader: PdfReader) -> str:
    return "\n".join(page_text(reader, i) for i in range(len(reader.pages)))


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5]]


@dataclass(frozen=True)
class TextPiece:
    text: str
    x: float  # pt, from the page's lower left corner
    y: float  # baseline, pt
    size: float  # effective font size, pt


def text_pieces(reader: PdfReader, index: int) -> list[TextPiece]:
    """Every piece of text on a page with its position and effective font size (pt)."""
    pieces: list[TextPiece] = []

    def visit(text, cm, tm, font, font_size):
        if not text or not text.strip():
            return
        m = _mult(list(tm), list(cm))
        scale = math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))
        pieces.append(TextPiece(text, m[4], m[5], font_size * scale))

    reader.pages[index].extract_text(visitor_text=visit)
    return pieces


def body_text(reader: PdfReader, index: int, top_pt: float, bottom_pt: float) -> str:
    """The text of a page without what is set in its top and bottom margins (running heads, folios)."""
    box = reader.pages[index].mediabox
    low, high = float(box.bottom) + bottom_pt, float(box.top) - top_pt
    return "\n".join(p.text for p in text_pieces(reader, index) if low - 1 <= p.y <= high + 1)


def length_pt(value: str) -> float:
    """A CSS length from theme.yaml (mm, cm, in, pt, px) in points."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(mm|cm|in|pt|px)\s*", value)
    assert match, f"not a length: {value!r}"
    factor = {"mm": 72 / 25.4, "cm": 720 / 25.4, "in": 72.0, "pt": 1.0, "px": 0.75}[match[2]]
    return float(match[1]) * factor


def page_size_mm(page) -> tuple[float, float]:
    """The trimmed size of a page (TrimBox, which pypdf gives as the MediaBox when absent), in mm."""
    box = page.trimbox
    return float(box.width) * MM_PER_PT, float(box.height) * MM_PER_PT


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """The bookmarks, flattened in order: (depth, title, 0-based page)."""
    found: list[tuple[int, str, int]] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return found


def _page_numbers(reader: PdfReader) -> dict[int, int]:
    return {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}


def resolve_destination(reader: PdfReader, dest, named: dict | None = None) -> int | None:
    """0-based page of a destination: a name, a string, or an explicit [page /XYZ ...] array."""
    dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
    if isinstance(dest, list):
        ref = dest[0] if dest else None
        if isinstance(ref, IndirectObject):
            return _page_numbers(reader).get(ref.idnum)
        return None
    if isinstance(dest, DictionaryObject) and "/D" in dest:
        return resolve_destination(reader, dest["/D"], named)
    named = reader.named_destinations if named is None else named
    found = named.get(str(dest))
    return None if found is None else reader.get_destination_page_number(found)


@dataclass(frozen=True)
class Link:
    page: int  # 0-based page the link is on
    rect: tuple[float, float, float, float]
    name: str  # destination name, or "" for an explicit destination
    target: int | None  # 0-based target page; None when it does not resolve
    external: bool


def links(reader: PdfReader) -> list[Link]:
    """Every link annotation of the document."""
    found = []
    named = reader.named_destinations
    for i, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            rect = tuple(float(v) for v in annot["/Rect"])
            action = annot.get("/A")
            action = action.get_object() if action is not None else None
            if action is not None and action.get("/S") != "/GoTo":
                found.append(Link(i, rect, "", None, True))
                continue
            dest = annot.get("/Dest") if action is None else action.get("/D")
            name = "" if isinstance(dest, ArrayObject) else str(dest)
            found.append(Link(i, rect, name, resolve_destination(reader, dest, named), False))
    return found


def reachable(reader: PdfReader):
    """(object number or None, object) for every object reachable from the catalog, each once
    (not climbing back up through /Parent)."""
    seen: set[int] = set()
    stack = [reader.trailer.raw_get("/Root")]
    while stack:
        obj, number = stack.pop(), None
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            number, obj = obj.idnum, obj.get_object()
        yield number, obj
        if isinstance(obj, DictionaryObject):
            stack.extend(v for k, v in obj.items() if k != NameObject("/Parent"))
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def font_dicts(reader: PdfReader) -> list[DictionaryObject]:
    """Every /Type /Font dictionary reachable from the document catalog (pages, forms, annotations)."""
    return [obj for _, obj in reachable(reader)
            if isinstance(obj, DictionaryObject) and obj.get("/Type") == "/Font"]


@functools.lru_cache(maxsize=1)
def font_names_in(fonts_dir: Path = REPO / "fonts") -> frozenset[str]:
    """Normalised names (family, full, PostScript) of every font file in fonts/."""
    from fontTools.ttLib import TTFont

    names = set()
    for path in sorted(fonts_dir.rglob("*")):
        if path.suffix.lower() not in (".otf", ".ttf"):
            continue
        font = TTFont(path, lazy=True)
        table = font["name"]
        for name_id in (1, 4, 6, 16):
            value = table.getDebugName(name_id)
            if value:
                names.add(normalise(value))
        family = table.getDebugName(16) or table.getDebugName(1)
        style = table.getDebugName(17) or table.getDebugName(2)
        if family and style:
            names.add(normalise(f"{family} {style}"))
        font.close()
    return frozenset(names)


# --- drawing pages ------------------------------------------------------------------------------

RENDERERS = ("poppler", "ghostscript", "mupdf")


def render_pages(pdf: Path, pages: list[int], dpi: int, renderer: str,
                 workdir: Path) -> dict[int, Image.Image]:
    """Draw the given 1-based pages of `pdf` as RGB images with one of RENDERERS."""
    out = workdir / renderer
    out.mkdir(parents=True, exist_ok=True)
    pages = sorted(set(pages))
    images: dict[int, Image.Image] = {}
    if renderer == "poppler":
        for n in pages:
            subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(n), "-l", str(n), "-png",
                            "-singlefile", str(pdf), str(out / f"p{n}")],
                           check=True, capture_output=True)
            images[n] = _load(out / f"p{n}.png")
    elif renderer == "ghostscript":
        subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=png16m",
                        "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", f"-r{dpi}",
                        f"-sPageList={','.join(map(str, pages))}",
                        f"-sOutputFile={out}/g%d.png", str(pdf)], check=True, capture_output=True)
        for i, n in enumerate(pages, 1):  # Ghostscript numbers its outputs 1, 2, ...
            images[n] = _load(out / f"g{i}.png")
    elif renderer == "mupdf":
        subprocess.run(["mutool", "draw", "-q", "-r", str(dpi), "-o", f"{out}/m%d.png", str(pdf),
                        ",".join(map(str, pages))], check=True, capture_output=True)
        for n in pages:
            images[n] = _load(out / f"m{n}.png")
    else:
        raise ValueError(renderer)
    return images


def _load(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


# --- sharing by email -----------------------------------------------------------------------------

PHOTO_PX = (2760, 1560)  # placed across the booklet's 116 mm text column: some 600 ppi


def add_photo(root: Path) -> None:
    """Give the project's first chapter a photograph of some 600 ppi at its placed size (made here,
    so the repository does not carry megabytes of noise)."""
    from PIL import ImageFilter

    from projectkit import edit

    grain = Image.effect_noise(PHOTO_PX, 60).filter(ImageFilter.GaussianBlur(2))
    photo = Image.merge("RGB", (grain, grain.rotate(180), grain.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    (root / "content" / "images").mkdir(exist_ok=True)
    photo.save(root / "content" / "images" / "photo.jpg", quality=85)
    edit(root / "content" / "en.yaml", "      Everything else follows from that.\n",
         "      Everything else follows from that.\n\n      ![Our workshop](images/photo.jpg)\n")


@pytest.fixture(scope="session")
def shared(tmp_path_factory) -> Path:
    """The share test project (tests/projects/share) with a 600 ppi photograph, its personalised
    booklets built for people.csv, and `culturebook share` run once: build/<lang>/share/."""
    from culturebook.build.pipeline import build
    from projectkit import PROJECTS, make_project, run_cli

    root = make_project(tmp_path_factory.mktemp("share") / "project", "share")
    add_photo(root)
    _, problems = build(root, "personalised", recipients=PROJECTS / "share" / "people.csv", jobs=2)
    assert [p for p in problems if not p.warning] == []
    result = run_cli("share", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="session")
def english_only(tmp_path_factory) -> Path:
    """tests/projects/english-only (English text and recipients with some Chinese in them) built:
    the bundle, the personalised booklets for its people.csv, and `culturebook share` run once."""
    from culturebook.build.pipeline import build
    from projectkit import PROJECTS, make_project, run_cli

    root = make_project(tmp_path_factory.mktemp("english-only") / "project", "english-only")
    for target, recipients in (("bundle", None), ("personalised", PROJECTS / "english-only" /
                                                  "people.csv")):
        _, problems = build(root, target, recipients=recipients, jobs=2)
        assert [p for p in problems if not p.warning] == []
    result = run_cli("share", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def marks_drawn(page) -> tuple[list[str], set[int]]:
    """The text a page draws as artifacts, and the marked-content ids it uses."""
    stack, artifacts, ids = [], [], set()

    def before(operator, operands, cm, tm):
        if operator == b"BDC":
            mcid = operands[1].get("/MCID") if hasattr(operands[1], "get") else None
            stack.append(mcid)
            if mcid is not None:
                ids.add(int(mcid))
        elif operator == b"BMC":
            stack.append("artifact" if operands[0] == "/Artifact" else None)
        elif operator == b"EMC":
            stack.pop()

    def text(value, *_):
        if stack and stack[-1] == "artifact" and value.strip():
            artifacts.append(value.strip())

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return artifacts, ids


def parent_tree_faults(reader: PdfReader) -> list[str]:
    """What a screen reader could not follow from a tagged PDF's pages to its structure tree: a
    page whose marked-content ids are not exactly its parent-tree entries, an entry that is not an
    element of that page or does not hold that id, a link whose element does not hold it (the
    element is the link, or a span inside it: a contents entry's number), and an element whose
    /P is not the element that holds it."""
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    nums = root["/ParentTree"]["/Nums"]
    table = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    faults = []
    for number, page in enumerate(reader.pages, start=1):
        _, ids = marks_drawn(page)
        elements = table[int(page["/StructParents"])]
        if ids != set(range(len(elements))):
            faults.append(f"page {number}: ids {sorted(ids)}, {len(elements)} entries")
        for mcid, ref in enumerate(elements):
            element = ref.get_object()
            kids = element["/K"] if isinstance(element["/K"], list) else [element["/K"]]
            if element.raw_get("/Pg").idnum != page.indirect_reference.idnum or mcid not in kids:
                faults.append(f"page {number}: id {mcid} leads to an element that does not hold it")
        for annot in page.get("/Annots") or []:
            element = table[int(annot.get_object()["/StructParent"])].get_object()
            objects = [k.get_object() for k in element["/K"] if not isinstance(k, int)]
            holds = any(o.get("/Type") == "/OBJR" and o.raw_get("/Obj").idnum == annot.idnum
                        for o in objects)
            kinds = [element["/S"], element["/P"].get_object()["/S"]]
            if not holds or "/Link" not in kinds:
                faults.append(f"page {number}: a link annotation not held by a Link ({kinds})")
    todo = [(ref, root.indirect_reference) for ref in root["/K"]]
    while todo:
        ref, parent = todo.pop()
        element = ref.get_object()
        if element.raw_get("/P").idnum != parent.idnum:
            faults.append(f"{element['/S']}: its /P is not the element holding it")
        kids = element.get("/K")
        todo += [(k, ref) for k in (kids if isinstance(kids, list) else [kids])
                 if isinstance(k, IndirectObject) and "/S" in k.get_object()]
    return faults


def glyph_codes(path: Path, char: str) -> set[int]:
    """The codes (glyph ids, for the CJK face) a PDF draws `char` with, from its fonts' ToUnicode
    maps: one character drawn in two forms has two codes."""
    found = set()
    for page in PdfReader(path).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            if "/ToUnicode" not in font:
                continue
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            found |= {int(code, 16) for code, text in
                      re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", cmap)
                      if len(text) <= 8 and chr(int(text, 16)) == char}
    return found
