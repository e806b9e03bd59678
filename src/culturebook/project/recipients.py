"""A recipients CSV -> validated Recipients, one personalised booklet each, every problem located.

The file usually comes out of a spreadsheet or a mail-merge sheet, so reading is forgiving where a
guess is safe and exact where it is not:

- The columns are separated by commas, unless the header line has no comma and has ';' or a tab:
  then that is the separator (Excel in many European locales saves "CSV" with ';'). A header with
  both ';' and tabs but no comma, or one separated by '|', is refused rather than guessed.
- UTF-8 only, with or without the byte order mark Excel writes; UTF-16 ("Unicode Text") is named.
- Column names match case-insensitively (``Name`` is ``name``). Columns that are neither built in
  (name, email, slug, language) nor declared by the content are ignored with a warning; a column
  the build uses may appear only once.
- Cells are stripped; blank lines, and rows whose cells are all empty (spreadsheets export those as
  ``,,,``), are skipped. A row may have fewer cells than the header (the rest are empty).
- A bad row gets one error and is left out; the other rows are still returned, so a typo in one
  person's start date does not stop everyone else's booklet. What makes the whole file unusable
  (unreadable, empty, not UTF-8, an unclosed quote, no name column...) raises at once.

Python's csv module does not say where a cell is, so a small RFC 4180 tokenizer reads the text and
gives every cell its line and (character) column, also after quoted cells that span lines.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from culturebook.errors import Location, Problem, Problems, ProjectError, control_in, shown
from culturebook.project.fieldtypes import BUILTIN_COLUMNS, COLUMN_TYPES

MAX_SLUG = 60

EMPTY_HINT = "the first line names the columns, e.g. name,email,team; then one row per recipient"
UTF8_HINT = "save it as UTF-8 (in Excel: CSV UTF-8)"
CSV_HINT = "save it as comma-separated values (CSV); ';'- and tab-separated files are read too"
CONTROL_HINT = ("a name or address goes into mail headers, file names and CSV files: keep it on one "
                "line, without control characters")
FORMULA_HINT = ("culturebook writes it with a leading ' in its CSV files (recipients.csv), so that "
                "a spreadsheet shows it as text; start it otherwise if it is not meant that way")
# What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Latin letters that NFKD does not split into a base letter and a mark.
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o",
                       "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th",
                       "Þ": "th", "ı": "i"})


@dataclass(frozen=True)
class Recipient:
    """One row of the recipients file: who gets a booklet, under which file name, in which language."""

    line: int  # 1-based line where the row starts
    name: str
    email: str  # "" when the file has no email column or the cell is empty
    slug: str  # file name stem: build/<lang>/personalised/<slug>.pdf
    language: str  # "" = every edition; else one of the publication's languages
    values: dict[str, object]  # each declared column: str (text), dt.date (date), None when empty
    cells: dict[str, Location]  # column -> where this row's cell is, for every used column in the file


def read_recipients(path: Path, columns: dict[str, str], languages: list[str],
                    problems: Problems) -> list[Recipient]:
    """Read the recipients file at `path`; return its good rows in file order.

    `columns` are the optional columns the content declares (name -> one of COLUMN_TYPES), on top of
    the built-in name (required), email, slug and language. Each bad row adds one error to `problems`
    and is left out; an unknown column adds a warning. Raise ProjectError if the file is unusable.
    """
    for column, kind in columns.items():  # the content's schema checks these; here they are a given
        if kind not in COLUMN_TYPES or column.lower() in BUILTIN_COLUMNS:
            raise ValueError(f"recipients column {column!r} ({kind!r}) cannot be declared")
    text = _read_text(path)
    delimiter = _delimiter(text, path)
    records = [r for r in _records(text, delimiter, path) if not r.blank]
    if not records:
        _refuse(Location(path, 1, 1), "the recipients file is empty", EMPTY_HINT)
    header, rows = records[0], records[1:]
    if not rows:
        _refuse(header.cells[0].loc, "the recipients file has a header but no rows", EMPTY_HINT)
    index = _header(header, columns, problems)
    reader = _Rows(len(header.cells), index, columns, languages, delimiter)
    recipients = []
    for record in rows:
        try:
            recipients.append(reader.recipient(record))
        except _BadRow as bad:
            problems.error(*bad.args)
            continue
        _warn_formulas(recipients[-1], problems)
    for i, cell in enumerate(header.cells):
        if not cell.text and any(i < len(r.cells) and r.cells[i].text for r in rows):
            problems.warn(cell.loc, "this column has no name in the header; its cells are ignored")
    return recipients


def _refuse(loc: Location, message: str, hint: str = "") -> NoReturn:
    raise ProjectError([Problem(loc, message, hint)])


# --- the text -----------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The file as text with '\\n' line ends; refuse what is not UTF-8, naming the first bad byte."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        _refuse(Location(path), f"cannot read the recipients file: {exc.strerror or exc}",
                "check the path given to --recipients")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _refuse(Location(path, 1, 1), "UTF-16 text, not UTF-8", UTF8_HINT)
    raw = raw.removeprefix(codecs.BOM_UTF8).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8")) + 1
        _refuse(Location(path, raw.count(b"\n", 0, exc.start) + 1, col),
                f"not UTF-8 text (byte 0x{raw[exc.start]:02X})", UTF8_HINT)


@dataclass(frozen=True)
class _Cell:
    text: str  # stripped
    loc: Location  # where the cell starts


@dataclass(frozen=True)
class _Record:
    cells: list[_Cell]
    end: Location  # just after the last cell: where a missing cell is reported

    @property
    def blank(self) -> bool:
        return not any(cell.text for cell in self.cells)


def _records(text: str, delimiter: str, path: Path) -> Iterator[_Record]:
    """Split `text` (lines ending '\\n') into records of located cells, as RFC 4180 says.

    A cell that starts with '"' (after any spaces) is quoted: it runs to the next lone '"', may hold
    the delimiter and newlines, and '""' in it is one '"'. Anything after the closing quote up to the
    delimiter is kept, as spreadsheets do. Columns count characters, not bytes.
    """
    stop = re.compile(f"[{re.escape(delimiter)}\n]")
    i, line, col, n = 0, 1, 1, len(text)
    while i < n:
        cells = []
        while True:  # one cell per turn
            start = Location(path, line, col)
            j = i
            while j < n and text[j] in " \t" and text[j] != delimiter:
                j += 1
            parts = []
            if j < n and text[j] == '"':
                col += j - i + 1
                quote, i = Location(path, line, col - 1), j + 1
                while True:
                    close = text.find('"', i)
                    if close == -1:
                        _refuse(quote, "a quoted cell is not closed",
                                'end it with "; a " inside a quoted cell is written ""')
                    parts.append(text[i:close])
                    newlines = text.count("\n", i, close)
                    line += newlines
                    col = close - text.rfind("\n", 0, close) if newlines else col + close - i
                    col, i = col + 1, close + 1
                    if not text.startswith('"', i):
                        break
                    parts.append('"')
                    col, i = col + 1, i + 1
            match = stop.search(text, i)
            end = match.start() if match else n
            parts.append(text[i:end])
            col, i = col + end - i, end
            cells.append(_Cell("".join(parts).strip(), start))
            if i < n and text[i] == delimiter:
                col, i = col + 1, i + 1
                continue
            break
        yield _Record(cells, Location(path, line, col))
        line, col, i = line + 1, 1, i + 1


def _delimiter(text: str, path: Path) -> str:
    """',' unless the header is one comma-free cell holding ';' or a tab; refuse '|' and ambiguity."""
    header = next((r for r in _records(text, ",", path) if not r.blank), None)
    if header is None or len(header.cells) > 1:
        return ","
    cell = header.cells[0]
    found = [d for d in (";", "\t") if d in cell.text]
    if len(found) == 2:
        _refuse(cell.loc, "the header has both ';' and tabs and no commas: which separates the columns?",
                CSV_HINT)
    if found:
        return found[0]
    if "|" in cell.text:
        _refuse(cell.loc, "the columns are separated by '|', not commas", CSV_HINT)
    return ","


# --- the header and the rows --------------------------------------------------------------------


def _header(header: _Record, columns: dict[str, str], problems: Problems) -> dict[str, int]:
    """Column name (as declared) -> its position in each row; refuse a missing name or a repeat."""
    known = {column.lower(): column for column in (*BUILTIN_COLUMNS, *columns)}
    index: dict[str, int] = {}
    repeated, ignored = [], []
    for i, cell in enumerate(header.cells):
        column = known.get(cell.text.lower())
        if column is None:
            if cell.text:
                ignored.append(cell)
        elif column in index:
            first = header.cells[index[column]].loc
            repeated.append(Problem(cell.loc, f"duplicate column '{cell.text}' (first at {first.line}:"
                                    f"{first.col})", "keep one column of each name"))
        else:
            index[column] = i
    if repeated:
        raise ProjectError(repeated)
    if "name" not in index:
        names = ", ".join(cell.text for cell in header.cells if cell.text)
        _refuse(header.cells[0].loc, f"no 'name' column; the columns are: {names}",
                "the first line names the columns and one must be 'name', e.g. name,email,team")
    for cell in ignored:
        problems.warn(cell.loc, f"column '{cell.text}' is not declared in content/publication.yaml "
                      "(recipients); it is ignored")
    return index


class _BadRow(Exception):
    """A row's first problem: (location, message, hint) in `args`."""


class _Rows:
    """Checks rows one after another, remembering emails and slugs to catch repeats."""

    def __init__(self, width: int, index: dict[str, int], columns: dict[str, str],
                 languages: list[str], delimiter: str):
        self.width = width
        self.index = index
        self.columns = columns
        self.languages = {lang.lower(): lang for lang in languages}
        self.shown_languages = ", ".join(languages)
        self.delimiter = "a tab" if delimiter == "\t" else f"'{delimiter}'"
        self.emails: dict[str, int] = {}
        self.slugs: dict[str, int] = {}

    def recipient(self, record: _Record) -> Recipient:
        """The row as a Recipient, or _BadRow with its first problem."""
        line = record.cells[0].loc.line
        used = max(i for i, cell in enumerate(record.cells) if cell.text) + 1
        if used > self.width:
            extra = next(cell for cell in record.cells[self.width:] if cell.text)
            raise _BadRow(extra.loc, f"this row has {used} cells but the header has {self.width} columns",
                          f"a cell that contains {self.delimiter} must be in double quotes")
        cell = {column: record.cells[i] if i < len(record.cells) else _Cell("", record.end)
                for column, i in self.index.items()}
        text = {column: c.text for column, c in cell.items()}
        name = text["name"]
        if not name:
            raise _BadRow(cell["name"].loc, "the name is empty", "every row needs the recipient's name")
        for column in ("name", "email"):  # the cells that reach mail headers and recipients.csv
            _one_line(column, text.get(column, ""), cell.get(column))
        email = self.email(text.get("email", ""), cell, line)
        slug = self.slug(name, email, text.get("slug", ""), cell, line)
        language = text.get("language", "")
        if language:
            if language.lower() not in self.languages:
                raise _BadRow(cell["language"].loc,
                              f"language '{language}' is not one of the publication's languages: "
                              f"{self.shown_languages}", "leave it empty for a booklet in every language")
            language = self.languages[language.lower()]
        values = {column: _value(text.get(column, ""), kind, column, cell.get(column))
                  for column, kind in self.columns.items()}
        return Recipient(line, name, email, slug, language, values, {k: c.loc for k, c in cell.items()})

    def email(self, email: str, cell: dict[str, _Cell], line: int) -> str:
        if not email:
            return ""
        if not _EMAIL.fullmatch(email):
            raise _BadRow(cell["email"].loc, f"'{email}' is not an email address",
                          "an address looks like ann.lee@example.com")
        first = self.emails.setdefault(email.casefold(), line)
        if first != line:
            raise _BadRow(cell["email"].loc, f"duplicate email '{email}' (also on line {first})",
                          "list each recipient once")
        return email

    def slug(self, name: str, email: str, given: str, cell: dict[str, _Cell], line: int) -> str:
        """The slug cell if given, else made from the name, else from the email; unique in the file."""
        if given:
            if not _SLUG.fullmatch(given):
                example = _slugify(given)
                raise _BadRow(cell["slug"].loc, f"the slug '{given}' is not lowercase a-z, 0-9 and '-' "
                              "(starting with a letter or digit)", f"e.g. {example}" if example else "")
            slug, where, made = given, cell["slug"], ""
        else:
            slug, where, made = _slugify(name), cell["name"], ", made from the name"
            if not slug and email:
                slug, where, made = _slugify(email.split("@")[0]), cell["email"], ", made from the email"
            if not slug:
                raise _BadRow(cell["name"].loc, f"cannot make a file name from the name '{name}'",
                              "add a slug column (a-z, 0-9 and '-'), e.g. zhang-wei")
        first = self.slugs.setdefault(slug, line)
        if first != line:
            raise _BadRow(where.loc, f"duplicate slug '{slug}'{made} (also on line {first})",
                          "give each recipient a different slug (a slug column sets it)")
        return slug


def _one_line(column: str, text: str, cell: _Cell | None) -> None:
    """_BadRow when `text` holds a line break or another control character: in a mail header one
    would start a header of its own, in a CSV file a row of its own."""
    what = control_in(text)
    if what:
        assert cell is not None  # a non-empty cell is in the file
        raise _BadRow(cell.loc, f"the {column} {shown(text)} holds {what}", CONTROL_HINT)


def formula_like(text: str) -> bool:
    """Whether a spreadsheet opening a CSV file would take `text` for a formula."""
    return text.startswith(FORMULA_START)


def csv_text(rows: list[list[str]]) -> str:
    """`rows` as CSV text (RFC 4180: CRLF line ends, a cell holding a comma, quote or line break
    in quotes), each cell a spreadsheet would take for a formula written with a leading '."""

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow(["'" + cell if formula_like(cell) else cell for cell in row])
    return out.getvalue()


def from_csv_cell(text: str) -> str:
    """A cell of csv_text as it was: its leading ' taken off again where csv_text added it."""
    return text[1:] if text.startswith("'") and formula_like(text[1:]) else text


def _warn_formulas(recipient: Recipient, problems: Problems) -> None:
    """A warning at each cell written to a CSV file that a spreadsheet would take for a formula."""
    for column, text in (("name", recipient.name), ("email", recipient.email)):
        if formula_like(text):
            problems.warn(recipient.cells[column], f"the {column} {shown(text)} starts with "
                          f"'{text[0]}': a spreadsheet would take it for a formula", FORMULA_HINT)


def _value(text: str, kind: str, column: str, cell: _Cell | None) -> object:
    """A declared column's cell as its type: str, or dt.date for a date; None when empty."""
    if not text:
        return None
    if kind == "text":
        return text
    assert cell is not None  # a non-empty cell is in the file
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise _BadRow(cell.loc, f"{column} '{text}' is not a date written YYYY-MM-DD",
                  "e.g. 2025-03-14; in a spreadsheet, format the column as yyyy-mm-dd before saving")


def _slugify(text: str) -> str:
    """ASCII file-name stem of `text`: 'José Núñez' -> 'jose-nunez'; '' for a name in, e.g., Chinese."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:MAX_SLUG].rstrip("-")
