"""The command line: parse arguments, call build/check/preflight, print what happened. No logic of its
own."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import click

from culturebook import __version__
from culturebook.build.pipeline import TARGETS, build
from culturebook.errors import Problem, ProjectError, by_file, os_problem
from culturebook.project.folder import content_languages, find_project


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

class _Unknown(click.UsageError):
    """A word the command line does not know (a target, a command, a choice): it is printed as
    one line and the closest known word as a hint."""

    def __init__(self, noun: str, word: str, known, ctx: click.Context | None):
        super().__init__(f'unknown {noun} "{word}"', ctx)
        self.noun, self.word, self.known = noun, word, list(known)


class _Choice(click.Choice):
    """click.Choice (the same help), refusing a word it does not know as _Unknown."""

    def __init__(self, choices, noun: str):
        super().__init__(choices)
        self.noun = noun

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            raise _Unknown(self.noun, str(value), self.choices, ctx) from None


class _NoProject(click.ClickException):
    """--project names no folder: one line, exit 1 (like any other bad input, not a usage error)."""

    exit_code = 1

    def __init__(self, path: Path):
        why = "not a folder" if path.exists() else "no such project folder"
        super().__init__(f"{path}: {why}")

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


class _ProjectFolder(click.ParamType):
    name = "directory"

    def convert(self, value, param, ctx):
        path = Path(value)
        if not path.is_dir():
            raise _NoProject(path)
        return path


class _Group(click.Group):
    """The command group, whose usage errors are one line (a hint beneath where one helps)
    instead of Click's usage block; --help is Click's own."""

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if (name and not name.startswith("-") and not ctx.resilient_parsing
                and self.get_command(ctx, name) is None):
            raise _Unknown("command", name, self.list_commands(ctx), ctx)
        return super().resolve_command(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            status = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            _usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)


def _usage_error(exc: click.UsageError) -> None:
    """A usage error as one line: an unknown word or option with the closest known one as a
    hint, anything else as Click words it."""
    import difflib

    ctx = exc.ctx
    names: list[str] = []
    while ctx is not None:
        names.insert(0, (ctx.info_name or "") if ctx.parent is not None else "culturebook")
        ctx = ctx.parent
    where = " ".join(names) or "culturebook"
    if isinstance(exc, click.NoSuchOption) and exc.ctx is not None:
        known = [name for param in exc.ctx.command.get_params(exc.ctx)
                 if isinstance(param, click.Option) for name in param.opts + param.secondary_opts]
        word, noun = exc.option_name, "option"
    elif isinstance(exc, _Unknown):
        known, word, noun = exc.known, exc.word, exc.noun
    else:
        click.echo(f"Error: {exc.format_message()}", err=True)
        return
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        hint = f'did you mean "{close[0]}"?'
    elif noun == "option":
        hint = f"{where} --help lists its options"
    else:
        hint = f"{noun}s: {', '.join(known)}"
    click.echo(f'{where}: unknown {noun} "{word}"\n    hint: {hint}', err=True)


project_option = click.option(
    "--project", "project", type=_ProjectFolder(),
    default=None,
    help="Project folder (holds content/, layouts/, fonts/). Default: the current folder "
    "or the nearest parent with content/publication.yaml.")
strict_option = click.option("--strict", is_flag=True,
                             help="Treat warnings (untranslated fields, CSS) as errors.")
debug_option = click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")


def print_version(ctx: click.Context, _param, value: bool) -> None:
    """culturebook's version, and those of the engines its PDFs' bytes depend on."""
    if not value or ctx.resilient_parsing:
        return
    import platform
    from importlib.metadata import version

    from weasyprint.text.ffi import pango

    from culturebook import ENGINES

    major, rest = divmod(pango.pango_version(), 10000)
    engines = [f"{name} {version(name)}" for name in ENGINES] + [f"Pango {major}.{rest // 100}.{rest % 100}"]
    click.echo(f"culturebook {__version__} ({', '.join(engines)}; Python {platform.python_version()})")
    ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=print_version,
              help="Show the version of culturebook and of its engines, and exit.")
def main() -> None:
    """Build a company's culture publication: an A5 booklet, posters and a bundle, in every
    language of the content, as PDFs under build/."""


@main.command("build")
@click.argument("target", type=_Choice(TARGETS, "target"), default="all")
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
    _check_editions(root, editions)
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
        from culturebook.preflight.report import load_totals

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
    every content image, each text colour the layouts draw against its background (WCAG AA
    contrast, read from the stylesheets' cascade), and headings that never skip a level in the
    layouts. Then lay out each edition's booklet and posters, writing no PDF: every poster text
    fits at a legible size, nothing leaves its frame, no word of the content is lost (a document
    that passed before, unchanged, is not laid out again).

    Reports every problem at once, each as path:line:col: message, grouped by file. Then, per
    edition: the fields still waiting for a translation, each chapter's length and reading time,
    each value statement's length with how full its poster's frame was when last built, and how
    far down its text area each booklet page reaches (the theme's fill rule, pages: min-fill).
    """
    from culturebook.checks.project import check_layouts, check_project

    root = _root(project)
    with _reporting(root, debug):
        try:
            checked = check_project(root, strict)
            check_layouts(checked)
        except ProjectError as exc:
            exc.problems = by_file(exc.problems)
            raise
    _print_problems(by_file(checked.warnings), root)
    from culturebook.project.stats import built_fills, built_pages, edition_stats
    from culturebook.publish import load_manifest, settle

    with _reporting(root, debug):
        settle(root / "build")
    manifest = load_manifest(root / "build")
    for edition in checked.content.editions:
        _print_stats(edition_stats(edition, built_fills(manifest, edition.lang),
                                   built_pages(manifest, edition.lang)))
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
    embedded sources; for booklets the build made, the fill rule (from build/manifest.json).

    Without PDF arguments, checks every PDF in build/manifest.json. Writes
    build/<lang>/preflight.json for the files checked (where build/ is read-only or the disk is
    full, says so in one line and writes none). Exit status 1 on errors (under --strict, on
    warnings too).
    """
    from culturebook.errors import Location, os_problem
    from culturebook.preflight.report import failed, run_preflight, totals

    root = _root(project)
    unwritten = []
    with _reporting(root, debug):
        try:
            results = run_preflight(root, list(pdfs), lambda *why: unwritten.append(why))
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
    for failure, reports in unwritten:  # the findings are above: only the reports are missing
        problem = os_problem(failure, root)
        if problem is None:
            raise failure
        for report in reports:
            err.print(_escape(f"{Location(report).display(root)}: warning: not written: "
                              f"{problem.message}"), crop=False)
    sys.exit(1 if failed(results, strict) else 0)


@main.command("verify")
@project_option
@debug_option
def verify_command(project: Path | None, debug: bool) -> None:
    """Check build/ against build/manifest.json: every file it lists is there with the bytes it
    says (sha256), and nothing else is, besides the build's own bookkeeping (locks, preflight
    reports, share/ and its log of sent messages). A build that was stopped while putting its
    files in place is completed first.

    One line per finding, build/<path>: missing, changed since the build, or not made by the
    build; exit status 1 on any. Otherwise one line, and exit status 0.
    """
    from culturebook.publish import reading, verify

    root = _root(project)
    with _reporting(root, debug), reading(root / "build"):
        problems, listed = verify(root / "build")
    _print_problems(problems, root)
    if problems:
        err.print(f"{_count(len(problems), 'problem')}: build/ is not what build/manifest.json "
                  "lists; culturebook build --force makes it again")
        sys.exit(1)
    out.print(f"verified: {_count(listed, 'file')} in build/ as build/manifest.json lists them")


@main.command("preview")
@project_option
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Serve on this port of 127.0.0.1.")
@click.option("--edition", "editions", multiple=True, metavar="LANG",
              help="Preview only this edition (repeatable). Default: every language.")
@debug_option
def preview_command(project: Path | None, port: int, editions: tuple[str, ...], debug: bool) -> None:
    """Serve a live preview on http://127.0.0.1:PORT/: each edition's booklet as spreads and its
    posters, drawn from the built PDFs, links to download every PDF, and a panel listing every
    problem with its file and line.

    Watches content/, layouts/ and fonts/: a change rebuilds what it touched (build bundle) and
    the page updates itself. A build that fails shows its problems, and the last good pages stay.
    Only this computer can open the page. Ctrl-C stops it, and any build it was running.
    """
    from culturebook.preview.server import Refused, serve

    root = _root(project)
    _check_editions(root, editions)
    with _reporting(root, debug):
        try:
            serve(root, port, list(editions), lambda line: err.print(_escape(line), crop=False))
        except Refused as exc:
            err.print(_escape(str(exc)), crop=False)
            sys.exit(1)


@main.command("new")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--example", type=_Choice(["blank", "tencent"], "example"), default="blank",
              help="blank: every text says what to write there (the default). tencent: the "
              "culture statement this culturebook ships with, to learn from.")
@click.option("--name", default=None, metavar="NAME",
              help="The organisation's name: on the cover, in the texts, and the theme's folder.")
@click.option("--languages", default=None, metavar="LANGS",
              help="Editions, comma-separated, the first the source language (e.g. en,zh-Hans). "
              "Default: every language the example has.")
@debug_option
def new_command(folder: Path, example: str, name: str | None, languages: str | None,
                debug: bool) -> None:
    """Make a new project in FOLDER (new or empty): content to replace with yours, a theme of
    its own that extends the default one, the fonts, a Makefile and a README that says what to
    edit first. It builds at once: cd FOLDER && culturebook build."""
    from culturebook.project.scaffold import languages_of, new_project

    chosen = [lang.strip() for lang in languages.split(",") if lang.strip()] if languages else None
    offered = languages_of(example)
    for lang in chosen or ():
        if lang not in offered:
            raise click.BadParameter(f"the {example} project has no texts in '{lang}' (it has "
                                     f"{', '.join(offered)})", param_hint="--languages")
    if name is not None and (not name.strip() or "\n" in name):
        raise click.BadParameter("give the organisation's name, on one line", param_hint="--name")
    with _reporting(Path.cwd(), debug):
        made = new_project(folder, example, name and name.strip(), chosen)
    shown = os.path.relpath(made)
    out.print(f"made {shown}: a {example} project. Next: cd {shown} && culturebook build; "
              f"then edit content/ (see {shown}/README.md)")


@main.command("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the reference to this file (e.g. docs/content.md) instead of printing it.")
def reference_command(output: Path | None) -> None:
    """Print the reference of every field of a project's YAML files (publication.yaml, each
    language's content file, a theme's theme.yaml): type, required, default, example, and where
    the default layouts show it. Written from the schema that check validates against."""
    from culturebook.files import write_atomic
    from culturebook.project.reference import reference

    text = reference()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomic(output, text.encode("utf-8"))
    except OSError as exc:
        raise click.ClickException(f"{output}: cannot write it: {exc.strerror}") from None


@main.command("share")
@click.option("--edition", "editions", multiple=True, metavar="LANG",
              help="Share only this edition (repeatable). Default: every language.")
@click.option("--to", "to", multiple=True, metavar="ADDR",
              help="Send to this address (repeatable), in the first edition chosen.")
@click.option("--recipients", type=click.Path(path_type=Path), default=None, metavar="CSV",
              help="Send to each row of a recipients CSV (name, email, optional language), "
              "each with their own personalised booklet where one was built.")
@click.option("--send", is_flag=True, help="Send the messages. Without it, only list who would "
              "get what (a dry run).")
@click.option("--host", default=None, help="SMTP server. Default: share: smtp: host: in "
              "content/publication.yaml.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="SMTP port. Default: "
              "share: smtp: port: (587).")
@click.option("--security", type=_Choice(("starttls", "tls", "none"), "security"),
              default=None,
              help="starttls, tls (implicit, port 465) or none. Default: share: smtp: security:.")
@click.option("--rate", type=click.FloatRange(min=0), default=None, metavar="N",
              help="At most N messages a minute (0: no limit). Default: share: rate:.")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True, metavar="N",
              help="Tries after the first for a transient failure (4xx, dropped connection).")
@click.option("--retry-wait", type=click.FloatRange(min=0), default=2.0, show_default=True,
              metavar="SECONDS", help="Wait before the first retry; doubled for each next one.")
@click.option("--resend-in-doubt", is_flag=True, help="Send again the messages the send log has "
              "in doubt (a run stopped at once while the server was answering: it may have them).")
@project_option
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and the summary.")
@debug_option
def share_command(editions: tuple[str, ...], to: tuple[str, ...], recipients: Path | None,
                  send: bool, host: str | None, port: int | None, security: str | None,
                  rate: float | None, retries: int, retry_wait: float, resend_in_doubt: bool,
                  project: Path | None, quiet: bool, debug: bool) -> None:
    """Prepare the screen editions for email and, with --send, send them.

    Builds what is out of date (as build bundle does), then writes build/<lang>/share/: the PDFs
    (images at 150 ppi, duplicates merged, the title in the title bar, bookmarks open) under
    names a person keeps, personalised/ booklets where they were built, a cover thumbnail, and a
    ready-to-open draft <name>.eml. Messages over share: budget: are an error, or split over
    numbered messages with share: split: true.

    With --to or --recipients it lists who would get what; --send sends it. The SMTP login comes
    only from the environment variables CULTUREBOOK_SMTP_USER and CULTUREBOOK_SMTP_PASSWORD,
    never from options or files. build/share-sent.jsonl records each message as the server
    accepts it, so a run that was interrupted sends nobody a second copy when run again.
    Ctrl-C lets the message on its way finish; a second Ctrl-C stops at once, and that message
    is "in doubt": later runs leave it out until --resend-in-doubt. Exit status 1 when any
    message failed or was left out in doubt; 130 when Ctrl-C stopped the run.
    """
    from culturebook.build.pipeline import build
    from culturebook.checks.project import check_project
    from culturebook.share.drafts import write_share

    if send and not to and recipients is None:
        raise click.UsageError("--send needs --to ADDR or --recipients CSV")
    if to and recipients is not None:
        raise click.UsageError("give --to or --recipients, not both")
    from culturebook.project.schema import ADDRESS_RE

    for address in to:
        if not ADDRESS_RE.fullmatch(address.strip()):
            raise click.BadParameter(f"'{address}' is not an email address", param_hint="--to")
    root = _root(project)
    languages = _check_editions(root, editions)
    chosen = list(editions) or None
    with _reporting(root, debug), _Progress(quiet) as progress:
        _, warnings = build(root, "bundle", chosen, progress=progress)
        checked = check_project(root)
        shares = write_share(root, checked, chosen, progress)
    _print_problems([w for w in warnings if w.warning], root)
    if not quiet:
        _print_shared(shares)
    if not to and recipients is None:
        return
    _share_send(root, checked, shares, chosen or languages, to, recipients, send, host, port,
                security, rate, retries, retry_wait, resend_in_doubt, quiet, debug)


def _print_shared(shares) -> None:
    from culturebook.share.message import human_size

    for share in shares:
        prepared = sum(len(a.data) for a in share.attachments)
        resampled = (f", {_count(share.images_resampled, 'image')} resampled to 150 ppi"
                     if share.images_resampled else "")
        out.print(f"build/{share.lang}/share/: {_count(len(share.attachments), 'file')} to attach, "
                  f"{human_size(prepared)} (screen editions {human_size(share.screen_bytes)})"
                  f"{resampled}; {_count(len(share.personal), 'personalised booklet')}",
                  crop=False)
        for draft in share.drafts:
            out.print(f"  draft build/{draft}", crop=False)


def _share_send(root, checked, shares, editions, to, recipients, send, host, port, security,
                rate, retries, retry_wait, resend_in_doubt, quiet, debug) -> None:
    """Who gets what; with `send`, send it. Exit 1 when anyone's message failed or was left out
    in doubt."""
    from culturebook.errors import Problems
    from culturebook.share.drafts import settings_from
    from culturebook.share.mail import (
        LOG,
        Person,
        Retry,
        SendError,
        now,
        people_from_csv,
        plan_deliveries,
        send_all,
        server_from_env,
        with_own_booklets,
    )
    from culturebook.share.message import human_size

    settings = settings_from(checked.content.settings)
    rows = Problems()
    with _reporting(root, debug):
        if recipients is not None:
            people = with_own_booklets(shares, people_from_csv(recipients.resolve(), checked,
                                                               editions, rows), rows)
        else:
            people = [Person(a.strip(), "", editions[0]) for a in to]
    _print_problems(rows.items, root)
    deliveries, failed = plan_deliveries(shares, settings, people, now())
    for line in failed:
        click.echo(line, err=True)
    log = root / "build" / LOG
    if not send:
        from culturebook.share.mail import read_log

        done, doubtful = read_log(log)
        if resend_in_doubt:
            doubtful = set()
        for d in deliveries:
            state = ("already sent" if d.message_id in done else
                     "in doubt, not sent" if d.message_id in doubtful else "would send")
            out.print(f"{state}: {d.to} ({d.lang}, message {d.part}/{d.parts}, "
                      f"{human_size(len(d.data))}): {', '.join(d.files)}", crop=False, markup=False)
        pending = [d for d in deliveries if d.message_id not in done | doubtful]
        held = len([d for d in deliveries if d.message_id in doubtful])
        out.print(f"dry run: {_count(len(pending), 'message')} to send, "
                  f"{len([d for d in deliveries if d.message_id in done])} already sent"
                  f"{f', {held} in doubt' if held else ''}; add --send to send them")
        sys.exit(1 if failed or rows.errors or held else 0)
    host = host or settings.host
    if not host:
        raise click.UsageError("no SMTP server: set share: smtp: host: in "
                               "content/publication.yaml or pass --host")
    server = server_from_env(host, port or settings.port, security or settings.security)

    def report(event: str, delivery, detail: str) -> None:
        where = f"{delivery.to} ({delivery.lang}, message {delivery.part}/{delivery.parts})"
        if event == "sent" and not quiet:
            out.print(f"sent: {where} {delivery.message_id}", crop=False, markup=False)
        elif event == "failed":
            click.echo(f"{delivery.to}: not sent: {detail}", err=True)
        elif event == "retry" and not quiet:
            click.echo(f"{where}: {detail}", err=True)
        elif event == "in doubt":
            click.echo(f"{where}: not sent: in doubt, a run stopped while the server was "
                       "answering may have sent it; --resend-in-doubt sends it", err=True)
        elif event == "finishing":
            click.echo(f"stopping once the server has answered for {where}; Ctrl-C again stops "
                       "at once", err=True)

    def stopped(why: str, status: int) -> None:
        from culturebook.share.mail import read_log

        done, doubtful = read_log(log)
        sent = len([d for d in deliveries if d.message_id in done])
        held = len([d for d in deliveries if d.message_id in doubtful])
        click.echo(f"{why}: {sent} of {_count(len(deliveries), 'message')} sent so far"
                   f"{f', {held} in doubt' if held else ''} (build/{LOG}); run the same command "
                   "again to send the rest", err=True)
        sys.exit(status)

    with _reporting(root, debug):  # anything unforeseen: one line, the traceback saved
        try:
            with _send_lock(root / "build"):
                outcome = send_all(deliveries, settings.sender, server, log, report,
                                   Retry(retries, retry_wait),
                                   settings.rate if rate is None else rate,
                                   resend_in_doubt=resend_in_doubt)
        except SendError as exc:
            click.echo(exc.message, err=True)
            if exc.hint:
                click.echo(f"    hint: {exc.hint}", err=True)
            stopped("stopped", 1)
        except KeyboardInterrupt:
            stopped("interrupted", 130)
    problems = len(outcome.failed) + len(failed) + len(rows.errors)
    doubt = f", {len(outcome.in_doubt)} in doubt" if outcome.in_doubt else ""
    summary = (f"sent {_count(len(outcome.sent), 'message')}, {len(outcome.skipped)} already sent, "
               f"{problems} failed{doubt} (build/{LOG})")
    problems += len(outcome.in_doubt)
    click.echo(summary, err=bool(problems))
    sys.exit(1 if problems else 0)


class _send_lock:
    """One sending run of a project at a time: two would each send what the log does not have."""

    def __init__(self, out: Path):
        self.path = out / ".share-send.lock"

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            click.echo("share: another run is sending for this project", err=True)
            sys.exit(1)
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def _check_editions(root: Path, editions) -> list[str]:
    """The content's languages; --edition must name one of them (a usage error otherwise)."""
    languages = content_languages(root)
    for lang in editions:
        if languages and lang not in languages:
            raise click.BadParameter(f"'{lang}' is not one of the content's languages "
                                     f"({', '.join(languages)})", param_hint="--edition")
    return languages


def _root(project: Path | None) -> Path:
    return project.resolve() if project else find_project(Path.cwd())


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
        if isinstance(exc, OSError) and (problem := os_problem(exc, self.root)) is not None:
            # a read-only or full disk, a folder this user may not write: one line, the cause
            _print_problems([problem], self.root)
            err.print(_committed(self.root) or "stopped by the disk; nothing was written")
            sys.exit(1)
        if isinstance(exc, KeyboardInterrupt):
            err.print(_committed(self.root, "interrupted")
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


def _committed(root: Path, what: str = "stopped by the disk") -> str:
    """The summary for a command stopped after its publish was committed ("" if it was not)."""
    from culturebook.publish import JOURNAL

    if not (root / "build" / JOURNAL).is_file():
        return ""
    return (f"{what}; the new build was committed but is not all in place yet: the next culturebook "
            "command (e.g. culturebook verify) puts it in place")


def _print_problems(problems: list[Problem], root: Path) -> None:
    if not sys.stderr.isatty():  # a log or a pipe: the lines as they are, without loading rich
        for problem in problems:
            sys.stderr.write(problem.format(root) + "\n")
        return
    for problem in problems:
        text = problem.format(root)
        first, _, rest = text.partition("\n")
        style = "yellow" if problem.warning else "red"
        err.print(f"[{style}]{_escape(first)}[/{style}]" + (f"\n{_escape(rest)}" if rest else ""))


def _print_stats(stats) -> None:
    """One edition's translations, chapter lengths and poster statements, as aligned plain lines."""
    missing = stats.untranslated
    out.print(f"{stats.lang}: " + (f"{_count(len(missing), 'field')} untranslated: "
                                   + ", ".join(missing) if missing else "every field translated"))
    total = stats.total
    reading = f"about {total.minutes:.0f} min" if total.minutes >= 1 else "under a minute"
    out.print(f"  chapters: {total}, {reading} to read", markup=False)
    for title, length in stats.chapters:
        out.print(f"    {_padded(title, 44)} {str(length):>24}  {length.minutes:4.1f} min",
                  markup=False)
    out.print("  posters (each value's statement; how full its frame was when last built):",
              markup=False)
    for name, length, fill in stats.posters:
        full = f"{fill:4.0%} of its frame" if fill is not None else "not built yet"
        out.print(f"    {_padded(name, 44)} {str(length):>24}  {full}", markup=False)
    _print_pages(stats)


def _print_pages(stats) -> None:
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


def _padded(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) or padded to `width` columns, a Chinese character being two."""
    import unicodedata

    def cells(char: str) -> int:
        return 2 if unicodedata.east_asian_width(char) in "WF" else 1

    if sum(map(cells, text)) > width:
        kept = ""
        for char in text:
            if sum(map(cells, kept + char)) > width - 1:
                break
            kept += char
        text = kept + "…"
    return text + " " * (width - sum(map(cells, text)))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"
