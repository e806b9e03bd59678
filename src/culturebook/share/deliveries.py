"""Who gets what: the people to send to (--to, or a recipients CSV) and the messages each gets.

A `Delivery` is one message ready to send, its bytes composed (share.message) and split as the
size budget allows (share.drafts); sending them is share.mail's.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from culturebook.errors import shown
from culturebook.project.recipients import read_recipients
from culturebook.share.drafts import over_budget_message, plan_for
from culturebook.share.message import Envelope, OverBudget, UnsafeHeader, compose, message_id, subject_line


@dataclass(frozen=True)
class Delivery:
    """One message to send: to whom, its ID, and its bytes."""

    to: str
    lang: str
    part: int
    parts: int
    message_id: str
    files: tuple[str, ...]  # the attached files' names
    data: bytes


def now() -> str:
    """The Date header of a message sent now."""
    return formatdate(localtime=True)


@dataclass(frozen=True)
class Person:
    """Someone to send to, in which edition; `where` is their CSV row, for problems."""

    email: str
    name: str
    lang: str
    where: object = None  # errors.Location of their row, or None for --to


def people_from_csv(path: Path, checked, editions: list[str], problems) -> list[Person]:
    """The rows of a recipients CSV that have an email address, each in their own language (or
    the first of `editions` when their row names none). A row without an address is a problem at
    its line, and is left out."""

    languages = [e.lang for e in checked.content.editions]
    columns = checked.content.settings.get("recipients") or {}
    people = []
    for row in read_recipients(path, columns, languages, problems):
        if not row.email:
            problems.error(row.cells["name"], f"{row.name} has no email address: nobody to send to",
                           "add an email column, or fill in the row's email")
            continue
        if row.language and row.language not in editions:
            continue
        people.append(Person(row.email, row.name, row.language or editions[0], row.cells["name"]))
    return people


def with_own_booklets(shares, people: list[Person], problems) -> list[Person]:
    """`people`, each of a CSV whose edition has personalised booklets but who has none (their
    row was left out of the build, or is not in the CSV it was built for) a warning at their row:
    they get the generic booklet, and are told so rather than left to find out."""
    by_lang = {share.lang: share for share in shares}
    for person in people:
        share = by_lang.get(person.lang)
        if (share is not None and share.personalised and person.where is not None
                and person.email.strip().lower() not in share.personal):
            problems.warn(person.where, f"{person.name} has no personalised {person.lang} "
                          "booklet: they get the generic one",
                          "build personalised with --recipients for this row (and fix what it "
                          "reports) to send them their own")
    return people


def deliveries_for(share, settings, person: Person, date: str) -> list[Delivery]:
    """The message(s) `person` gets of the edition `share` (share.EditionShare): their own
    booklet where they have one, split as the budget allows. Raises share.OverBudget."""

    files = share.for_recipient(person.email)
    groups = plan_for(share, settings, files)
    found = []
    for number, group in enumerate(groups, 1):
        envelope = Envelope(sender=settings.sender, to=person.email, name=person.name,
                            part=number, parts=len(groups))
        subject = subject_line(share.letter, envelope)
        ident = message_id(person.email, share.lang, number, group, subject, settings.sender)
        envelope = Envelope(sender=settings.sender, to=person.email, name=person.name,
                            part=number, parts=len(groups), message_id=ident, date=date)
        message = compose(share.letter, group, share.cover, share.page, envelope)
        found.append(Delivery(person.email, share.lang, number, len(groups), ident,
                              tuple(a.name for a in group), message.as_bytes()))
    return found


def plan_deliveries(shares, settings, people: list[Person], date: str) -> tuple[list, list[str]]:
    """Every message for `people` (each in their edition of `shares`), and a line for each person
    whose files do not fit the budget: they are left out, the others are sent."""

    by_lang = {share.lang: share for share in shares}
    deliveries, failed = [], []
    for person in people:
        share = by_lang.get(person.lang)
        if share is None:
            continue
        try:
            deliveries += deliveries_for(share, settings, person, date)
        except OverBudget as over:
            failed.append(f"{person.email}: not sent: "
                          f"{over_budget_message(person.lang, over, settings)}")
        except UnsafeHeader as unsafe:  # the recipients file and the content are checked first
            failed.append(f"{shown(person.email)}: not sent: {unsafe}")
    return deliveries, failed
