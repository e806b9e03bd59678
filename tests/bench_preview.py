"""The preview's rows of `make bench` (imported by bench.py; also runs alone): how long an edit takes
to reach the author's screen, the warm renderer against the cold path (a fresh `culturebook build
bundle` process per change, as the preview built before), side by side in one run.

Each side is a preview server (preview.server.Preview, as `culturebook preview` runs it) on its own
copy of the project; the edits alternate between the two (cold, warm, warm, cold, ...), and each
edit waits for the build it causes to end before the next. Rows, median and p95 over N edits:

  - a value's statement -> that poster's new pixels (the poster in view), in headless Chromium
    (Playwright and Debian's Chromium, as the preview's test runs it; from the file written to the
    new image decoded on the page, by the page's clock), and at the server (to the event carrying
    the new poster);
  - the same statement -> the booklet's page that shows it served (the booklet in view; server);
  - the theme's brand colour -> every drawn document (booklet and posters) of one edition served,
    each page's PNG fetched (server);
  - the same statement edit, then `culturebook build posters` as a command (no preview running).

    python tests/bench_preview.py [--edits N] [--project DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from conftest import REPO, copy_project  # noqa: E402
from test_preview import CHROMIUM, CHROMIUM_ARGS, EventStream  # noqa: E402

STATEMENT = "put ethics first."  # the default project's first value (integrity)
POSTER = "en/posters/integrity.pdf"
BOOKLET = "en/booklet.pdf"
COLOUR = 'brand: "#0052D9"'
# The size the page asks each page image at (preview.js: the stylesheet's heights, at a device
# pixel ratio of 1).
SHOWN = {"booklet": "?h=340", "poster": "?h=300"}
TARGETS = {"poster": 0.5, "booklet": 1.5, "theme": 3.0, "command": 1.2}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def documents_of(state: dict, lang: str = "en") -> dict[str, dict]:
    return {d["path"]: d for e in state["editions"] if e["lang"] == lang for d in e["documents"]}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as answer:
        return answer.read()


class Side:
    """One preview server, in this process, on its own copy of the project."""

    def __init__(self, name: str, root: Path, draw_lock: threading.Lock):
        from culturebook.preview.server import Preview, open_server

        self.name, self.root = name, root
        self.preview = Preview(root, [], cold=name == "cold")
        self.preview.draw_lock = draw_lock  # PDFium is not thread-safe: one lock for both sides
        self.server = open_server(self.preview, 0)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        if self.preview.renderer is not None:
            self.preview.renderer.start()
        self.preview.refresh()
        self.preview.wanted.set()
        self.threads = [threading.Thread(target=self.server.serve_forever, daemon=True),
                        threading.Thread(target=self.preview.build_loop, daemon=True),
                        threading.Thread(target=self.preview.watch_loop, daemon=True)]
        for thread in self.threads:
            thread.start()
        self.events = EventStream(self.server.server_port)
        self.settle()

    def settle(self) -> dict:
        """The state once the build running (if any) has ended and none is pending."""
        while True:
            with self.preview.lock:
                busy = self.preview.building or self.preview.wanted.is_set()
            if not busy:
                state = self.preview.state()
                assert state["build"] is None or state["build"]["ok"], state["problems"]
                with self.events.arrived:
                    self.events.states.clear()  # what comes next is about the next edit
                return state
            self.events.wait_for(lambda s: not s["building"], 600)

    def view(self, path: str) -> None:
        fetch(f"{self.base}/view?path={path}")

    def stop(self) -> None:
        self.preview.halt()
        self.server.shutdown()
        self.server.server_close()


def edit_statement(root: Path, word: str) -> None:
    en = root / "content" / "en.yaml"
    text = en.read_text(encoding="utf-8")
    start = text.index("put ethics first")
    end = text.index(".", start)
    en.write_text(text[:start] + f"put ethics first {word}" + text[end:], encoding="utf-8")


def poster_row(side: Side, word: str, page=None) -> tuple[float, float | None]:
    """Seconds from the statement written to the event with the new poster (server), and to the
    new image decoded in the browser (when a `page` shows this side: the page's own clock)."""
    side.settle()
    side.view(POSTER)
    if page is not None:
        page.locator(f'img[alt^="{POSTER} page 1:"]').hover()
        page.wait_for_function(f"() => viewed === '{POSTER}'")
        page.evaluate("""([poster, word]) => { window.seenAt = 0; const look = () => {
            const img = document.querySelector(`img[alt^="${poster} page 1:"]`);
            if (img && img.alt.includes(word) && img.complete && img.naturalWidth > 0)
              window.seenAt = performance.now();
            else requestAnimationFrame(look); }; look(); }""", [POSTER, word])
        began = page.evaluate("performance.now()")
    started = time.perf_counter()
    edit_statement(side.root, word)
    side.events.wait_for(
        lambda s: word in documents_of(s).get(POSTER, {"pages": [{"alt": ""}]})["pages"][0]["alt"], 600)
    server = time.perf_counter() - started
    seen = None
    if page is not None:
        page.wait_for_function("() => window.seenAt > 0", timeout=120_000)
        seen = (page.evaluate("window.seenAt") - began) / 1000
    side.settle()
    return server, seen

def booklet_row(side: Side, word: str, number: int) -> tuple[float, float, bool]:
    """Seconds from the statement written to the booklet's page `number` (the one showing it)
    served from the new booklet; to the build's end (the booklet paginated afresh, checked and
    published); and whether the booklet first shown was replaced by another before that end (a
    draft paginated from the last plan that a fresh plan paginates otherwise)."""
    before = documents_of(side.settle())[BOOKLET]["pages"][0]["src"]
    side.view(BOOKLET)
    started = time.perf_counter()
    edit_statement(side.root, word)
    state = side.events.wait_for(lambda s: documents_of(s)[BOOKLET]["pages"][0]["src"] != before, 600)
    fetch(side.base + documents_of(state)[BOOKLET]["pages"][number - 1]["src"] + SHOWN["booklet"])
    seconds = time.perf_counter() - started
    final = side.settle()
    ended = time.perf_counter() - started
    return seconds, ended, documents_of(final)[BOOKLET]["pages"] != documents_of(state)[BOOKLET]["pages"]


def theme_row(side: Side, colour: str) -> float:
    """Seconds from the brand colour written to every page of every drawn document of the
    English edition served, made with it."""
    before = {path: d["pages"][0]["src"] for path, d in documents_of(side.settle()).items()
              if d["pages"]}
    side.view(BOOKLET)
    theme = side.root / "layouts" / "default" / "theme.yaml"
    text = theme.read_text(encoding="utf-8")
    started = time.perf_counter()
    theme.write_text(text.replace(COLOUR, f'brand: "{colour}"').replace(
        'brand: "#0152D9"', f'brand: "{colour}"'), encoding="utf-8")

    def all_new(state: dict) -> bool:
        now = {path: d["pages"][0]["src"] for path, d in documents_of(state).items() if d["pages"]}
        return now.keys() == before.keys() and all(now[p] != before[p] for p in now)

    state = side.events.wait_for(all_new, 600)
    for document in documents_of(state).values():
        for page in document["pages"]:
            fetch(side.base + page["src"] + SHOWN[document["kind"]])
    seconds = time.perf_counter() - started
    side.settle()
    return seconds


def statement_page(root: Path) -> int:
    """The number of the booklet page that shows the statement."""
    from pypdf import PdfReader

    reader = PdfReader(root / "build" / BOOKLET)
    return next(i + 1 for i, page in enumerate(reader.pages) if "ethics first" in page.extract_text())


def preview_rows(source: Path, edits: int, tmp: Path, browser: bool = True) -> dict:
    """Every row's seconds per side: {"poster": {"cold": [...], "warm": [...]}, ...}."""
    roots = {}
    for name in ("cold", "warm", "command"):
        roots[name] = copy_project(tmp / f"preview-{name}", source)
        subprocess.run([sys.executable, "-m", "culturebook", "build", "bundle", "-q", "--project",
                        str(roots[name])], check=True)
    number = statement_page(roots["warm"])
    lock = threading.Lock()
    sides = {name: Side(name, roots[name], lock) for name in ("cold", "warm")}
    rows: dict[str, dict[str, list[float]]] = {
        row: {"cold": [], "warm": []}
        for row in ("poster", "poster-browser", "booklet", "booklet-built", "theme")}
    replacements = {"cold": 0, "warm": 0}
    playwright = chromium = None
    pages = {}
    try:
        if browser:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, side in sides.items():
                pages[name] = chromium.new_page(viewport={"width": 1280, "height": 900})
                pages[name].goto(side.base + "/")
                pages[name].locator(f'img[alt^="{POSTER} page 1:"]').wait_for(timeout=60_000)
        for i in range(edits):
            order = ("cold", "warm") if i % 2 == 0 else ("warm", "cold")  # ABBA
            for name in order:
                server, seen = poster_row(sides[name], f"p{i}{name}", pages.get(name))
                rows["poster"][name].append(server)
                if seen is not None:
                    rows["poster-browser"][name].append(seen)
            for name in order:
                seconds, ended, replaced = booklet_row(sides[name], f"b{i}{name}", number)
                rows["booklet"][name].append(seconds)
                rows["booklet-built"][name].append(ended)
                replacements[name] += replaced
            for name in order:
                rows["theme"][name].append(theme_row(sides[name], "#0152D9" if i % 2 == 0 else "#0052D9"))
            sys.stderr.write(f"edit {i + 1}/{edits} (cold/warm s): " + ", ".join(
                f"{row} {values['cold'][-1]:.2f}/{values['warm'][-1]:.2f}"
                for row, values in rows.items() if values["warm"]) + "\n")
    finally:
        if chromium is not None:
            chromium.close()
        if playwright is not None:
            playwright.stop()
        for side in sides.values():
            side.stop()
    command = []
    for i in range(edits):
        edit_statement(roots["command"], f"c{i}")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "culturebook", "build", "posters", "-q", "--project",
                        str(roots["command"])], check=True)
        command.append(time.perf_counter() - started)
    rows["command"] = {"cold": command, "warm": []}
    sys.stderr.write(f"booklets shown and then replaced before their build ended: {replacements}\n")
    return rows


def print_preview(console, rows: dict) -> None:
    """The preview's table: median and p95 per side, with the issue's targets."""
    from rich.table import Table

    table = Table(title="The live preview: edit to pixels (median / p95 over the edits; cold = a "
                  "fresh build process per change, warm = the warm renderer)", title_justify="left")
    for column in ("edit -> served", "where measured", "cold median", "cold p95", "warm median",
                   "warm p95", "target"):
        table.add_column(column, justify="left" if column.startswith(("edit", "where")) else "right")
    labels = {"poster-browser": ("value statement -> poster pixels on the page", "Chromium", "poster"),
              "poster": ("value statement -> event with the new poster", "server", "poster"),
              "booklet": ("value statement -> booklet's page PNG", "server", "booklet"),
              "booklet-built": ("the same -> its build ended (checked, published)", "server", ""),
              "theme": ("brand colour -> every page of en", "server", "theme"),
              "command": ("statement, then build posters (command)", "process", "command")}
    for row, (label, where, target) in labels.items():
        values = rows.get(row)
        if not values:
            continue
        cells = []
        for side in ("cold", "warm"):
            got = values[side]
            cells += ([f"{statistics.median(got):.2f}", f"{p95(got):.2f}"] if got else ["", ""])
        best = values["warm"] or values["cold"]
        if not target:
            table.add_row(label, where, *cells, "")
            continue
        met = best and statistics.median(best) <= TARGETS[target]
        verdict = "[green]meets[/green]" if met else "[red]misses[/red]"
        table.add_row(label, where, *cells, f"{verdict} <= {TARGETS[target]} s (median)")
    console.print(table)


def main() -> int:
    from rich.console import Console

    # Every process measured runs as an installed culturebook does, its modules' bytecode kept (pip
    # compiles a wheel's modules when it installs them); where that is turned off and no compiled
    # modules exist yet, every command would compile culturebook again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20, help="edits per row and side (default 20)")
    parser.add_argument("--project", type=Path, default=REPO, help="project to copy (default: repo)")
    parser.add_argument("--no-browser", action="store_true", help="server-side rows only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="culturebook-bench-preview-") as tmp:
        rows = preview_rows(args.project.resolve(), args.edits, Path(tmp), not args.no_browser)
    print_preview(Console(width=130, highlight=False), rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
