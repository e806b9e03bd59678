"""The command line: parse arguments, call build/check/preflight/share, print what happened (through
cli.output). No logic of its own."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from culturebook import __version__
from culturebook.build.pipeline import TARGETS, build
from culturebook.cli.doctor import doctor_command
from culturebook.cli.output import (
    Progress,
    counted,
    err,
    escape,
    out,
    print_colours,
    print_findings,
    print_problems,
    print_proofed,
    print_stats,
    print_written,
    reporting,
)
from culturebook.cli.sharing import share_command
from culturebook.cli.themes import themes_command
from culturebook.cli.usage import (
    Choice,
    Group,
    check_editions,
    debug_option,
    project_option,
    project_root,
    run_process,
    strict_option,
)
from culturebook.errors import ProjectError, by_file


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


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=print_version,
              help="Show the version of culturebook and of its engines, and exit.")
def main() -> None:
    """Build a company's culture publication: an A5 booklet, posters and a bundle, in every
    language of the content, as PDFs under build/."""


main.add_command(doctor_command)


def run() -> None:
    """The `culturebook` command: main, as the whole life of its process."""
    run_process(main)


@main.command("build")
@click.argument("target", type=Choice(TARGETS, "target"), default="all")
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
    root = project_root(project)
    check_editions(root, editions)
    started = time.perf_counter()
    with reporting(root, debug), Progress(quiet, verbose) as progress:
        artifacts, warnings = build(root, target, list(editions) or None, strict, progress, force,
                                    jobs, recipients and recipients.resolve(), cluster, print_file)
    print_problems(warnings, root)
    left_out = [p for p in warnings if not p.warning]  # recipients' rows: the others were built
    if not quiet and not artifacts:
        out.print(f"nothing to do: everything is up to date ({time.perf_counter() - started:.1f} s; "
                  "--force makes it all again)")
    elif not quiet:
        print_written(artifacts)
        out.print(f"{len(artifacts)} files in {time.perf_counter() - started:.1f} s")
        from culturebook.preflight.report import load_totals

        errors, warned, reports = load_totals(root / "build", sorted({a.edition for a in artifacts}))
        shown = ", ".join(str(p.relative_to(root)) for p in reports)
        out.print(f"preflight: {len(artifacts)} files, {counted(errors, 'error')}, "
                  f"{counted(warned, 'warning')} ({shown})")
    if left_out:
        err.print(f"{counted(len(left_out), 'recipient')} left out (see above); every other "
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
    Last, how each theme colour's CMYK prints under the output profile (ΔE2000 from the screen).
    """
    from culturebook.checks.project import check_layouts, check_project

    root = project_root(project)
    with reporting(root, debug):
        try:
            checked = check_project(root, strict)
            check_layouts(checked)
        except ProjectError as exc:
            exc.problems = by_file(exc.problems)
            raise
    print_problems(by_file(checked.warnings), root)
    from culturebook.project.stats import built_fills, built_pages, edition_stats
    from culturebook.publish import load_manifest, settle

    with reporting(root, debug):
        settle(root / "build")
    manifest = load_manifest(root / "build")
    for edition in checked.content.editions:
        print_stats(edition_stats(edition, built_fills(manifest, edition.lang),
                                   built_pages(manifest, edition.lang)))
    from culturebook.checks.inks import MIN_GAIN, colour_report, delta_e_warn

    print_colours(colour_report(checked.brand), str(checked.brand.print.get("output-condition")
                                                    or "press"), delta_e_warn(checked.brand), MIN_GAIN)
    langs = ", ".join(e.lang for e in checked.content.editions)
    out.print(f"ok: {counted(len(checked.content.editions), 'edition')} ({langs}), theme "
              f"'{checked.brand.name}', {counted(len(checked.warnings), 'warning')}")


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

    root = project_root(project)
    unwritten = []
    with reporting(root, debug):
        try:
            results = run_preflight(root, list(pdfs), lambda *why: unwritten.append(why))
        except ProjectError as exc:  # a missing file, not a PDF, no build: one line each
            print_problems(exc.problems, root)
            sys.exit(1)
    errors, warnings = totals(results)
    print_findings(results)
    out.print(f"{counted(len(results), 'file')} checked: {counted(errors, 'error')}, "
              f"{counted(warnings, 'warning')}")
    for failure, reports in unwritten:  # the findings are above: only the reports are missing
        problem = os_problem(failure, root)
        if problem is None:
            raise failure
        for report in reports:
            err.print(escape(f"{Location(report).display(root)}: warning: not written: "
                              f"{problem.message}"), crop=False)
    sys.exit(1 if failed(results, strict) else 0)


@main.command("proof")
@click.argument("documents", nargs=-1, metavar="[DOCUMENT]...",
                type=Choice(("booklet", "posters", "personalised"), "document"))
@click.option("--edition", "editions", multiple=True, metavar="LANG",
              help="Proof only this edition (repeatable). Default: every language.")
@click.option("--dpi", type=click.IntRange(20, 600), default=100, show_default=True,
              help="Pixels per inch of the PNGs.")
@click.option("--gamut", is_flag=True, help="Hatch in magenta what the screen edition shows in "
              "colours the press cannot print.")
@click.option("--bleed", is_flag=True, help="Show the bleed too (the BleedBox), not only the "
              "trimmed page (the TrimBox).")
@project_option
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@debug_option
def proof_command(documents: tuple[str, ...], editions: tuple[str, ...], dpi: int, gamut: bool,
                  bleed: bool, project: Path | None, quiet: bool, debug: bool) -> None:
    """Soft proof: the print editions as they will look on paper, one PNG per page in
    build/<lang>/proof/ (booklet-01.png, posters/<slug>-1.png, ...). DOCUMENT: booklet, posters
    (the default: both) or personalised (the print file of build personalised).

    Builds the print editions first where they are out of date. Ghostscript draws each page in
    CMYK through the theme's output profile (print.output-profile), cropped to the trimmed page;
    the ink is shown as it prints on that paper: the paper's own white (not #FFFFFF) and the
    press's duller colours. With --gamut, the screen edition's colours that the press cannot
    reach are hatched in magenta. Needs Ghostscript (gs)."""
    from culturebook.build.proofing import make_proofs
    from culturebook.pdf.proof import NoGhostscript, ghostscript

    try:
        ghostscript()
    except NoGhostscript as exc:
        err.print(escape(str(exc)), crop=False)
        sys.exit(1)
    root = project_root(project)
    check_editions(root, editions)
    started = time.perf_counter()
    with reporting(root, debug), Progress(quiet) as progress:
        proofed, warnings = make_proofs(root, list(editions) or None, documents, dpi,
                                        "bleed" if bleed else "trim", gamut, progress)
    print_problems(warnings, root)
    if not quiet:
        print_proofed(proofed, root, dpi, time.perf_counter() - started)


@main.command("verify")
@project_option
@debug_option
def verify_command(project: Path | None, debug: bool) -> None:
    """Check build/ against build/manifest.json: every file it lists is there with the bytes it
    says (sha256), and nothing else is, besides the build's own bookkeeping (locks, preflight
    reports, share/ and its log of sent messages, the soft proofs in proof/). A build that was
    stopped while putting its files in place is completed first.

    One line per finding, build/<path>: missing, changed since the build, or not made by the
    build; exit status 1 on any. Otherwise one line, and exit status 0.
    """
    from culturebook.publish import reading, verify

    root = project_root(project)
    with reporting(root, debug), reading(root / "build"):
        problems, listed = verify(root / "build")
    print_problems(problems, root)
    if problems:
        err.print(f"{counted(len(problems), 'problem')}: build/ is not what build/manifest.json "
                  "lists; culturebook build --force makes it again")
        sys.exit(1)
    out.print(f"verified: {counted(listed, 'file')} in build/ as build/manifest.json lists them")


@main.command("preview")
@project_option
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Serve on this port of 127.0.0.1.")
@click.option("--edition", "editions", multiple=True, metavar="LANG",
              help="Preview only this edition (repeatable). Default: every language.")
@click.option("--editor", default="vscode", show_default=True, envvar="CULTUREBOOK_EDITOR",
              metavar="NAME|TEMPLATE", help="The editor a problem's file:line:col opens in: vscode, "
              "vscodium, cursor, sublime, textmate, idea, pycharm, none, or a URL template with {path}, "
              "{line} and {col}. Default from CULTUREBOOK_EDITOR.")
@debug_option
def preview_command(project: Path | None, port: int, editions: tuple[str, ...], editor: str,
                    debug: bool) -> None:
    """Serve a live preview on http://127.0.0.1:PORT/: each edition's booklet as spreads and its
    posters, drawn from the built PDFs, links to download every PDF, and a panel listing every
    problem with its file and line, each a link that opens it in your editor (--editor).

    Watches content/, layouts/ and fonts/: a change rebuilds what it touched (build bundle) and
    the page updates itself. A build that fails shows its problems, and the last good pages stay.
    Only this computer can open the page. Ctrl-C stops it, and any build it was running.
    """
    from culturebook.preview.editor import editor_template
    from culturebook.preview.server import Refused, serve

    try:
        template = editor_template(editor)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--editor") from None
    root = project_root(project)
    check_editions(root, editions)
    with reporting(root, debug):
        try:
            serve(root, port, list(editions), lambda line: err.print(escape(line), crop=False),
                  template)
        except Refused as exc:
            err.print(escape(str(exc)), crop=False)
            sys.exit(1)


@main.command("new")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--example", type=Choice(["blank", "tencent"], "example"), default="blank",
              help="blank: every text says what to write there (the default). tencent: the "
              "culture statement this culturebook ships with, to learn from.")
@click.option("--name", default=None, metavar="NAME",
              help="The organisation's name: on the cover, in the texts, and the theme's folder.")
@click.option("--languages", default=None, metavar="LANGS",
              help="Editions, comma-separated, the first the source language (e.g. en,zh-Hans). "
              "Default: every language the example has whose fonts are installed (one left out is named).")
@debug_option
def new_command(folder: Path, example: str, name: str | None, languages: str | None,
                debug: bool) -> None:
    """Make a new project in FOLDER (new or empty): content to replace with yours, a theme of
    its own that extends the default one, a Makefile and a README that says what to edit
    first. It builds at once: cd FOLDER && culturebook build."""
    from culturebook.project.scaffold import languages_of, new_project, usable_languages

    chosen = [lang.strip() for lang in languages.split(",") if lang.strip()] if languages else None
    offered = languages_of(example)
    for lang in chosen or ():
        if lang not in offered:
            raise click.BadParameter(f"the {example} project has no texts in '{lang}' (it has "
                                     f"{', '.join(offered)})", param_hint="--languages")
    if name is not None and (not name.strip() or "\n" in name):
        raise click.BadParameter("give the organisation's name, on one line", param_hint="--name")
    with reporting(Path.cwd(), debug):
        made = new_project(folder, example, name and name.strip(), chosen)
    for line in [] if chosen else usable_languages(example, offered)[1]:
        out.print(line)
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


main.add_command(share_command)
main.add_command(themes_command)
