"""What the command line prints: problems, progress, tables and statistics, on a terminal in
colour (rich), in a log or a pipe as plain whole lines; and how a command stopped by a problem, the
disk, Ctrl-C or a bug is reported (`reporting`).

rich is imported when something is first printed, so a command that prints nothing (-q, nothing
to do) does not load it.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

import click

from culturebook.errors import Problem, ProjectError, os_problem


class _Console:
    """A rich Console made on first use: a build that prints nothing (-q, nothing to do) does not
    pay for importing rich."""

    def __init__(self, **options):
        self.options, self.console = options, None

    def __getattr__(self, name: str):
        if self.console is None:
            from rich.console import Console

            self.console = Console(**self.options)
        return getattr(self.console, name)


# soft_wrap: a problem is one line however long, never folded at the terminal's (or 80) columns,
# so editors and scripts can read `path:line:col: message` from it.
out = _Console(highlight=False, soft_wrap=True)
err = _Console(stderr=True, highlight=False, soft_wrap=True)


def Table(**options):
    from rich.table import Table as RichTable

    return RichTable(**options)


class Progress:
    """What a build is doing: a progress bar (documents made of the total, the current one, time
    elapsed) on a terminal; one plain line per step otherwise (CI, pipes); nothing with -q."""

    def __init__(self, quiet: bool, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose
        self.bar = None

    def __enter__(self):
        if not self.quiet and err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("checking", total=None)
        return self

    def __call__(self, message: str, done: int | None = None, total: int | None = None) -> None:
        if self.quiet or (message.startswith("up to date") and not self.verbose):
            return
        if message.startswith("up to date") and self.bar is not None:
            self.bar.console.print(f"[dim]{message}[/dim]")
            return
        if self.bar is None:
            count = f" ({done}/{total})" if total and done and done <= total else ""
            err.print(f"[dim]{message}{count}[/dim]")
            return
        self.bar.update(self.task, description=message, total=total or None,
                        completed=(done - 1) if done else None)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


class reporting:
    """Turn ProjectError into problem lines and exit 1; anything else is a bug, reported briefly."""

    def __init__(self, root: Path, debug: bool):
        self.root, self.debug = root, debug

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            return False
        if isinstance(exc, ProjectError):
            print_problems(exc.problems, self.root)
            errors = [p for p in exc.problems if not p.warning] or exc.problems
            files = len({p.location.path for p in errors})
            warnings = len(exc.problems) - len(errors)
            also = f" (and {counted(warnings, 'warning')})" if warnings else ""
            err.print(f"{counted(len(errors), 'problem')} in {counted(files, 'file')}{also}; "
                      "nothing was written")
            sys.exit(1)
        if isinstance(exc, OSError) and (problem := os_problem(exc, self.root)) is not None:
            # a read-only or full disk, a folder this user may not write: one line, the cause
            print_problems([problem], self.root)
            err.print(committed(self.root) or "stopped by the disk; nothing was written")
            sys.exit(1)
        if isinstance(exc, KeyboardInterrupt):
            err.print(committed(self.root, "interrupted")
                      or "interrupted; nothing was written")
            sys.exit(130)
        if self.debug or isinstance(exc, (click.exceptions.Exit, click.ClickException, SystemExit)):
            return False
        with tempfile.NamedTemporaryFile("w", prefix="culturebook-crash-", suffix=".log",
                                         delete=False) as log:
            traceback.print_exception(kind, exc, tb, file=log)
        err.print(f"internal error: {kind.__name__}: {exc}")
        err.print(f"the traceback was saved to {log.name}; run with --debug to see it")
        sys.exit(1)


def committed(root: Path, what: str = "stopped by the disk") -> str:
    """The summary for a command stopped after its publish was committed ("" if it was not)."""
    from culturebook.publish import JOURNAL

    if not (root / "build" / JOURNAL).is_file():
        return ""
    return (f"{what}; the new build was committed but is not all in place yet: the next culturebook "
            "command (e.g. culturebook verify) puts it in place")


def print_problems(problems: list[Problem], root: Path) -> None:
    if not sys.stderr.isatty():  # a log or a pipe: the lines as they are, without loading rich
        for problem in problems:
            sys.stderr.write(problem.format(root) + "\n")
        return
    for problem in problems:
        text = problem.format(root)
        first, _, rest = text.partition("\n")
        style = "yellow" if problem.warning else "red"
        err.print(f"[{style}]{escape(first)}[/{style}]" + (f"\n{escape(rest)}" if rest else ""))


def print_stats(stats) -> None:
    """One edition's translations, chapter lengths and poster statements, as aligned plain lines."""
    missing = stats.untranslated
    out.print(f"{stats.lang}: " + (f"{counted(len(missing), 'field')} untranslated: "
                                   + ", ".join(missing) if missing else "every field translated"))
    total = stats.total
    reading = f"about {total.minutes:.0f} min" if total.minutes >= 1 else "under a minute"
    out.print(f"  chapters: {total}, {reading} to read", markup=False)
    for title, length in stats.chapters:
        out.print(f"    {padded(title, 44)} {str(length):>24}  {length.minutes:4.1f} min",
                  markup=False)
    out.print("  posters (each value's statement; how full its frame was when last built):",
              markup=False)
    for name, length, fill in stats.posters:
        full = f"{fill:4.0%} of its frame" if fill is not None else "not built yet"
        out.print(f"    {padded(name, 44)} {str(length):>24}  {full}", markup=False)
    print_pages(stats)


def print_pages(stats) -> None:
    """The booklet's pages as last built: how full each is, text pages marked (the fill rule)."""
    if not stats.pages:
        out.print("  booklet pages: not built yet", markup=False)
        return
    out.print(f"  booklet pages ({len(stats.pages)}; how far down its text area each reaches, "
              "* a text page, held to the theme's pages: min-fill):", markup=False)
    cells = [f"{n:>3}{'*' if kind == 'chapter' else ' '} {fill:4.0%}"
             for n, (kind, fill) in enumerate(stats.pages, 1)]
    for start in range(0, len(cells), 8):
        out.print("   " + "  ".join(cells[start:start + 8]), markup=False)


def padded(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) or padded to `width` columns, a Chinese character being two."""
    from rich.cells import cell_len, chop_cells, set_cell_size

    if cell_len(text) > width:
        text = chop_cells(text, width - 1)[0] + "…"
    return set_cell_size(text, width)


def escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def file_size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def print_shared(shares) -> None:
    from culturebook.share.message import human_size

    for share in shares:
        prepared = sum(len(a.data) for a in share.attachments)
        resampled = (f", {counted(share.images_resampled, 'image')} resampled to 150 ppi"
                     if share.images_resampled else "")
        out.print(f"build/{share.lang}/share/: {counted(len(share.attachments), 'file')} to attach, "
                  f"{human_size(prepared)} (screen editions {human_size(share.screen_bytes)})"
                  f"{resampled}; {counted(len(share.personal), 'personalised booklet')}",
                  crop=False)
        for draft in share.drafts:
            out.print(f"  draft build/{draft}", crop=False)


def print_proofed(proofed, root: Path, dpi: int, seconds: float) -> None:
    """The soft proofs written: one line per print file (its PNGs, their size, the pages with a
    gamut warning), then the count and the time."""
    for done in proofed:
        first, last = (p.relative_to(root).as_posix() for p in (done.pngs[0], done.pngs[-1]))
        shown = first if first == last else f"{first} .. {Path(last).name}"
        warned = (f"; {counted(done.warned, 'page')} with colours the press cannot reach"
                  if done.compared and done.warned else "")
        out.print(escape(f"{shown}: {counted(len(done.pngs), 'page')}, {done.size[0]}x"
                         f"{done.size[1]} px, {done.bytes // 1024} KB{warned}"), crop=False)
    pages = sum(len(done.pngs) for done in proofed)
    out.print(f"proofed {counted(len(proofed), 'print file')}, {counted(pages, 'page')} at {dpi} "
              f"dpi in {seconds:.1f} s")


def print_written(artifacts) -> None:
    """The files a build wrote, as a table: path, pages, size."""
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column, justify in (("wrote", "left"), ("pages", "right"), ("size", "right")):
        table.add_column(column, justify=justify)
    for a in artifacts:
        table.add_row(f"build/{a.path}", str(a.pages), file_size(a.bytes))
    out.print(table)


def print_findings(results: dict) -> None:
    """Preflight's findings (results: {file: findings}): a table on a terminal, errors red and
    warnings yellow; in a pipe or CI log, one whole line per finding, never wrapped."""
    if not any(results.values()):
        return
    if out.is_terminal:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("file", "check", "page"):
            table.add_column(column, no_wrap=True)
        table.add_column("message", overflow="fold")
        for name, findings in results.items():
            for f in findings:
                table.add_row(escape(name), f.check, str(f.page or ""), escape(f.message),
                              style="red" if f.error else "yellow")
        out.print(table)
        return
    for name, findings in results.items():
        for f in findings:
            level = "error" if f.error else "warning"
            out.print(escape(f"{name}: {level}: {f.check}: {f.message}"), crop=False)


def print_colours(rows, condition: str, warn_at: float, gain: float) -> None:
    """The theme's print colours on press: screen colour, CMYK, total ink and ΔE2000 between
    them, with the closer values of the same inks where the colour is over `warn_at`."""
    if not rows:
        return
    measured = any(row.delta_e is not None for row in rows)
    out.print(f"print colours on {condition}" + (" (ΔE2000 from the screen colour):" if measured
                                                 else " (no output profile: ΔE not measured):"),
              markup=False)
    for row in rows:
        cmyk = " ".join(f"{v:>3g}" for v in row.cmyk)
        line = f"    {padded(row.name, 16)} {row.screen}  {cmyk}  {row.total:4g} %"
        if row.delta_e is not None:
            line += f"  ΔE {row.delta_e:4.1f}"
            if row.delta_e > warn_at and row.closest_delta_e is not None:
                closer = row.delta_e - row.closest_delta_e >= gain
                line += (f"  closest: {' '.join(f'{v:g}' for v in row.closest or ())} "
                         f"(ΔE {row.closest_delta_e:.1f})" if closer
                         else "  (as close as these inks come)")
        out.print(line, markup=False)
