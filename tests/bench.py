"""`make bench`: culturebook's build of the screen editions against `weasyprint` run once per document.

Side by side in one run, on a copy of the default project, in interleaved rounds:

  (a) culturebook: `python -m culturebook build bundle --force --project COPY` (a cold build: every
      document made again), a fresh process per round: imports, checks, both editions' booklets and
      posters in a worker pool of one process per core, each with one FontConfiguration, bundles,
      preflight of every PDF, manifest. `build all` also makes the print editions, which have no
      counterpart in (b), so they are left out of the comparison;
  (b) weasyprint: one `weasyprint in.html out.pdf` process per document, on the very HTML culturebook
      lays out (the booklet and every poster of each edition), summed.

Prints median seconds over the rounds, the ratio a/b (target: at most 0.3), the peak RSS of the culturebook
process and the per-document breakdown of (b); then the engine's rows (tests/bench_engine.py): a build
with nothing to do, one changed poster, N personalised booklets against N whole ones, peak memory and
output sizes; then the preview's rows (tests/bench_preview.py): edit to pixels, the warm renderer
against the cold build process per change, median and p95 over N edits.

    python tests/bench.py [--rounds N] [--warmup N] [--project DIR] [--people N] [--edits N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_engine import engine_rows  # noqa: E402
from bench_preview import preview_rows, print_preview  # noqa: E402
from bench_words import check_rows  # noqa: E402
from conftest import REPO, copy_project  # noqa: E402

VENV_BIN = Path(sys.executable).parent
TARGET_RATIO = 0.3


@dataclass(frozen=True)
class Document:
    name: str  # e.g. en/booklet, zh-Hans/posters/integrity
    html: Path
    pdf: Path


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_kib: int


def run(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a process to its end; its wall time and its own peak RSS (wait4, not the sum of children)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}\n"
                             f"{errors.read().decode(errors='replace')}")
    return Run(seconds, usage.ru_maxrss)


def documents(root: Path, out: Path) -> list[Document]:
    """Write the HTML of every document culturebook renders (booklet, then posters, per edition)."""
    from culturebook.checks.project import check_project
    from culturebook.files import cache_dir
    from culturebook.render.engine import Renderer

    class Captured(Exception):
        pass

    def capture(call) -> str:
        try:
            call()
        except Captured as html:
            return html.args[0]
        raise RuntimeError("the renderer did not lay anything out")

    checked = check_project(root)
    renderer = Renderer(root, checked.brand, cache_dir())

    def layout(html, edition, template="booklet.html"):
        raise Captured(html)

    renderer.layout = layout  # stop right before WeasyPrint: we only want the HTML
    docs = []
    for edition in checked.content.editions:
        jobs = [("booklet", lambda e=edition: renderer.booklet(e))]
        for slug, _title, subject in renderer.poster_subjects(edition):
            jobs.append((f"posters/{slug}",
                         lambda e=edition, s=subject: renderer.poster(e, s, e.poster_size)))
        for name, job in jobs:
            stem = f"{edition.lang}-{name.replace('/', '-')}"
            html = out / f"{stem}.html"
            html.write_text(capture(job), encoding="utf-8")
            docs.append(Document(f"{edition.lang}/{name}", html, out / f"{stem}.pdf"))
    return docs


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}"


def main() -> int:
    # Every process measured runs as an installed culturebook does, its modules' bytecode kept (pip
    # compiles a wheel's modules when it installs them); where that is turned off and no compiled
    # modules exist yet, every command would compile culturebook again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--project", type=Path, default=REPO, help="project to copy (default: repo)")
    parser.add_argument("--people", type=int, default=200,
                        help="personalised booklets to make (default 200)")
    parser.add_argument("--edits", type=int, default=20,
                        help="edits per preview row and side (default 20)")
    args = parser.parse_args()
    console = Console(width=110, highlight=False)

    with tempfile.TemporaryDirectory(prefix="culturebook-bench-") as tmp:
        tmp = Path(tmp)
        root = copy_project(tmp / "project", args.project.resolve())
        html_dir = tmp / "html"
        html_dir.mkdir()
        docs = documents(root, html_dir)
        from culturebook.checks.project import check_project

        base_url = check_project(root).brand.dirs[0].as_uri() + "/"
        fonts_conf = Path(os.environ["FONTCONFIG_FILE"])  # set by Renderer in documents()
        # Both sides see the same fonts: the project's hermetic fontconfig.
        env = {k: v for k, v in os.environ.items() if not k.startswith("FONTCONFIG")}
        weasy_env = {**env, "FONTCONFIG_FILE": str(fonts_conf)}
        culturebook = [sys.executable, "-m", "culturebook", "build", "bundle", "--force", "-q",
                       "--project", str(root)]
        weasyprint = str(VENV_BIN / "weasyprint")

        def round_culturebook() -> Run:
            return run(culturebook, env)

        def round_weasyprint() -> dict[str, Run]:
            return {d.name: run([weasyprint, "-q", "-u", base_url, str(d.html), str(d.pdf)],
                                weasy_env) for d in docs}

        console.print(f"[dim]{len(docs)} documents; {args.warmup} warm-up and {args.rounds} timed "
                      "rounds, interleaved[/dim]")
        for _ in range(args.warmup):
            round_culturebook()
            round_weasyprint()
        ours: list[Run] = []
        theirs: list[dict[str, Run]] = []
        for i in range(args.rounds):
            order = (0, 1) if i % 2 == 0 else (1, 0)  # ABBA: neither side always goes first
            for side in order:
                if side == 0:
                    ours.append(round_culturebook())
                else:
                    theirs.append(round_weasyprint())
            console.print(f"[dim]round {i + 1}: culturebook {ours[-1].seconds:.2f} s, "
                          f"weasyprint x{len(docs)} {sum(r.seconds for r in theirs[-1].values()):.2f} s"
                          "[/dim]")

        from pypdf import PdfReader

        pages = {d.name: len(PdfReader(d.pdf).pages) for d in docs}
        console.print(f"[dim]engine rows: {args.rounds} rounds each; {args.people} personalised "
                      "booklets, and as many whole booklets[/dim]")
        engine = engine_rows(root, env, args.rounds, args.people, tmp)
        shapes = copy_project(tmp / "shapes", args.project.resolve())
        shutil.rmtree(shapes / "content")
        shutil.copytree(REPO / "tests" / "projects" / "shapes" / "content", shapes / "content")
        checks = {"default project": check_rows(root, max(args.rounds, 5)),
                  "tests/projects/shapes": check_rows(shapes, max(args.rounds, 5))}
        console.print(f"[dim]preview rows: {args.edits} edits per row and side[/dim]")
        preview = preview_rows(args.project.resolve(), args.edits, tmp)

    ours_s = [r.seconds for r in ours]
    theirs_s = [sum(r.seconds for r in rnd.values()) for rnd in theirs]
    ratio = statistics.median(ours_s) / statistics.median(theirs_s)
    versions = _versions()

    table = Table(title=f"Screen editions of both languages (build bundle) vs one weasyprint process "
                        f"per document (median of {args.rounds} rounds)", title_justify="left")
    table.add_column("run")
    table.add_column("documents", justify="right")
    table.add_column("median s", justify="right")
    table.add_column("min s", justify="right")
    table.add_column("max s", justify="right")
    table.add_column("peak RSS", justify="right")
    table.add_row("culturebook build bundle --force", f"{len(docs)} + 2 bundles", seconds(ours_s),
                  f"{min(ours_s):.2f}", f"{max(ours_s):.2f}",
                  f"{max(r.max_rss_kib for r in ours) / 1024:.0f} MiB")
    table.add_row(f"weasyprint CLI x {len(docs)} (sum)", str(len(docs)), seconds(theirs_s),
                  f"{min(theirs_s):.2f}", f"{max(theirs_s):.2f}",
                  f"{max(r.max_rss_kib for rnd in theirs for r in rnd.values()) / 1024:.0f} MiB "
                  "(largest)")
    verdict = "[green]meets[/green]" if ratio <= TARGET_RATIO else "[red]misses[/red]"
    table.add_row("ratio culturebook / weasyprint", "", f"{ratio:.2f}x", "", "",
                  f"{verdict} <= {TARGET_RATIO}x")
    console.print(table)

    detail = Table(title="weasyprint CLI per document (median s)", title_justify="left")
    detail.add_column("document")
    detail.add_column("pages", justify="right")
    detail.add_column("median s", justify="right")
    detail.add_column("peak RSS", justify="right")
    for d in docs:
        runs = [rnd[d.name] for rnd in theirs]
        detail.add_row(d.name, str(pages[d.name]), seconds([r.seconds for r in runs]),
                       f"{max(r.max_rss_kib for r in runs) / 1024:.0f} MiB")
    detail.add_row("[bold]total[/bold]", str(sum(pages.values())), seconds(theirs_s), "")
    console.print(detail)
    print_engine(console, engine)
    print_checks(console, checks)
    print_preview(console, preview)
    console.print(f"[dim]{versions}; {os.cpu_count()} CPUs. The booklet HTML carries the "
                  "padding candidates culturebook lays out and then drops, so the CLI's booklets "
                  "have a few more pages than build/<lang>/booklet.pdf.[/dim]")
    return 0


def print_engine(console: Console, e: dict) -> None:
    """Rows 2-5: the engine's table, then the sizes of what a whole build writes."""
    mib = 1024 * 1024
    table = Table(title="The build engine (median of the rounds; memory: the peak of every process "
                  "of the build summed, by PSS)", title_justify="left")
    for column in ("run", "median s", "target", "notes"):
        table.add_column(column, justify="left" if column in ("run", "notes") else "right")

    def verdict(ok: bool) -> str:
        return "[green]meets[/green]" if ok else "[red]misses[/red]"

    noop = statistics.median(e["noop"])
    table.add_row("build all, nothing to do", f"{noop:.2f}", f"{verdict(noop <= 0.5)} <= 0.5 s",
                  "a fresh process each round; answered from file times")
    poster = statistics.median(e["poster"])
    table.add_row("build posters, one value's statement changed", f"{poster:.2f}",
                  f"{verdict(poster <= 2)} <= 2 s", "remade: " + ", ".join(e["remade"]))
    table.add_row("build bundle after it", seconds(e["bundle"]), "",
                  "the booklet's values spread shows the statement too: booklet, poster, bundle")
    ratio = e["theirs"] / e["booklets"]
    table.add_row(f"build personalised --no-print-file, {e['people']} recipients (en)",
                  f"{e['booklets']:.2f}", "", f"{e['singles']} booklets + recipients.csv: what the "
                  f"baseline makes; peak {e['booklets_peak'] / mib:.0f} MiB")
    table.add_row(f"whole booklet per recipient, same pool, x{e['people']}", f"{e['theirs']:.2f}",
                  "", f"{e['whole']} booklets, no print file; peak {e['theirs_peak'] / mib:.0f} MiB")
    table.add_row("ratio whole / personalised", f"{ratio:.1f}x", f"{verdict(ratio >= 10)} >= 10x",
                  "the same files made")
    b = e["bound"]
    bound = b["whole"] / (b["pages"] + b["splice"])
    table.add_row("  its bound: per recipient, one process, CPU", f"{bound:.1f}x",
                  "", f"whole booklet {1000 * b['whole']:.0f} ms / (personal pages laid out, checked, "
                  f"written {1000 * b['pages']:.1f} ms + splice {1000 * b['splice']:.1f} ms): the ratio "
                  "if start-up, check, shared booklet and file writing cost nothing")
    table.add_row(f"build personalised (default), {e['people']} recipients (en)",
                  f"{e['ours']:.2f}", "", f"the same + 1 print file (CMYK) of every booklet; "
                  f"{e['theirs'] / e['ours']:.1f}x faster than the baseline, which makes no print "
                  f"file; peak {e['ours_peak'] / mib:.0f} MiB")
    table.add_row("print file of every personalised booklet", "", "",
                  f"{e['combined_bytes'] / mib:.1f} MiB, against {e['people']} x "
                  f"{e['single_bytes'] / 1024:.0f} KiB = {e['people'] * e['single_bytes'] / mib:.0f} MiB "
                  f"as separate files (a whole booklet alone: {e['whole_bytes'] / 1024:.0f} KiB)")
    table.add_row("build all --force (peak memory)", f"{e['all_seconds']:.2f}",
                  f"{verdict(e['all_peak'] <= 400 * 1000 * 1000)} <= 400 MB",
                  f"peak {e['all_peak'] / mib:.0f} MiB")
    console.print(table)
    sizes = Table(title="What build all writes", title_justify="left")
    sizes.add_column("file")
    sizes.add_column("size", justify="right")
    for path, size in sorted(e["sizes"].items()):
        if "/tiles/" not in path and "/posters/" not in path or path.endswith("mission-vision.pdf"):
            sizes.add_row(path, f"{size / 1024:.0f} KiB")
    total = sum(e["sizes"].values())
    sizes.add_row(f"[bold]all {len(e['sizes'])} files[/bold] (posters and tiles: one shown per "
                  "edition)", f"{total / mib:.1f} MiB")
    console.print(sizes)


def print_checks(console: Console, checks: dict[str, list[dict]]) -> None:
    """The layout checks' cost, in process (tests/bench_words.py): the words check against the
    booklet's layout, and poster copyfitting (measuring, fitting, the fitted and checked layout)."""
    table = Table(title="Layout checks, in process (median of 5 or more)", title_justify="left")
    for column in ("project", "edition", "booklet layout", "paginated booklet", "words check",
                   "share", "posters", "measuring", "fitting", "fitted layout + checks"):
        table.add_column(column, justify="left" if column in ("project", "edition") else "right")
    for project, rows in checks.items():
        for row in rows:
            table.add_row(project, row["lang"], f"{row['layout'] * 1000:.0f} ms",
                          f"{row['paginated'] * 1000:.0f} ms ({row['pages']} pp)",
                          f"{row['words'] * 1000:.1f} ms", f"{row['words'] / row['layout']:.1%}",
                          str(row["posters"]), f"{row['measure'] * 1000:.0f} ms",
                          f"{row['fit'] * 1000:.1f} ms", f"{row['final'] * 1000:.0f} ms")
    console.print(table)
    console.print("[dim]Booklet layout is one pass; the paginated booklet is every pass a build "
                  "makes from a fresh plan (paginate.refine), with its checks. Measuring is one "
                  "layout per poster, kept on disk by its HTML: a build lays out only the posters "
                  "whose text changed.[/dim]")


def _versions() -> str:
    from importlib.metadata import version

    return (f"Python {platform.python_version()}, WeasyPrint {version('weasyprint')}, "
            f"pypdf {version('pypdf')}, culturebook {version('culturebook')}")


if __name__ == "__main__":
    sys.exit(main())
