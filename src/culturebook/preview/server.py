"""The live preview: build/ -> a page on 127.0.0.1 showing every screen PDF as images, with the
build's problems; content/, layouts/ and fonts/ are watched and rebuilt as they change.

Builds are made by the warm renderer (renderer.py), a child process in a session of its own that
keeps the engine loaded: a crash in the engine cannot take the server down (the renderer is
replaced, the last good pages stay), and stopping the preview stops it with one signal to that
session's process group. Each document it makes is shown as soon as it is made, before the
build is checked and published; the page hears of every change through server-sent events
(events.py, /events) and /state.json answers the same state to scripts. `cold` keeps the
previous way, a fresh `culturebook build bundle` process per change (cold.py), for comparison.
"""

from __future__ import annotations

import base64
import errno
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from culturebook.errors import Location, Problem
from culturebook.preview.cold import cold_build
from culturebook.preview.editor import EDITORS, editor_link
from culturebook.preview.events import Events, event
from culturebook.preview.pages import (
    BuildReport,
    Document,
    draw_page,
    in_order,
    load_documents,
    made_document,
    page_state,
    screen_documents,
)
from culturebook.preview.renderer import STOP_GRACE, RendererLost, WarmRenderer, signal_group
from culturebook.project.folder import content_languages
from culturebook.project.themes import outside_folders
from culturebook.publish import load_manifest, settle

WATCHED = ("content", "layouts", "fonts")
PAGE_FILES = Path(__file__).with_name("page")
FILES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/preview.js": ("preview.js", "text/javascript; charset=utf-8"),
         "/preview.css": ("preview.css", "text/css; charset=utf-8")}
_VIEWED = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)+\.pdf")  # a document's path under build/


class Refused(Exception):
    """The preview cannot start; the message is one line saying why and what to do instead."""


class Preview:
    """A project's preview: its last good documents (and those of the build running, as they are
    made), the last build's problems, and the threads that watch the sources and rebuild."""

    def __init__(self, root: Path, editions: list[str], say: Callable[[str], None] = lambda _: None,
                 cold: bool = False, editor: str | None = EDITORS["vscode"]):
        self.root, self.out, self.say = root, root / "build", say
        self.editor = editor  # the URL template of problems' links (preview.editor), None: no links
        self.chosen = editions
        self.editions: list[str] = editions  # those shown: set by each good build (see refresh)
        self.lock = threading.Lock()  # guards the state below
        self.draw_lock = threading.Lock()  # PDFium is not thread-safe
        self.version = time.time_ns() // 1_000_000  # a restarted preview's states are new ones
        self.building = False
        self.report: BuildReport | None = None
        self.documents: list[Document] = []
        self.by_sha: dict[str, Document] = {}  # current and previous documents, for late requests
        self.images: dict[tuple[str, int, int | None], bytes] = {}  # (sha, page, height)
        self.viewed: str | None = None  # the document in view on the page: made first
        self.wanted = threading.Event()
        self.stop = threading.Event()
        self.events = Events()
        self.renderer = None if cold else WarmRenderer(root, editions, self.lost)
        self.process: subprocess.Popen | None = None  # a cold build's

    def state(self) -> dict:
        with self.lock:
            return page_state(self.version, self.building, self.report, self.documents,
                              self.editions, self.root.name,
                              None if self.renderer is None else self.renderer.pid,
                              lambda location: editor_link(self.editor, self.root, location))

    def changed(self, **values) -> None:
        """Set some of the state (building, report) and tell every open page."""
        with self.lock:
            for name, value in values.items():
                setattr(self, name, value)
            self.version += 1
        self.events.publish("state", self.state())

    def image(self, sha: str, number: int, height: int | None = None) -> bytes | None:
        """The PNG of page `number` (1-based) of the document with this sha256, `height` pixels
        high (None: at 96 dpi), drawn once at each size asked for."""
        with self.lock:
            document = self.by_sha.get(sha)
            cached = self.images.get((sha, number, height))
        if cached is not None:
            return cached
        if document is None or not 1 <= number <= len(document.pages):
            return None
        with self.draw_lock:
            png = draw_page(document, number - 1, height)
        with self.lock:
            self.images[(sha, number, height)] = png
        return png

    def download(self, path: str) -> Document | None:
        with self.lock:
            return next((d for d in self.documents if d.path == path), None)

    def view(self, path: str) -> None:
        """The page shows this document now: the next build makes it first."""
        with self.lock:
            self.viewed = path

    def refresh(self) -> None:
        """Take the documents build/manifest.json now lists (after a build, and at start): the
        new build's, or the last good one's after a build that failed."""

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
            self._take(documents)

    def _take(self, documents: list[Document]) -> None:
        """Show `documents` (the lock held), keeping the images of those still shown."""
        kept = {d.sha256 for d in documents} | {d.sha256 for d in self.documents}
        self.by_sha = {d.sha256: d for d in [*self.documents, *documents]}
        self.images = {key: png for key, png in self.images.items() if key[0] in kept}
        self.documents = documents
        self.version += 1

    def made(self, answer: dict) -> None:
        """A document the renderer has just made: shown at once, in place of the one it replaces."""
        document = made_document(answer["kind"], answer["edition"], answer["made"],
                                 base64.b64decode(answer["pdf"]), self.draw_lock)
        with self.lock:
            if document.edition in self.editions:
                others = [d for d in self.documents if d.path != document.path]
                self._take(in_order([*others, document], self.editions))
        self.events.publish("state", self.state())

    def lost(self, message: str) -> None:
        """The renderer died between builds (it has been started again): say so on the page."""
        if self.stop.is_set():
            return
        problem = Problem(Location(Path("preview")), message, "the pages shown are the last good "
                          "ones; the next change is built by the new renderer")
        self.changed(report=BuildReport(False, (problem,), "", 0.0, time.time()))
        self.say(problem.format())

    # -- building

    def build_loop(self) -> None:
        """Build whenever a change was seen: changes seen during a build make one more build."""
        while True:
            self.wanted.wait()
            if self.stop.is_set():
                return
            self.wanted.clear()
            self.changed(building=True)
            try:
                report = self.run_build()
                if report is None:  # stopped
                    return
                self.refresh()  # a failed build's documents, shown as they were made, go
            except RendererLost as exc:
                if self.stop.is_set():
                    return
                report = BuildReport(False, (Problem(Location(Path("preview")), str(exc)),),
                                     "the build did not finish", 0.0, time.time())
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - a bug here must not stop the previewing
                problem = Problem(Location(Path("preview")), f"internal error: {type(exc).__name__}: {exc}")
                report = BuildReport(False, (problem,), "", 0.0, time.time())
            self.changed(building=False, report=report)
            self.say_report(report)

    def run_build(self) -> BuildReport | None:
        """One build of the screen editions; None when the preview stopped."""
        if self.renderer is not None:
            with self.lock:
                first = self.viewed
            return self.renderer.build(first, self.made)
        report = cold_build(self.root, self.chosen, self._started)
        with self.lock:
            self.process = None
        return None if self.stop.is_set() else report

    def _started(self, process: subprocess.Popen) -> bool:
        with self.lock:
            self.process = process
            return not self.stop.is_set()

    def say_report(self, report: BuildReport) -> None:
        for problem in report.problems:
            self.say(problem.format())
        if report.ok:
            self.say(f"built in {report.seconds:.1f} s")
        else:
            self.say(f"{report.summary or 'the build failed'}; the page keeps the last good build")

    def watch_loop(self) -> None:
        """Ask for a build when a file under content/, layouts/ or fonts/ changes. watchfiles
        gathers an editor's several writes of one save (until 50 ms pass without one)."""
        import watchfiles

        folders = [self.root / name for name in WATCHED if (self.root / name).is_dir()]
        folders += outside_folders(self.root)  # themes and fonts installed as packages
        try:
            for _ in watchfiles.watch(*folders, step=50, stop_event=self.stop, raise_interrupt=False):
                self.wanted.set()
        except Exception as exc:  # noqa: BLE001 - e.g. out of inotify watches: say so on the page
            problem = Problem(Location(Path("preview")), f"stopped watching for changes: {exc}",
                              "restart the preview; the pages shown are not updated any more")
            self.changed(report=BuildReport(False, (problem,), "", 0.0, time.time()))
            self.say(problem.format())

    def halt(self) -> None:
        """Stop the renderer, or the cold build that is running (SIGINT to its process group,
        like Ctrl-C, so it removes its temporary files; SIGKILL if it has not stopped after
        STOP_GRACE seconds), and end every event stream."""
        self.stop.set()
        self.wanted.set()
        self.events.close()
        if self.renderer is not None:
            self.renderer.stop()
        with self.lock:
            process = self.process
        if process is None:
            return
        signal_group(process.pid, signal.SIGINT)
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            signal_group(process.pid, signal.SIGKILL)
            process.wait()
        # Its workers die with it (they are told to), but one may still be exiting: wait for the group.
        deadline = time.monotonic() + STOP_GRACE
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        signal_group(process.pid, signal.SIGKILL)


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
        if path == "/events":  # open until the preview stops or the page goes
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.close_connection = True
            return preview.events.stream(self.wfile, event("state", preview.state()))
        if path == "/view":
            viewed = parse_qs(url.query).get("path", [""])[0]
            if _VIEWED.fullmatch(viewed) and ".." not in viewed:
                preview.view(viewed)
                return self.send(204, b"", "text/plain")
            return self.send(400, b"not a document's path", "text/plain")
        if path == "/state.json":
            body = json.dumps(preview.state(), ensure_ascii=False).encode("utf-8")
            return self.send(200, body, "application/json", "no-store")
        if match := re.fullmatch(r"/page/([0-9a-f]{64})/(\d{1,4})\.png", path):
            asked = parse_qs(url.query).get("h", [""])[0]  # the height the page shows it at
            height = min(max(int(asked), 16), 4000) if asked.isdigit() and len(asked) < 6 else None
            png = preview.image(match[1], int(match[2]), height)
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


def serve(root: Path, port: int, editions: list[str], say: Callable[[str], None],
          editor: str | None = EDITORS["vscode"]) -> None:
    """Serve the preview of `root` on 127.0.0.1:`port` until SIGINT or SIGTERM (Ctrl-C). Raises
    Refused before anything starts when the folder holds no project or the port is taken. `editor`:
    the URL template problems link to (preview.editor)."""
    check_project_folder(root)
    preview = Preview(root, editions, say, editor=editor)
    server = open_server(preview, port)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stopping.set())
    threads = [threading.Thread(target=server.serve_forever, name="serve", daemon=True),
               threading.Thread(target=preview.build_loop, name="build"),
               threading.Thread(target=preview.watch_loop, name="watch")]
    try:
        assert preview.renderer is not None
        preview.renderer.start()  # it loads the engine while the last build's pages are read
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
