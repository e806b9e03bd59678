"""The live preview: build/ -> a page on 127.0.0.1 showing every screen PDF as images, with the
build's problems; content/, layouts/ and fonts/ are watched and rebuilt as they change.

Builds run in a child process (`culturebook build bundle -q`) in a session of its own: a crash in
the engine cannot take the server down, and stopping the preview stops the build and its workers
with one signal to that session's process group. The page polls a small JSON state (see
page/preview.js): every request stands alone, so there is no long-lived connection to keep
the server from stopping, and a page left open across a restart of the preview simply resumes.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from culturebook.build.documents import SCREEN, edition_documents
from culturebook.build.pipeline import PARTS
from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.project.brand import load_brand
from culturebook.project.content import load_content
from culturebook.project.folder import content_languages
from culturebook.publish import load_manifest, settle

TARGET = "bundle"  # the screen editions: booklet, posters and the bundle of both (SCREEN, in
# the order listed; the bundle is not drawn)
WATCHED = ("content", "layouts", "fonts")
SCREEN_DPI = 96
MAX_SIDE_PX = 1200  # a large poster is drawn smaller: the page shows it a few hundred pixels high
ALT_CHARS = 300  # of a page's text, as its image's alternative text
STOP_GRACE = 10.0  # seconds a build has to stop after SIGINT before it is killed
PAGE_FILES = Path(__file__).with_name("page")
FILES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/preview.js": ("preview.js", "text/javascript; charset=utf-8"),
         "/preview.css": ("preview.css", "text/css; charset=utf-8")}

_PROBLEM = re.compile(r"(?P<path>[^\s:][^:]*?)(?::(?P<line>\d+):(?P<col>\d+))?: "
                      r"(?P<warning>warning: )?(?P<message>.+)")
_SUMMARY = re.compile(r"\d+ problems? in \d+ files?|interrupted;|the traceback was saved|"
                      r"stopped by the disk;|the new build was committed")


class Refused(Exception):
    """The preview cannot start; the message is one line saying why and what to do instead."""


# --- what a build said ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildReport:
    """One build's outcome: `ok` (documents may have changed) or not (the last good ones stay)."""

    ok: bool
    problems: tuple[Problem, ...]
    summary: str  # e.g. "1 problem in 1 file; nothing was written"
    seconds: float
    finished: float  # time.time()


def parse_problems(stderr: str) -> tuple[list[Problem], str]:
    """The problem lines a `culturebook build` printed (`path:line:col: message`, each with an
    optional `    hint: ...` line after it) and its closing summary line."""
    problems: list[Problem] = []
    summary = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        if line.startswith("    hint: ") and problems:
            problems[-1] = Problem(problems[-1].location, problems[-1].message,
                                   line.removeprefix("    hint: "), problems[-1].warning)
        elif _SUMMARY.match(line):
            summary.append(line)
        elif match := _PROBLEM.fullmatch(line):
            location = Location(Path(match["path"]), int(match["line"] or 0), int(match["col"] or 0))
            problems.append(Problem(location, match["message"], "", bool(match["warning"])))
        else:  # not a problem line (an internal error's report): shown as it is
            problems.append(Problem(Location(Path("build")), line))
    return problems, " ".join(summary)


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
            title, pages = _read_pdf(data, entry["kind"] != "bundle")
        documents.append(Document(entry["kind"], entry["edition"], path, sha, data, title, pages))
    # As the booklet has them: the mission and vision poster before the values' posters.
    documents.sort(key=lambda d: (editions.index(d.edition), SCREEN.index(d.kind),
                                  not d.path.endswith("/mission-vision.pdf"), d.path))
    return documents


def _read_pdf(data: bytes, with_pages: bool) -> tuple[str, tuple[PageView, ...]]:
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


def draw_page(document: Document, index: int) -> bytes:
    """Page `index` of a document as a PNG at screen resolution (96 dpi, at most MAX_SIDE_PX on its
    longer side). PDFium is not thread-safe: the caller holds the preview's draw lock."""
    import pypdfium2 as pdfium

    view = document.pages[index]
    scale = min(SCREEN_DPI / 72, MAX_SIDE_PX / max(view.width, view.height))
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


def page_state(version: int, building: bool, report: BuildReport | None, documents: list[Document],
               editions: list[str], project: str) -> dict:
    """What /state.json answers: everything the page draws, as plain data."""
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
        "build": None if report is None else {
            "ok": report.ok, "summary": report.summary, "seconds": round(report.seconds, 1),
            "finished": time.strftime("%H:%M:%S", time.localtime(report.finished))},
        "problems": [{"text": p.format().partition("\n")[0], "hint": p.hint, "warning": p.warning,
                      "path": str(p.location.path), "line": p.location.line, "col": p.location.col}
                     for p in (report.problems if report else ())],
        "editions": shown,
    }


# --- the preview: builds, watching, state ---------------------------------------------------------


class Preview:
    """A project's preview: its last good documents, the last build's problems, and the threads
    that watch the sources and rebuild."""

    def __init__(self, root: Path, editions: list[str], say: Callable[[str], None] = lambda _: None):
        self.root, self.out, self.say = root, root / "build", say
        self.chosen = editions
        self.editions: list[str] = editions  # those shown: set by each good build (see refresh)
        self.lock = threading.Lock()  # guards the state below
        self.draw_lock = threading.Lock()  # PDFium is not thread-safe
        self.version = time.time_ns() // 1_000_000  # a restarted preview's states are new ones
        self.building = False
        self.report: BuildReport | None = None
        self.documents: list[Document] = []
        self.by_sha: dict[str, Document] = {}  # current and previous documents, for late requests
        self.images: dict[tuple[str, int], bytes] = {}
        self.wanted = threading.Event()
        self.stop = threading.Event()
        self.process: subprocess.Popen | None = None

    def state(self) -> dict:
        with self.lock:
            return page_state(self.version, self.building, self.report, self.documents,
                              self.editions, self.root.name)

    def image(self, sha: str, number: int) -> bytes | None:
        """The PNG of page `number` (1-based) of the document with this sha256, drawn once."""
        with self.lock:
            document = self.by_sha.get(sha)
            cached = self.images.get((sha, number))
        if cached is not None:
            return cached
        if document is None or not 1 <= number <= len(document.pages):
            return None
        with self.draw_lock:
            png = draw_page(document, number - 1)
        with self.lock:
            self.images[(sha, number)] = png
        return png

    def download(self, path: str) -> Document | None:
        with self.lock:
            return next((d for d in self.documents if d.path == path), None)

    def refresh(self) -> None:
        """Take the documents build/manifest.json now lists (after a good build, and at start)."""

        settle(self.out)  # a build's unfinished publish completed before reading it
        with self.lock:
            known = dict(self.by_sha)
        # The content's languages, read when it is good: a broken publication.yaml hides nothing.
        editions = (self.chosen or content_languages(self.root)
                    or sorted({entry["edition"] for entry in load_manifest(self.out).values()
                               if "edition" in entry}))
        documents = load_documents(self.out, editions, known, self.draw_lock,
                                   screen_documents(self.root, editions))
        with self.lock:
            self.editions = editions
            kept = {d.sha256 for d in documents} | {d.sha256 for d in self.documents}
            self.by_sha = {d.sha256: d for d in [*self.documents, *documents]}
            self.images = {key: png for key, png in self.images.items() if key[0] in kept}
            self.documents = documents
            self.version += 1

    # -- building

    def build_loop(self) -> None:
        """Build whenever a change was seen: changes seen during a build make one more build."""
        while True:
            self.wanted.wait()
            if self.stop.is_set():
                return
            self.wanted.clear()
            with self.lock:
                self.building = True
                self.version += 1
            try:
                report = self.run_build()
                if report is None:  # stopped
                    return
                if report.ok:
                    self.refresh()
            except Exception as exc:  # noqa: BLE001 - a bug here must not stop the previewing
                problem = Problem(Location(Path("preview")), f"internal error: {type(exc).__name__}: {exc}")
                report = BuildReport(False, (problem,), "", 0.0, time.time())
            with self.lock:
                self.building = False
                self.report = report
                self.version += 1
            self.say_report(report)

    def run_build(self) -> BuildReport | None:
        """Run `culturebook build bundle -q` in a session of its own; None when the preview stopped."""
        command = [sys.executable, "-m", "culturebook", "build", TARGET, "--project", str(self.root),
                   "-q", *(f"--edition={lang}" for lang in self.chosen)]
        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
        env["NO_COLOR"] = "1"
        started = time.perf_counter()
        with self.lock:
            if self.stop.is_set():
                return None
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                            env=env, start_new_session=True)
        try:
            _, stderr = self.process.communicate()
        finally:
            with self.lock:
                code, self.process = self.process.returncode, None
        if self.stop.is_set():
            return None
        problems, summary = parse_problems(stderr.decode("utf-8", "replace"))
        if code not in (0, 1):
            summary = summary or f"the build stopped with status {code}"
        return BuildReport(code == 0, tuple(problems), summary, time.perf_counter() - started,
                           time.time())

    def say_report(self, report: BuildReport) -> None:
        for problem in report.problems:
            self.say(problem.format())
        if report.ok:
            self.say(f"built in {report.seconds:.1f} s")
        else:
            self.say(f"{report.summary or 'the build failed'}; the page keeps the last good build")

    def watch_loop(self) -> None:
        """Ask for a build when a file under content/, layouts/ or fonts/ changes. watchfiles
        gathers an editor's several writes of one save (until 200 ms pass without one)."""
        import watchfiles

        folders = [self.root / name for name in WATCHED if (self.root / name).is_dir()]
        try:
            for _ in watchfiles.watch(*folders, step=200, stop_event=self.stop, raise_interrupt=False):
                self.wanted.set()
        except Exception as exc:  # noqa: BLE001 - e.g. out of inotify watches: say so on the page
            problem = Problem(Location(Path("preview")), f"stopped watching for changes: {exc}",
                              "restart the preview; the pages shown are not updated any more")
            with self.lock:
                self.report = BuildReport(False, (problem,), "", 0.0, time.time())
                self.version += 1
            self.say(problem.format())

    def halt(self) -> None:
        """Stop the build that is running (SIGINT to its process group, like Ctrl-C, so it removes
        its temporary files; SIGKILL if it has not stopped after STOP_GRACE seconds)."""
        self.stop.set()
        self.wanted.set()
        with self.lock:
            process = self.process
        if process is None:
            return
        _signal_group(process.pid, signal.SIGINT)
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        # Its workers die with it (they are told to), but one may still be exiting: wait for the group.
        deadline = time.monotonic() + STOP_GRACE
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


# --- serving --------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        preview, url = self.server.preview, urlsplit(self.path)
        host = self.headers.get("Host", "")
        if host not in self.server.hosts:  # a page elsewhere reaching 127.0.0.1 through its name
            return self.send(421, b"this preview answers only at 127.0.0.1", "text/plain")
        path = unquote(url.path)
        if path in FILES:
            name, kind = FILES[path]
            return self.send(200, (PAGE_FILES / name).read_bytes(), kind, "no-cache")
        if path == "/state.json":
            body = json.dumps(preview.state(), ensure_ascii=False).encode("utf-8")
            return self.send(200, body, "application/json", "no-store")
        if match := re.fullmatch(r"/page/([0-9a-f]{64})/(\d{1,4})\.png", path):
            png = preview.image(match[1], int(match[2]))
            if png is not None:  # named by the PDF's hash: the same address is always the same image
                return self.send(200, png, "image/png", "public, max-age=31536000, immutable")
        if path.startswith("/download/"):
            document = preview.download(path.removeprefix("/download/"))
            if document is not None:
                return self.send(200, document.data, "application/pdf", "no-cache")
        self.send(404, b"not found", "text/plain")

    def send(self, status: int, body: bytes, kind: str, cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass  # the terminal shows builds, not requests


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a browser's open request never holds up stopping
    allow_reuse_address = True  # a preview restarted at once gets its port back

    def __init__(self, port: int, preview: Preview):
        super().__init__(("127.0.0.1", port), _Handler)
        self.preview = preview
        self.hosts = {f"127.0.0.1:{self.server_port}", f"localhost:{self.server_port}"}


def open_server(preview: Preview, port: int) -> _Server:
    """The server on 127.0.0.1:`port`, listening; Refused when the port is taken."""
    try:
        return _Server(port, preview)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            state = "in use" if exc.errno == errno.EADDRINUSE else "not open to this user"
            raise Refused(f"port {port} is {state}; try --port {free_port(port + 1)}") from None
        raise


def free_port(start: int) -> int:
    """A port on 127.0.0.1 that nothing listens on: the first free one from `start`, else any."""
    for port in [*range(start, min(start + 20, 65536)), 0]:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    return 0


def check_project_folder(root: Path) -> None:
    """Refused, in one line, when `root` holds no project."""
    if not (root / "content" / "publication.yaml").is_file():
        raise Refused(f"no content/publication.yaml in {root}: not a culturebook project; make "
                      "one with culturebook new DIR, or pass --project DIR")


def serve(root: Path, port: int, editions: list[str], say: Callable[[str], None]) -> None:
    """Serve the preview of `root` on 127.0.0.1:`port` until SIGINT or SIGTERM (Ctrl-C). Raises
    Refused before anything starts when the folder holds no project or the port is taken."""
    check_project_folder(root)
    preview = Preview(root, editions, say)
    server = open_server(preview, port)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stopping.set())
    threads = [threading.Thread(target=server.serve_forever, name="serve", daemon=True),
               threading.Thread(target=preview.build_loop, name="build"),
               threading.Thread(target=preview.watch_loop, name="watch")]
    try:
        preview.refresh()  # the last build's pages at once, while the first build checks them
        preview.wanted.set()
        for thread in threads:
            thread.start()
        say(f"preview of {root} at http://127.0.0.1:{server.server_port}/ (Ctrl-C stops it)")
        while not stopping.wait(0.5):
            pass
    finally:
        preview.halt()
        if threads[0].is_alive():
            server.shutdown()
        server.server_close()
        for thread in threads[1:]:
            if thread.is_alive():
                thread.join()
    say("preview stopped")
