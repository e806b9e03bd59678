"""A real SMTP server on 127.0.0.1 for the sending tests (aiosmtpd), with the faults a mail server
has: a login it refuses, a 552 for one recipient, a connection it drops, a reply it delays, and a
reply to DATA it holds back until the test releases it.

Every message it accepts is kept as bytes with its envelope recipients; `messages_to(addr)` parses
them back with Python's `email` package.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "culture", "s3cret"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """The handler: what was accepted, and the faults to play."""

    accepted: list[tuple[list[str], bytes]] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)  # recipient -> reply to DATA
    drop_on: set[int] = field(default_factory=set)  # DATA commands (1-based) to drop the line on
    hold_on: set[int] = field(default_factory=set)  # DATA commands whose reply waits for `release`
    hold_mail_on: set[int] = field(default_factory=set)  # MAIL FROMs (1-based) that wait the same way
    held: threading.Event = field(default_factory=threading.Event)  # a held DATA has arrived
    release: threading.Event = field(default_factory=threading.Event)  # set by the test
    attempts: int = 0
    mails: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(self, server, session, envelope, address, options) -> str:
        """A message begins: held here (before anything of it is accepted) when the test asks."""
        with self.lock:
            self.mails += 1
            mail = self.mails
        if mail in self.hold_mail_on:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        envelope.mail_from, envelope.mail_options = address, list(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.attempts += 1
            attempt = self.attempts
        if attempt in self.drop_on:
            server.transport.close()  # the line drops before the reply: nothing was accepted
            return "421 4.4.2 closing"
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.reject:
                return self.reject[rcpt]
        with self.lock:
            self.accepted.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
        if attempt in self.hold_on:  # the message is kept; the reply waits until the test says
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 2.0.0 OK"

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            found = [data for rcpts, data in self.accepted if address in rcpts]
        return [message_from_bytes(data, policy=default) for data in found]

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


class Server:
    """An aiosmtpd server on 127.0.0.1, started and stopped by the test. With `tls` ("starttls" or
    "implicit"), it presents a certificate for 127.0.0.1 from `authority` (a trustme.CA)."""

    def __init__(self, auth: bool = False, tls: str = "", authority=None):
        self.mailbox = Mailbox()
        self.port = free_port()
        options = {"auth_required": True, "auth_require_tls": False,
                   "authenticator": _authenticator} if auth else {}
        if tls:
            import ssl

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            authority.issue_cert("127.0.0.1").configure_cert(context)
            if tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.mailbox.release.set()  # a reply still held would keep the server from stopping
        self.controller.stop()


def line_faults(data: bytes) -> list[str]:
    """Each raw line of a message that a strict server refuses: a header line (of the message or of
    any part) over 78 characters (RFC 5322), a body line over 76 (RFC 2045: quoted-printable and
    base64), or a line that does not end in CRLF."""
    boundaries = set(re.findall(rb'boundary="([^"]+)"', data))
    faults, in_headers = [], True
    lines = data.split(b"\r\n")
    if lines[-1] == b"":
        lines.pop()
    else:
        faults.append(f"the last line does not end in CRLF: {lines[-1][:40]!r}")
    for number, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            faults.append(f"line {number} has a bare line end: {line[:40]!r}")
        if line.startswith(b"--") and line[2:] in boundaries:
            in_headers = True  # a part starts: its headers, then a blank line, then its body
            continue
        if line.startswith(b"--") and line[2:].removesuffix(b"--") in boundaries:
            continue
        if in_headers and not line:
            in_headers = False
        elif len(line) > (78 if in_headers else 76):
            where = "header" if in_headers else "body"
            faults.append(f"line {number} ({where}) has {len(line)} characters: {line[:40]!r}")
    return faults
