"""Deliveries -> messages sent over SMTP, each recorded in a send log as the server accepts it.

Sending must never give anyone a second copy, even when a run crashes, is killed or loses its
connection halfway. So:

- every message has a Message-ID derived from its recipient, edition, part and files
  (message.message_id): the same message always has the same ID;
- build/share-sent.jsonl gets one JSON line per accepted message, flushed and fsynced before the
  next message is sent; a run skips every message whose ID is already in it;
- a transient failure (a 4xx reply, a dropped connection) is retried with a growing wait on a new
  connection; a permanent one (5xx) fails that recipient's message and the run goes on;
- a failed login, or a server that cannot be reached at all, stops the run (SendError).

- Ctrl-C while a message is on its way lets it finish: the server's reply is awaited and logged,
  then the run stops. A second Ctrl-C stops at once; if the message's DATA had begun, the server
  may have it, so the log marks it "in doubt" and later runs leave it out (and say so) unless
  asked to send it again (`resend_in_doubt`).

The one gap left is the moment between the server accepting a message and the log line reaching
the disk: a run killed exactly then sends that message again when resumed (with the same
Message-ID, which many mail systems use to drop the duplicate).
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from types import FrameType
from typing import Any

from culturebook.share.deliveries import Delivery

LOG = "share-sent.jsonl"
USER_ENV = "CULTUREBOOK_SMTP_USER"
PASSWORD_ENV = "CULTUREBOOK_SMTP_PASSWORD"


class SendError(Exception):
    """The run cannot go on (no login, no server): one line, and a hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Server:
    """Where and how to send: host, port, security (starttls, tls or none), and the login from
    the environment (never from the command line or the project's files)."""

    host: str
    port: int
    security: str
    user: str = ""
    password: str = ""
    timeout: float = 30.0

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


def server_from_env(host: str, port: int, security: str) -> Server:
    """The server, with the login from CULTUREBOOK_SMTP_USER and CULTUREBOOK_SMTP_PASSWORD."""
    return Server(host, port, security, os.environ.get(USER_ENV, ""),
                  os.environ.get(PASSWORD_ENV, ""))


@dataclass
class Outcome:
    """What a run did: messages sent, skipped (already in the log), failed (with why), and left
    out because an interrupted run may have sent them (in doubt)."""

    sent: list[Delivery] = field(default_factory=list)
    skipped: list[Delivery] = field(default_factory=list)
    failed: list[tuple[Delivery, str]] = field(default_factory=list)
    in_doubt: list[Delivery] = field(default_factory=list)


@dataclass(frozen=True)
class Retry:
    """How transient failures are retried: up to `attempts` more times, waiting `first` seconds,
    doubled each time, at most `cap`."""

    attempts: int = 3
    first: float = 2.0
    cap: float = 60.0

    def wait(self, attempt: int) -> float:
        return min(self.cap, self.first * 2 ** (attempt - 1))


def read_log(path: Path) -> tuple[set[str], set[str]]:
    """The Message-IDs the log records as accepted, and those it records as in doubt (a run was
    stopped while the server was answering) and not accepted since."""
    accepted: set[str] = set()
    doubtful: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return accepted, doubtful
    for line in lines:
        try:
            entry = json.loads(line)
            (doubtful if entry.get("in_doubt") else accepted).add(entry["message_id"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return accepted, doubtful - accepted


class _Log:
    """The send log, appended to one fsynced line at a time."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "a", encoding="utf-8")

    def accepted(self, delivery: Delivery, reply: str) -> None:
        self._write(delivery, accepted=_stamp(), reply=reply)

    def in_doubt(self, delivery: Delivery) -> None:
        self._write(delivery, in_doubt=True, stopped=_stamp(),
                    why="the run was stopped while the server was answering: it may have it")

    def _write(self, delivery: Delivery, **more) -> None:
        entry = {"to": delivery.to, "message_id": delivery.message_id, "lang": delivery.lang,
                 "part": f"{delivery.part}/{delivery.parts}", "files": list(delivery.files), **more}
        self.file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class _Interrupts:
    """Ctrl-C while sending. Between messages it stops the run at once (KeyboardInterrupt). While
    a message is on its way (`sending`), the first only asks the run to stop after it: the
    server's reply is awaited and logged; a second stops at once. While the log is written, it
    is only counted. Installed only in the main thread, and not where SIGINT is ignored."""

    def __init__(self, notice: Callable[[], None]):
        self.count = 0
        self.sending = False
        self.logging = False
        self.notice = notice  # told when a Ctrl-C lets the message on its way finish
        self.old: Callable[[int, FrameType | None], Any] | int | None = None

    def __enter__(self) -> _Interrupts:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN):
            self.old = signal.signal(signal.SIGINT, self._heard)
        return self

    def __exit__(self, *exc) -> None:
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)

    def _heard(self, signum, frame) -> None:
        self.count += 1
        if self.logging:
            return
        if self.sending and self.count == 1:
            self.notice()
            return
        self.logging = True  # what the run does as it stops (a line in the log) is not cut short
        raise KeyboardInterrupt

    def stop_if_asked(self) -> None:
        """The outcome of the message that was on its way is known (and logged): raise
        KeyboardInterrupt if Ctrl-C was pressed meanwhile, else listen again."""
        self.logging = False
        if self.count:
            raise KeyboardInterrupt


class _InDoubt(KeyboardInterrupt):
    """Stopped at once while the server was answering a message's DATA: it may have it."""


class _Tracked:
    """An SMTP session that notes when a message's DATA has begun: from then until the server's
    reply, the server may have the message even though the run never hears that it does."""

    data_begun = False

    def data(self, msg):
        self.data_begun = True
        return super().data(msg)


class _SMTP(_Tracked, smtplib.SMTP):
    pass


class _SMTPOverTLS(_Tracked, smtplib.SMTP_SSL):
    pass


class _Connection:
    """One SMTP session, opened on first use and again after it dropped."""

    def __init__(self, server: Server):
        self.server = server
        self.smtp: _SMTP | _SMTPOverTLS | None = None

    def open(self) -> _SMTP | _SMTPOverTLS:
        if self.smtp is not None:
            return self.smtp
        try:
            return self._open()
        except ssl.SSLCertVerificationError as exc:  # no retry will make the certificate good
            raise SendError(f"smtp: {self.server.label}: the server's certificate is not trusted "
                            f"({exc.verify_message})", "for a server with a private certificate "
                            "authority, point SSL_CERT_FILE at that authority's certificate") from None

    def _open(self) -> _SMTP | _SMTPOverTLS:
        s = self.server
        context = ssl.create_default_context()
        smtp: _SMTP | _SMTPOverTLS
        if s.security == "tls":
            smtp = _SMTPOverTLS(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = _SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SendError(f"smtp: {s.label} does not offer STARTTLS",
                                    "use share: smtp: security: tls (port 465), or none only for "
                                    "a relay on this machine")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                try:
                    smtp.login(s.user, s.password)
                except smtplib.SMTPAuthenticationError as exc:
                    raise SendError(f"smtp: {s.label} refused the login of '{s.user}': "
                                    f"{_reply(exc.smtp_code, exc.smtp_error)}",
                                    f"check {USER_ENV} and {PASSWORD_ENV}") from None
                except smtplib.SMTPNotSupportedError:
                    raise SendError(f"smtp: {s.label} does not offer a login (AUTH)",
                                    f"unset {USER_ENV} for a server that needs none") from None
        except BaseException:
            _quietly_close(smtp)
            raise
        self.smtp = smtp
        return smtp

    def drop(self) -> None:
        if self.smtp is not None:
            _quietly_close(self.smtp)
        self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self.drop()


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass


def _reply(code, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}".strip()


class _Transient(Exception):
    """Worth another try: a 4xx reply or a connection that failed or dropped. `unreachable`: no
    connection could be made at all (after the last try, the run stops)."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


class _Permanent(Exception):
    """Not worth another try: a 5xx reply for this message."""


def send_all(deliveries: list[Delivery], sender: str, server: Server, log_path: Path,
             report: Callable[[str, Delivery, str], None] = lambda *_: None,
             retry: Retry = Retry(), rate: float = 0,
             sleep: Callable[[float], None] = time.sleep, resend_in_doubt: bool = False) -> Outcome:
    """Send each delivery not yet in the log, in order; log each as it is accepted.

    `report(event, delivery, detail)` hears "sent", "skipped", "in doubt", "failed", "retry" and
    "finishing" (Ctrl-C was pressed while it was on its way). `rate` is the most messages per
    minute (0: no limit). A message the log has in doubt is left out, unless `resend_in_doubt`.
    Raises SendError when the run cannot go on, KeyboardInterrupt when Ctrl-C stopped it; what
    was sent until then is in the log."""
    outcome = Outcome()
    done, doubtful = read_log(log_path)
    envelope_from = parseaddr(sender)[1]
    log = _Log(log_path)
    connection = _Connection(server)
    last_start = None
    current: list[Delivery] = []
    interrupts = _Interrupts(lambda: report("finishing", current[0], ""))
    aborted = False
    try:
        with interrupts:
            for delivery in deliveries:
                if delivery.message_id in done:
                    outcome.skipped.append(delivery)
                    report("skipped", delivery, "already sent (in the send log)")
                    continue
                if delivery.message_id in doubtful and not resend_in_doubt:
                    outcome.in_doubt.append(delivery)
                    report("in doubt", delivery, "")
                    continue
                if rate and last_start is not None:
                    sleep(max(0.0, last_start + 60.0 / rate - time.monotonic()))
                last_start = time.monotonic()
                current[:] = [delivery]
                try:
                    reply = _send_one(connection, delivery, envelope_from, retry, report, sleep,
                                      interrupts)
                except _Permanent as exc:
                    outcome.failed.append((delivery, str(exc)))
                    report("failed", delivery, str(exc))
                    interrupts.stop_if_asked()
                    continue
                except _InDoubt:
                    aborted = True
                    log.in_doubt(delivery)
                    outcome.in_doubt.append(delivery)
                    raise
                except KeyboardInterrupt:
                    aborted = True
                    raise
                log.accepted(delivery, reply)
                done.add(delivery.message_id)
                outcome.sent.append(delivery)
                report("sent", delivery, reply)
                interrupts.stop_if_asked()
    finally:
        if aborted:
            connection.drop()  # stopped at once: no QUIT, no waiting for the server
        else:
            connection.close()
        log.close()
    return outcome


def _send_one(connection: _Connection, delivery: Delivery, envelope_from: str, retry: Retry,
              report, sleep, interrupts: _Interrupts) -> str:
    """Send one message, retrying transient failures; its accepting reply, or _Permanent."""
    attempt = 0
    while True:
        try:
            return _attempt(connection, delivery, envelope_from, interrupts)
        except _Transient as exc:
            interrupts.stop_if_asked()  # Ctrl-C was pressed: no more tries
            attempt += 1
            if attempt > retry.attempts:
                if exc.unreachable:
                    raise SendError(f"smtp: {exc}", "check share: smtp: host: and port: "
                                    "(or --host and --port), and that the server is up") from None
                raise _Permanent(f"{exc} (gave up after {retry.attempts + 1} tries)") from None
            wait = retry.wait(attempt)
            report("retry", delivery, f"{exc}; trying again in {wait:g} s")
            sleep(wait)


def _attempt(connection: _Connection, delivery: Delivery, envelope_from: str,
             interrupts: _Interrupts) -> str:
    label = connection.server.label
    try:
        smtp = connection.open()
    except SendError:
        raise
    except smtplib.SMTPResponseException as exc:
        connection.drop()
        if 400 <= exc.smtp_code < 500:
            raise _Transient(f"{label} answered {_reply(exc.smtp_code, exc.smtp_error)}") from None
        raise SendError(f"smtp: {label} answered {_reply(exc.smtp_code, exc.smtp_error)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        connection.drop()
        raise _Transient(f"cannot connect to {label}: {_why(exc)}", unreachable=True) from None
    smtp.data_begun = False
    interrupts.sending = True
    try:
        refused = smtp.sendmail(envelope_from, [delivery.to], delivery.data)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = exc.recipients.get(delivery.to, (550, b"refused"))
        return _failure(connection, code, text, "refused the recipient")
    except smtplib.SMTPSenderRefused as exc:
        return _failure(connection, exc.smtp_code, exc.smtp_error, "refused the sender")
    except smtplib.SMTPDataError as exc:
        return _failure(connection, exc.smtp_code, exc.smtp_error, "refused the message")
    except smtplib.SMTPResponseException as exc:
        return _failure(connection, exc.smtp_code, exc.smtp_error, "answered")
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        connection.drop()
        raise _Transient(f"the connection to {label} dropped: {_why(exc)}") from None
    except KeyboardInterrupt:  # a second Ctrl-C, in the middle of the exchange
        if getattr(smtp, "data_begun", False):
            raise _InDoubt from None
        raise
    finally:
        interrupts.sending = False
        interrupts.logging = True  # until the outcome is in the log
    if refused:
        code, text = refused[delivery.to]
        return _failure(connection, code, text, "refused the recipient")
    return "250 accepted"


def _failure(connection: _Connection, code: int, text, what: str) -> str:
    label = connection.server.label
    reply = _reply(code, text)
    if code == 530 or code == 535:  # authentication required or refused: nothing will get through
        raise SendError(f"smtp: {label} {what}: {reply}",
                        f"the server wants a login: set {USER_ENV} and {PASSWORD_ENV}")
    try:
        connection.open().rset()  # the next message starts from a clean envelope
    except (smtplib.SMTPException, OSError):
        connection.drop()
    if 400 <= code < 500:
        raise _Transient(f"{label} {what}: {reply}")
    raise _Permanent(f"{label} {what}: {reply}")


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
