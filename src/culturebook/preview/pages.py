"""What the preview shows: build/'s screen documents (read once from their bytes, each page's
size and text) and their pages drawn as PNG images at screen size, and the state the page draws
(/state.json, and each event of /events), as plain data.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from culturebook.build.documents import SCREEN, edition_documents
from culturebook.build.pipeline import PARTS
from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.project.brand import load_brand
from culturebook.project.content import load_content
from culturebook.publish import load_manifest

TARGET = "bundle"  # the screen editions: booklet, posters and the bundle of both (SCREEN, in
# the order listed; the bundle is not drawn)
SCREEN_DPI = 96
MAX_SIDE_PX = 1200  # a large poster is drawn smaller: the page shows it a few hundred pixels high
ALT_CHARS = 300  # of a page's text, as its image's alternative text


@dataclass(frozen=True)
class BuildReport:
    """One build's outcome: `ok` (documents may have changed) or not (the last good ones stay)."""

    ok: bool
    problems: tuple[Problem, ...]
    summary: str  # e.g. "1 problem in 1 file; nothing was written"
    seconds: float
    finished: float  # time.time()
    made: tuple[str, ...] = ()  # the documents it rendered and wrote (paths under build/)


# --- what build/ holds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageView:
    """One page of a document: its size in points and its text (the image's alternative text)."""

    width: float
    height: float
    text: str


@dataclass(frozen=True)
class Document:
    """A built PDF as the page shows it, with its bytes, so the page and its downloads stay as they
    were built even while the next build replaces the file."""

    kind: str
    edition: str
    path: str  # under build/
    sha256: str
    data: bytes = field(repr=False)
    title: str
    pages: tuple[PageView, ...]


def screen_documents(root: Path, editions: list[str]) -> set[str] | None:
    """The paths under build/ of the documents the preview's build writes for `editions`, as the
    content now gives them; None when it cannot be read."""
    problems = Problems()
    try:
        content = load_content(root, problems)
        brand = load_brand(root, content.editions[0].theme, problems)
    except ProjectError:
        return None
    return {document.path for edition in content.editions if edition.lang in editions
            for document in edition_documents(brand, edition, PARTS[TARGET])}


def load_documents(out: Path, editions: list[str], known: dict[str, Document],
                   draw_lock: threading.Lock, listed: set[str] | None = None) -> list[Document]:
    """The screen documents of `editions` that build/manifest.json lists (of those, the ones in
    `listed`, when given), in the order shown; a file whose bytes are not what the manifest says
    (a build is writing it) is left out."""
    documents = []
    for path, entry in load_manifest(out).items():
        if entry.get("kind") not in SCREEN or entry.get("edition") not in editions:
            continue
        if listed is not None and path not in listed:  # a poster of a value no longer there
            continue
        sha = entry.get("sha256", "")
        if sha in known:
            documents.append(known[sha])
            continue
        try:
            data = (out / path).read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            continue
        with draw_lock:
            title, pages = read_pdf(data, entry["kind"] != "bundle")
        documents.append(Document(entry["kind"], entry["edition"], path, sha, data, title, pages))
    return in_order(documents, editions)


def in_order(documents: list[Document], editions: list[str]) -> list[Document]:
    """The documents in the order the page shows them: by edition, then as the booklet has them
    (booklet, the mission and vision poster, the values' posters, the bundle)."""
    return sorted(documents, key=lambda d: (editions.index(d.edition) if d.edition in editions
                                            else len(editions), SCREEN.index(d.kind),
                                            not d.path.endswith("/mission-vision.pdf"), d.path))


def read_pdf(data: bytes, with_pages: bool) -> tuple[str, tuple[PageView, ...]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        title = pdf.get_metadata_dict().get("Title", "")
        pages = []
        for index in range(len(pdf) if with_pages else 0):
            page = pdf[index]
            width, height = page.get_size()
            textpage = page.get_textpage()
            text = " ".join(textpage.get_text_range().split())
            textpage.close()
            page.close()
            pages.append(PageView(width, height, text))
        return title, tuple(pages)
    finally:
        pdf.close()


def draw_page(document: Document, index: int, height: int | None = None) -> bytes:
    """Page `index` of a document as a PNG `height` pixels high (the size the page shows it at),
    else at screen resolution (96 dpi, at most MAX_SIDE_PX on its longer side). PDFium is not
    thread-safe: the caller holds the preview's draw lock."""
    import pypdfium2 as pdfium

    view = document.pages[index]
    scale = min(SCREEN_DPI / 72, MAX_SIDE_PX / max(view.width, view.height))
    if height is not None:
        scale = min(height, MAX_SIDE_PX * 2) / view.height
    pdf = pdfium.PdfDocument(document.data)
    try:
        page = pdf[index]
        bitmap = page.render(scale=scale, rev_byteorder=True, may_draw_forms=True)
        try:
            return encode_png(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                              bitmap.n_channels)
        finally:
            bitmap.close()
            page.close()
    finally:
        pdf.close()


def encode_png(pixels: bytes, width: int, height: int, stride: int, channels: int) -> bytes:
    """Rows of 8-bit RGB (3 channels) or RGBA (4) pixels, `stride` bytes apart, as a PNG file."""
    from PIL import Image

    mode = {3: "RGB", 4: "RGBA"}[channels]
    image = Image.frombuffer(mode, (width, height), pixels, "raw", mode, stride, 1)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


# --- the state the page polls ---------------------------------------------------------------------


def made_document(kind: str, edition: str, path: str, data: bytes,
                  draw_lock: threading.Lock) -> Document:
    """A document the renderer has just made, shown before its build is published."""
    with draw_lock:
        title, pages = read_pdf(data, kind != "bundle")
    return Document(kind, edition, path, hashlib.sha256(data).hexdigest(), data, title, pages)


def page_state(version: int, building: bool, report: BuildReport | None, documents: list[Document],
               editions: list[str], project: str, renderer: int | None = None,
               link: Callable[[Location], str | None] = lambda _: None) -> dict:
    """What /state.json answers: everything the page draws, as plain data (`link`: a problem's
    editor link, preview.editor)."""
    shown = []
    for lang in editions:
        docs = [d for d in documents if d.edition == lang]
        if not docs:
            continue
        title = next((d.title for d in docs if d.kind == "booklet"), "") or docs[0].title
        shown.append({"lang": lang, "title": title, "documents": [{
            "kind": d.kind, "path": d.path, "name": d.path.partition("/")[2],
            "download": f"/download/{d.path}", "bytes": len(d.data),
            "pages": [{"src": f"/page/{d.sha256}/{i + 1}.png", "width": round(p.width),
                       "height": round(p.height),
                       "alt": f"{d.path} page {i + 1}: {p.text[:ALT_CHARS]}"}
                      for i, p in enumerate(d.pages)],
        } for d in docs]})
    return {
        "version": version,
        "project": project,
        "building": building,
        "renderer": renderer,  # the warm renderer's process id (None: none running)
        "build": None if report is None else {
            "ok": report.ok, "made": list(report.made), "summary": report.summary,
            "seconds": round(report.seconds, 1),
            "finished": time.strftime("%H:%M:%S", time.localtime(report.finished))},
        "problems": [{"text": p.format().partition("\n")[0], "hint": p.hint, "warning": p.warning,
                      "path": str(p.location.path), "line": p.location.line, "col": p.location.col,
                      "editor": link(p.location)}
                     for p in (report.problems if report else ())],
        "editions": shown,
    }


