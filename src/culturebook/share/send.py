"""`share --to/--recipients [--send]`: who gets what, where each message stands in the send log,
and one sending run of a project at a time.

The command line prints what these return; the planning is share.deliveries', the sending (SMTP,
retries, the log) share.mail's.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from culturebook.errors import Problems
from culturebook.share.deliveries import (
    Delivery,
    Person,
    now,
    people_from_csv,
    plan_deliveries,
    with_own_booklets,
)
from culturebook.share.drafts import Settings, settings_from
from culturebook.share.mail import LOG, Outcome, Retry, Server, read_log, send_all, server_from_env


@dataclass(frozen=True)
class Sending:
    """What a share run would send: the messages, a line for each person left out (over the
    budget, an unsafe header), the recipients CSV's problems, and the project's share settings."""

    deliveries: list[Delivery]
    failed: list[str]
    rows: Problems
    settings: Settings


def plan_sending(checked, shares, editions: list[str], to: tuple[str, ...],
                 recipients: Path | None) -> Sending:
    """The messages for the addresses `to` (in the first of `editions`), or for the rows of the
    `recipients` CSV (each in their language, with their own personalised booklet where one was
    built). A bad row is a problem in `rows`, and is left out."""
    settings = settings_from(checked.content.settings)
    rows = Problems()
    if recipients is not None:
        people = with_own_booklets(shares, people_from_csv(recipients.resolve(), checked,
                                                           editions, rows), rows)
    else:
        people = [Person(a.strip(), "", editions[0]) for a in to]
    deliveries, failed = plan_deliveries(shares, settings, people, now())
    return Sending(deliveries, failed, rows, settings)


def log_path(root: Path) -> Path:
    """The project's send log: build/share-sent.jsonl."""
    return root / "build" / LOG


@dataclass(frozen=True)
class Standing:
    """Where a run's messages stand in the send log: each with its state ("already sent", "in
    doubt, not sent" or "would send"), and how many are sent and in doubt."""

    states: list[tuple[str, Delivery]]
    sent: int
    held: int

    @property
    def pending(self) -> int:
        return len([state for state, _ in self.states if state == "would send"])


def standing(deliveries: list[Delivery], log: Path, resend_in_doubt: bool = False) -> Standing:
    """Where `deliveries` stand in the send log `log`; with `resend_in_doubt`, those in doubt
    would be sent again."""
    done, doubtful = read_log(log)
    if resend_in_doubt:
        doubtful = set()
    states = [("already sent" if d.message_id in done else
               "in doubt, not sent" if d.message_id in doubtful else "would send", d)
              for d in deliveries]
    return Standing(states, len([d for d in deliveries if d.message_id in done]),
                    len([d for d in deliveries if d.message_id in doubtful]))


def server_for(settings: Settings, host: str | None, port: int | None,
               security: str | None) -> Server | None:
    """The SMTP server: the options where given, else the project's share: smtp: settings; the
    login from the environment. None when neither names a host."""
    host = host or settings.host
    if not host:
        return None
    return server_from_env(host, port or settings.port, security or settings.security)


class Busy(Exception):
    """Another run is sending for this project."""


class send_lock:
    """One sending run of a project at a time: two would each send what the log does not have.
    Raises Busy when another run holds it."""

    def __init__(self, out: Path):
        self.path = out / ".share-send.lock"

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise Busy("share: another run is sending for this project") from None
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def send_all_planned(root: Path, sending: Sending, server: Server, report: Callable, retry: Retry,
         rate: float | None, resend_in_doubt: bool) -> Outcome:
    """Send the planned messages (share.mail.send_all), holding the project's send lock; `rate`
    (messages a minute) defaults to the project's share: rate:. Raises Busy, or SendError when
    the run cannot go on."""
    settings = sending.settings
    with send_lock(root / "build"):
        return send_all(sending.deliveries, settings.sender, server, log_path(root), report, retry,
                        settings.rate if rate is None else rate, resend_in_doubt=resend_in_doubt)
