"""How the command line reads its words: choices, the project folder, and usage errors as one line
with the closest known word as a hint (instead of Click's usage block)."""

from __future__ import annotations

import atexit
import difflib
import os
import sys
import threading
from pathlib import Path

import click

from culturebook.files import prune_cache
from culturebook.project.folder import content_languages, find_project


class Unknown(click.UsageError):
    """A word the command line does not know (a target, a command, a choice): it is printed as
    one line and the closest known word as a hint."""

    def __init__(self, noun: str, word: str, known, ctx: click.Context | None):
        super().__init__(f'unknown {noun} "{word}"', ctx)
        self.noun, self.word, self.known = noun, word, list(known)


class Choice(click.Choice):
    """click.Choice (the same help), refusing a word it does not know as Unknown."""

    def __init__(self, choices, noun: str):
        super().__init__(choices)
        self.noun = noun

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            raise Unknown(self.noun, str(value), self.choices, ctx) from None


class NoProject(click.ClickException):
    """--project names no folder: one line, exit 1 (like any other bad input, not a usage error)."""

    exit_code = 1

    def __init__(self, path: Path):
        why = "not a folder" if path.exists() else "no such project folder"
        super().__init__(f"{path}: {why}")

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


class ProjectFolder(click.ParamType):
    name = "directory"

    def convert(self, value, param, ctx):
        path = Path(value)
        if not path.is_dir():
            raise NoProject(path)
        return path


class Group(click.Group):
    """The command group, whose usage errors are one line (a hint beneath where one helps)
    instead of Click's usage block; --help is Click's own."""

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if (name and not name.startswith("-") and not ctx.resilient_parsing
                and self.get_command(ctx, name) is None):
            raise Unknown("command", name, self.list_commands(ctx), ctx)
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
            usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        prune_cache()  # once a day at most, after a command that did its work (never fails it)
        sys.exit(status if isinstance(status, int) else 0)


def run_process(command: click.Group) -> None:
    """Run `command` as the whole life of this process (the `culturebook` script, `python -m
    culturebook`), then end the process as soon as what it owes is done.

    Python's own exit frees every object one by one, modules, WeasyPrint's boxes, Pango's fonts:
    about 0.14 s after `culturebook build posters` here, an eighth of the command, with nothing
    to show for it. When the command ended with a status, no other thread runs and no profiler
    or tracer watches (`python -m cProfile` writes its report after the command returns), the
    exit functions run (the workers' and the font copies' cleaning, logging's flush, coverage's
    data), the standard streams are flushed, and the process ends with that status. Anything
    else (a status that is a message, a thread still running, a stream that cannot be flushed)
    exits as Python does."""
    try:
        command()
    except SystemExit as done:
        status = done.code
        watched = sys.getprofile() is not None or sys.gettrace() is not None
        if ((status is None or isinstance(status, int)) and threading.active_count() == 1
                and not watched):
            atexit._run_exitfuncs()
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):
                raise done from None  # Python reports the stream as it always has
            os._exit(status or 0)
        raise


def usage_error(exc: click.UsageError) -> None:
    """A usage error as one line: an unknown word or option with the closest known one as a
    hint, anything else as Click words it."""
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
    elif isinstance(exc, Unknown):
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
    "--project", "project", type=ProjectFolder(),
    default=None,
    help="Project folder (holds content/, layouts/, fonts/). Default: the current folder "
    "or the nearest parent with content/publication.yaml.")
strict_option = click.option("--strict", is_flag=True,
                             help="Treat warnings (untranslated fields, CSS) as errors.")
debug_option = click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")


def check_editions(root: Path, editions) -> list[str]:
    """The content's languages; --edition must name one of them (a usage error otherwise)."""
    languages = content_languages(root)
    for lang in editions:
        if languages and lang not in languages:
            raise click.BadParameter(f"'{lang}' is not one of the content's languages "
                                     f"({', '.join(languages)})", param_hint="--edition")
    return languages


def project_root(project: Path | None) -> Path:
    """The project folder: --project's, else the one around the current folder."""
    return project.resolve() if project else find_project(Path.cwd())
