"""The command line: parse arguments, call build/check/preflight, print what happened. No logic of its
own."""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from pathlib import Path

import click

from . import __version__
from .build import TARGETS, build, check_project, find_project
from .errors import Problem, ProjectError


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


def Table(**options):  # noqa: N802 - rich's Table, imported when a table is printed
    from rich.table import Table as RichTable

    return RichTable(**options)

project_option = click.option(
    "--project", "project", type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Project folder (holds content/, layouts/, fonts/). Default: the current folder "
    "or the nearest parent with content/publication.yaml.")
strict_option = click.option("--strict", is_flag=True,
                             help="Treat warnings (untranslated fields, CSS) as errors.")
debug_option = click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="culturebook")
def main() -> None:
    """Build a company's culture publication: an A5 booklet, posters and a bundle, in every
    language of the content, as PDFs under build/."""


@main.command("build")
@click.argument("target", type=click.Choice(TARGETS), default="all")
@click.option("--edition", "editions", multiple=True, metavar="LANG",
              help="Build only this edition (repeatable). Default: every language.")
@project_option
@strict_option
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@click.option("-v", "--verbose", is_flag=True, help="Also list the documents that were up to date.")
@click.option("--force", is_flag=True, help="Make every document again, changed or not.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Render in N worker processes. Default: the number of cores.")
@click.option("--recipients", type=click.Path(path_type=Path), default=None, metavar="CSV",
              help="personalised: the people to make a booklet for, one CSV row each (name; "
              "optional email, slug, language and the columns the content declares).")
@click.option("--print-file/--no-print-file", default=True,
              help="personalised: also make build/<lang>/print/personalised.pdf, every booklet in "
              "one print file (the default). --no-print-file is for a mailing that will not be "
              "printed: the print file takes about as long to make as the booklets.")
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Render on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786) "
              "instead of in local processes; its workers must see the project at the same path. "
              "Needs the cluster extra: pip install 'culturebook[cluster]'.")
@debug_option
def build_command(target: str, editions: tuple[str, ...], project: Path | None, strict: bool,
                  quiet: bool, verbose: bool, force: bool, jobs: int | None,
                  recipients: Path | None, print_file: bool, cluster: str | None,
                  debug: bool) -> None:
    """Build TARGET: booklet, posters, bundle (booklet + posters in one PDF), print, archive,
    all (the five), or personalised (one booklet per row of --recipients).

    Writes build/<lang>/booklet.pdf, build/<lang>/posters/<slug>.pdf,
    build/<lang>/culture-kit.pdf, the print editions under build/<lang>/print/,
    build/<lang>/archive/booklet.pdf and build/manifest.json. The booklet, posters and bundle
    are tagged PDF (PDF/UA-1) for screen readers; the archive is the booklet as PDF/A-3a, with
    the content YAML it was made from embedded in it. A document whose inputs have not
    changed since the last build is not made again. Every new PDF is preflighted; nothing is
    written unless every document renders and passes.

    personalised writes build/<lang>/personalised/<slug>.pdf (the recipient's name on the
    cover, their welcome letter on page 2), recipients.csv beside them for a mail merge, and
    (unless --no-print-file) build/<lang>/print/personalised.pdf, every booklet in one print
    file. A bad row is reported at its line and column and left out; the others are built, and
    the exit status is 1.
    """
    for given, hint in ((recipients is not None, "--recipients"),
                        (not print_file, "--no-print-file")):
        if given and target != "personalised":
            raise click.BadParameter(f"is for 'build personalised', not 'build {target}'",
                                     param_hint=hint)
    root = _root(project)
    languages = _languages(root)
    for lang in editions:
        if languages and lang not in languages:
            raise click.BadParameter(f"'{lang}' is not one of the content's languages "
                                     f"({', '.join(languages)})", param_hint="--edition")
    started = time.perf_counter()
    with _reporting(root, debug), _Progress(quiet, verbose) as progress:
        artifacts, warnings = build(root, target, list(editions) or None, strict, progress, force,
                                    jobs, recipients and recipients.resolve(), cluster, print_file)
    _print_problems(warnings, root)
    left_out = [p for p in warnings if not p.warning]  # recipients' rows: the others were built
    if not quiet and not artifacts:
        out.print(f"nothing to do: everything is up to date ({time.perf_counter() - started:.1f} s; "
                  "--force makes it all again)")
    elif not quiet:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column, justify in (("wrote", "left"), ("pages", "right"), ("size", "right")):
            table.add_column(column, justify=justify)
        for a in artifacts:
            table.add_row(f"build/{a.path}", str(a.pages), _size(a.bytes))
        out.print(table)
        out.print(f"{len(artifacts)} files in {time.perf_counter() - started:.1f} s")
        from .preflight import load_totals

        errors, warned, reports = load_totals(root / "build", sorted({a.edition for a in artifacts}))
        shown = ", ".join(str(p.relative_to(root)) for p in reports)
        out.print(f"preflight: {len(artifacts)} files, {_count(errors, 'error')}, "
                  f"{_count(warned, 'warning')} ({shown})")
    if left_out:
        err.print(f"{_count(len(left_out), 'recipient')} left out (see above); every other "
                  "booklet was built")
        sys.exit(1)


@main.command("check")
@project_option
@strict_option
@debug_option
def check_command(project: Path | None, strict: bool, debug: bool) -> None:
    """Check content, layouts, stylesheets and font coverage, and accessibility: alt text on
    every content image, the theme's text colours against WCAG AA contrast, and headings that
    never skip a level in the layouts; render nothing.

    Reports every problem at once, each as path:line:col: message.
    """
    root = _root(project)
    with _reporting(root, debug):
        checked = check_project(root, strict)
    _print_problems(checked.warnings, root)
    langs = ", ".join(e.lang for e in checked.content.editions)
    out.print(f"ok: {_count(len(checked.content.editions), 'edition')} ({langs}), theme "
              f"'{checked.brand.name}', {_count(len(checked.warnings), 'warning')}")


@main.command("preflight")
@click.argument("pdfs", nargs=-1, type=click.Path(path_type=Path), metavar="[PDF]...")
@project_option
@strict_option
@debug_option
def preflight_command(pdfs: tuple[Path, ...], project: Path | None, strict: bool, debug: bool) -> None:
    """Check built PDFs as a print shop's preflight would: fonts, .notdef glyphs, image resolution,
    page count, TrimBox/BleedBox, bleed coverage, colour spaces, the PDF/X output intent,
    metadata and links; and, for screen and archival editions, the tags a screen reader follows
    (structure tree, headings, alt text, no untagged text) and the PDF/A-3 identification and
    embedded sources.

    Without PDF arguments, checks every PDF in build/manifest.json. Writes
    build/<lang>/preflight.json for the files checked. Exit status 1 on errors (under --strict, on
    warnings too).
    """
    from .preflight import failed, run_preflight, totals

    root = _root(project)
    with _reporting(root, debug):
        try:
            results = run_preflight(root, list(pdfs))
        except ProjectError as exc:  # a missing file, not a PDF, no build: one line each
            _print_problems(exc.problems, root)
            sys.exit(1)
    errors, warnings = totals(results)
    if (errors or warnings) and out.is_terminal:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("file", "check", "page"):
            table.add_column(column, no_wrap=True)
        table.add_column("message", overflow="fold")
        for name, findings in results.items():
            for f in findings:
                table.add_row(_escape(name), f.check, str(f.page or ""), _escape(f.message),
                              style="red" if f.error else "yellow")
        out.print(table)
    elif errors or warnings:  # a pipe or CI log: one whole line per finding, never wrapped
        for name, findings in results.items():
            for f in findings:
                level = "error" if f.error else "warning"
                out.print(_escape(f"{name}: {level}: {f.check}: {f.message}"), crop=False)
    out.print(f"{_count(len(results), 'file')} checked: {_count(errors, 'error')}, "
              f"{_count(warnings, 'warning')}")
    sys.exit(1 if failed(results, strict) else 0)


def _root(project: Path | None) -> Path:
    return project.resolve() if project else find_project(Path.cwd())


def _languages(root: Path) -> list[str]:
    """The languages named in content/publication.yaml, for checking --edition (best effort)."""
    from .errors import Problems
    from .schema import SETTINGS
    from .yamlsource import load_yaml

    try:
        node = load_yaml(root / "content" / "publication.yaml")
        return SETTINGS.convert(node, "", Problems()).get("languages") or []
    except (ProjectError, AttributeError):
        return []


class _Progress:
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


class _reporting:
    """Turn ProjectError into problem lines and exit 1; anything else is a bug, reported briefly."""

    def __init__(self, root: Path, debug: bool):
        self.root, self.debug = root, debug

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            return False
        if isinstance(exc, ProjectError):
            _print_problems(exc.problems, self.root)
            errors = [p for p in exc.problems if not p.warning] or exc.problems
            files = len({p.location.path for p in errors})
            warnings = len(exc.problems) - len(errors)
            also = f" (and {_count(warnings, 'warning')})" if warnings else ""
            err.print(f"{_count(len(errors), 'problem')} in {_count(files, 'file')}{also}; "
                      "nothing was written")
            sys.exit(1)
        if isinstance(exc, KeyboardInterrupt):
            err.print("interrupted; nothing was written")
            sys.exit(130)
        if self.debug or isinstance(exc, (click.exceptions.Exit, click.ClickException, SystemExit)):
            return False
        with tempfile.NamedTemporaryFile("w", prefix="culturebook-crash-", suffix=".log",
                                         delete=False) as log:
            traceback.print_exception(kind, exc, tb, file=log)
        err.print(f"internal error: {kind.__name__}: {exc}")
        err.print(f"the traceback was saved to {log.name}; run with --debug to see it")
        sys.exit(1)


def _print_problems(problems: list[Problem], root: Path) -> None:
    if not sys.stderr.isatty():  # a log or a pipe: the lines as they are, without loading rich
        for problem in problems:
            print(problem.format(root), file=sys.stderr)
        return
    for problem in problems:
        text = problem.format(root)
        first, _, rest = text.partition("\n")
        style = "yellow" if problem.warning else "red"
        err.print(f"[{style}]{_escape(first)}[/{style}]" + (f"\n{_escape(rest)}" if rest else ""))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"
