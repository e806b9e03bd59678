"""A letter and its attachments -> MIME messages (.eml bytes), and how many messages a budget allows.

Pure: text and bytes in, an `EmailMessage` out. A non-ASCII file name is written the three ways mail
clients read (RFC 2231, and RFC 2047 words in filename= and name=) in header lines short enough that
no generator folds them again. Every body line is at most 76 characters (RFC 2045), every header line
at most 78 (RFC 5322), and no header value holds a line break. The size budget counts attachments
as they are sent, in base64 lines.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import formataddr, parseaddr
from urllib.parse import quote

from markdown_it import MarkdownIt
from markupsafe import escape

from culturebook.errors import control_in, shown

ENCODED_LINE = 76  # base64 characters per line in a MIME body, each line ending in CRLF
# CRLF line ends, and bodies encoded in lines of at most 76 characters as RFC 2045 says (the
# email package breaks quoted-printable at the policy's max_line_length, 78 by default).
MAIL = SMTP.clone(max_line_length=ENCODED_LINE)


@dataclass(frozen=True)
class Attachment:
    """A file a message carries: the name the recipient sees, and its bytes."""

    name: str
    data: bytes
    path: str = ""  # where it is under build/, for messages and the send log
    mime: tuple[str, str] = ("application", "pdf")


@dataclass(frozen=True)
class Letter:
    """The text of a message, in one language: subject and Markdown body, placeholders unfilled."""

    subject: str
    body: str
    lang: str


@dataclass(frozen=True)
class OverBudget(Exception):
    """The attachments do not fit the budget (and splitting is off, or one file alone is too big)."""

    total: int  # bytes of the whole message, as sent
    budget: int
    largest: list[tuple[str, int]]  # (name, bytes as sent), largest first
    fits: list[str] = field(default_factory=list)  # the attachments that would fit, in order
    alone: str = ""  # a file that is over the budget by itself


# --- budget ---------------------------------------------------------------------------------------


def encoded_size(n: int) -> int:
    """Bytes that `n` bytes take in a message: base64 (4 for every 3) in lines of 76 plus CRLF."""
    chars = 4 * math.ceil(n / 3)
    return chars + 2 * math.ceil(chars / ENCODED_LINE)


def plan_messages(attachments: list[Attachment], overhead: int, budget: int,
                  split: bool) -> list[list[Attachment]]:
    """The attachments over messages of at most `budget` bytes each as sent, where `overhead` is a
    message's size without attachments (headers, text, the cover, a part's MIME headers each).
    One message when they fit; else, with `split`, numbered messages filled in order; else
    OverBudget naming the largest files and which would fit."""
    part = 400  # a part's own MIME headers, with a long file name written twice
    cost = {id(a): encoded_size(len(a.data)) + part for a in attachments}
    total = overhead + sum(cost.values())
    if total <= budget:
        return [list(attachments)]
    largest = sorted(((a.name, cost[id(a)]) for a in attachments), key=lambda x: -x[1])
    too_big = [a for a in attachments if overhead + cost[id(a)] > budget]
    if too_big or not split:
        fits, used = [], overhead
        for a in attachments:
            if used + cost[id(a)] <= budget:
                fits.append(a.name)
                used += cost[id(a)]
        raise OverBudget(total, budget, largest, fits, too_big[0].name if too_big else "")
    messages: list[list[Attachment]] = [[]]
    used = overhead
    for a in attachments:
        if messages[-1] and used + cost[id(a)] > budget:
            messages.append([])
            used = overhead
        messages[-1].append(a)
        used += cost[id(a)]
    return messages


# --- the message ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """Who a message is from and to (no `to`: a draft), and which part of how many it is."""

    sender: str = ""
    to: str = ""
    name: str = ""  # the recipient's name, for {name}
    part: int = 1
    parts: int = 1
    message_id: str = ""
    date: str = ""  # RFC 5322 date; a draft has none (the mail client sets it when sent)


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with its {name} and {email}; a paragraph naming an empty one is left out."""
    names = re.compile(r"\{(name|email)\}")
    kept = [p for p in re.split(r"\n\s*\n", text.strip())
            if all(values.get(n) for n in names.findall(p))]
    return names.sub(lambda m: values[m.group(1)], "\n\n".join(kept))


def subject_line(letter: Letter, envelope: Envelope) -> str:
    """The subject with the name filled in (a draft's leaves a name's words out) and the part."""
    subject = letter.subject
    if "{name}" in subject and not envelope.name:  # "Our culture, for {name}" -> "Our culture"
        pieces = re.split(r"([,，:：;；])", subject)
        kept = [pieces[0]] if "{name}" not in pieces[0] else []
        for sep, piece in zip(pieces[1::2], pieces[2::2], strict=True):
            if "{name}" not in piece:
                kept += [sep, piece] if kept else [piece]
        subject = "".join(kept).strip() or subject.replace("{name}", "").strip()
    subject = fill(subject, {"name": envelope.name, "email": envelope.to}) or letter.subject
    if envelope.parts > 1:
        subject += f" ({envelope.part}/{envelope.parts})"
    return subject


def compose(letter: Letter, attachments: list[Attachment], cover_png: bytes, html_page,
            envelope: Envelope) -> EmailMessage:
    """The message: plain text and HTML (the cover inline), then the attachments.

    `html_page(body_html, cover_cid, lang, files)` lays out the HTML part (the theme's email.html);
    `files` are the attachments' names and sizes.
    Without `envelope.to` it is a draft: X-Unsent: 1 makes Outlook open it ready to send."""

    values = {"name": envelope.name, "email": envelope.to}
    text = fill(letter.body, values)
    # The body is written by the content's authors; a recipient's name is escaped like any text.
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})
    body_html = md.render(fill(letter.body, {k: str(escape(v)) for k, v in values.items()}))
    message = EmailMessage(policy=MAIL)
    # Each value is checked before the email package sees it: one with a line break would start
    # a header of its own (a Bcc:, say), and the email package answers it with a traceback.
    if envelope.sender:
        message["From"] = _address(_one_line("From", envelope.sender))
    if envelope.to:
        name, to = _one_line("To", envelope.name), _one_line("To", envelope.to)
        message["To"] = _address(formataddr((name, to)) if name else to)
    else:
        message["X-Unsent"] = "1"
    message["Subject"] = _one_line("Subject", subject_line(letter, envelope))
    if envelope.date:
        message["Date"] = _one_line("Date", envelope.date)
    if envelope.message_id:
        message["Message-ID"] = _one_line("Message-ID", envelope.message_id)
    message["Content-Language"] = _one_line("Content-Language", letter.lang)
    message.set_content(_plain(text), subtype="plain", charset="utf-8", cte="quoted-printable")
    digest = hashlib.sha256(cover_png).hexdigest()[:24]
    cid = f"cover-{digest}@culturebook"
    files = [{"name": a.name, "size": human_size(len(a.data))} for a in attachments]
    message.add_alternative(html_page(body_html, cid, letter.lang, files), subtype="html",
                            charset="utf-8", cte="quoted-printable")
    html_part = list(message.iter_parts())[1]  # after the plain text
    html_part.add_related(cover_png, "image", "png", cid=f"<{cid}>", filename="cover.png",
                          disposition="inline")
    if attachments:
        message.make_mixed()
    for attachment in attachments:
        message.attach(attachment_part(attachment))
    _fix_boundaries(message, envelope)
    return message


class UnsafeHeader(ValueError):
    """A header value holds a line break or another control character; it was not set."""


def _one_line(header: str, value: str) -> str:
    """`value`, or UnsafeHeader when it is not one line of plain characters."""

    what = control_in(value)
    if what:
        raise UnsafeHeader(f"the {header} header would hold {what}: {shown(value)}")
    return value


def human_size(n: int) -> str:
    """400 KB, 1.2 MB: sizes as a person reads them (1 MB = 1024 KB)."""
    return f"{max(1, round(n / 1024))} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def _address(text: str) -> Address:
    name, addr = parseaddr(text)
    user, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=user, domain=domain)


def _plain(text: str) -> str:
    """Markdown's *emphasis* marks kept (they read as emphasis in plain text), lines as written."""
    return text.rstrip() + "\n"


def attachment_part(attachment: Attachment):
    """A MIME part carrying one file, its name written three ways so every client shows it right:
    RFC 2231 (filename*=, read by Apple Mail, Thunderbird, Gmail and Outlook 2013 on), and an
    RFC 2047 encoded-word in the quoted filename= and in Content-Type's name=, which older Outlook
    and some web mail read instead. An ASCII name is written plainly."""

    part = Message()  # compat32: the headers are kept exactly as written here
    maintype, subtype = attachment.mime
    name = attachment.name
    if name.isascii():
        part["Content-Type"] = f'{maintype}/{subtype}; name="{name}"'
        part["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        words = _encoded_words(name)
        # One encoded word per folded line: the generator leaves lines under 78 characters alone.
        part["Content-Type"] = f'{maintype}/{subtype};\r\n name="{words}"'
        part["Content-Disposition"] = f'attachment;\r\n filename="{words}";\r\n {_rfc2231(name)}'
    part["Content-Transfer-Encoding"] = "base64"
    encoded = base64.encodebytes(attachment.data).decode("ascii").replace("\n", "\r\n")
    part.set_payload(encoded)
    return part


def _encoded_words(text: str) -> str:
    """`text` as RFC 2047 encoded words (UTF-8, base64), each short enough for one line."""
    words, chunk = [], ""
    for ch in text:
        if len(base64.b64encode((chunk + ch).encode())) > 45:
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    return "\r\n ".join(f"=?UTF-8?B?{base64.b64encode(w.encode()).decode()}?=" for w in words)


def _rfc2231(name: str, width: int = 48) -> str:
    """filename*= as RFC 2231 writes it: percent-encoded UTF-8, in numbered continuations
    (filename*0*=, filename*1*=, ...) when it is longer than a line."""
    encoded = quote(name, safe="")
    if len(encoded) <= width:
        return f"filename*=UTF-8''{encoded}"
    pieces, start = [], 0
    while start < len(encoded):
        end = min(start + width, len(encoded))
        while end < len(encoded) and "%" in encoded[end - 2:end]:  # never cut a %XX in two
            end -= 1
        pieces.append(encoded[start:end])
        start = end
    lines = [f"filename*{i}*={'UTF-8' + chr(39) * 2 if i == 0 else ''}{piece}"
             for i, piece in enumerate(pieces)]
    return ";\r\n ".join(lines)


def _fix_boundaries(message: EmailMessage, envelope: Envelope) -> None:
    """MIME boundaries derived from the message's own parts, so that a draft is the same bytes
    every time it is made from the same inputs (Python's are random)."""
    seed = hashlib.sha256(repr(envelope).encode())
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            seed.update(str(number).encode())
            part.set_boundary(f"=_culturebook_{seed.hexdigest()[:32]}")


def message_id(to: str, lang: str, part: int, attachments: list[Attachment], subject: str,
               sender: str) -> str:
    """A Message-ID that names this message for this recipient: the same recipient, edition,
    part and files give the same ID, so a run that resumes recognises what it already sent (and
    mail systems that de-duplicate by Message-ID drop a second copy too)."""
    digest = hashlib.sha256()
    for piece in (to.strip().lower(), lang, str(part), subject):
        digest.update(piece.encode() + b"\0")
    for a in attachments:
        digest.update(a.name.encode() + b"\0" + hashlib.sha256(a.data).digest())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "culturebook.invalid"
    return f"<{digest.hexdigest()[:40]}.share@{domain}>"
