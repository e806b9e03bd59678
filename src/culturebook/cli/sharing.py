"""`culturebook share`: the screen editions made ready for email (share.drafts) and, with --send,
sent (share.send); this module parses the options and prints who got what, as the other commands do
in cli.main."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from culturebook.cli.output import Progress, counted, out, print_problems, print_shared, reporting
from culturebook.cli.usage import Choice, check_editions, debug_option, project_option, project_root


@click.command("share")
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
@click.option("--security", type=Choice(("starttls", "tls", "none"), "security"),
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
    from culturebook.project.fieldtypes import ADDRESS_RE

    for address in to:
        if not ADDRESS_RE.fullmatch(address.strip()):
            raise click.BadParameter(f"'{address}' is not an email address", param_hint="--to")
    root = project_root(project)
    languages = check_editions(root, editions)
    chosen = list(editions) or None
    with reporting(root, debug), Progress(quiet) as progress:
        _, warnings = build(root, "bundle", chosen, progress=progress)
        checked = check_project(root)
        shares = write_share(root, checked, chosen, progress)
    print_problems([w for w in warnings if w.warning], root)
    if not quiet:
        print_shared(shares)
    if not to and recipients is None:
        return
    _share_send(root, checked, shares, chosen or languages, to, recipients, send, host, port,
                security, rate, retries, retry_wait, resend_in_doubt, quiet, debug)


def _share_send(root, checked, shares, editions, to, recipients, send, host, port, security,
                rate, retries, retry_wait, resend_in_doubt, quiet, debug) -> None:
    """Print who gets what (share.send); with `send`, send it and print how each message went.
    Exit 1 when anyone's message failed or was left out in doubt."""
    from culturebook.share.mail import LOG, Retry, SendError
    from culturebook.share.message import human_size
    from culturebook.share.send import Busy, log_path, plan_sending, send_all_planned, server_for, standing

    with reporting(root, debug):
        sending = plan_sending(checked, shares, editions, to, recipients)
    deliveries, failed, rows = sending.deliveries, sending.failed, sending.rows
    print_problems(rows.items, root)
    for line in failed:
        click.echo(line, err=True)
    log = log_path(root)
    if not send:
        now = standing(deliveries, log, resend_in_doubt)
        for state, d in now.states:
            out.print(f"{state}: {d.to} ({d.lang}, message {d.part}/{d.parts}, "
                      f"{human_size(len(d.data))}): {', '.join(d.files)}", crop=False, markup=False)
        out.print(f"dry run: {counted(now.pending, 'message')} to send, {now.sent} already sent"
                  f"{f', {now.held} in doubt' if now.held else ''}; add --send to send them")
        sys.exit(1 if failed or rows.errors or now.held else 0)
    server = server_for(sending.settings, host, port, security)
    if server is None:
        raise click.UsageError("no SMTP server: set share: smtp: host: in "
                               "content/publication.yaml or pass --host")

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
        so_far = standing(deliveries, log)
        click.echo(f"{why}: {so_far.sent} of {counted(len(deliveries), 'message')} sent so far"
                   f"{f', {so_far.held} in doubt' if so_far.held else ''} (build/{LOG}); run the "
                   "same command again to send the rest", err=True)
        sys.exit(status)

    with reporting(root, debug):  # anything unforeseen: one line, the traceback saved
        try:
            outcome = send_all_planned(root, sending, server, report, Retry(retries, retry_wait),
                                       rate, resend_in_doubt)
        except Busy as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        except SendError as exc:
            click.echo(exc.message, err=True)
            if exc.hint:
                click.echo(f"    hint: {exc.hint}", err=True)
            stopped("stopped", 1)
        except KeyboardInterrupt:
            stopped("interrupted", 130)
    problems = len(outcome.failed) + len(failed) + len(rows.errors)
    doubt = f", {len(outcome.in_doubt)} in doubt" if outcome.in_doubt else ""
    summary = (f"sent {counted(len(outcome.sent), 'message')}, {len(outcome.skipped)} already sent, "
               f"{problems} failed{doubt} (build/{LOG})")
    problems += len(outcome.in_doubt)
    click.echo(summary, err=bool(problems))
    sys.exit(1 if problems else 0)
