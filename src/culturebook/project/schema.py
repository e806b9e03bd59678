"""The content schema, defined once: field types, the fields of each file, and node -> data validation.

`docs/content.md`-style references and every validation message come from these declarations, so a field
is described in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from email.utils import parseaddr

from culturebook.errors import Problems, control_in, shown
from culturebook.project.yamlsource import Node

LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
POSTER_SIZES = ("A3", "A2", "A1", "Letter", "Tabloid")
COLUMN_TYPES = ("text", "date")  # of a recipients CSV's declared columns
BUILTIN_COLUMNS = ("name", "email", "slug", "language")  # every recipients CSV may have these


@dataclass(frozen=True)
class Text:
    """A line of plain text."""

    name: str = "text"

    def convert(self, node: Node, where: str, problems: Problems):
        if isinstance(node.value, str):
            return node.value.strip()
        problems.error(node.loc, f"{where} must be text, not {_kind(node)}")
        return None


@dataclass(frozen=True)
class Markdown(Text):
    """Paragraphs of Markdown: *emphasis*, **strong**, [links](https://...), lists, images."""

    name: str = "markdown"


@dataclass(frozen=True)
class Pattern(Text):
    """Text that must match a pattern (slugs, language codes)."""

    name: str = "slug"
    regex: re.Pattern = SLUG_RE
    hint: str = "use lowercase letters, digits and hyphens, e.g. integrity"

    def convert(self, node: Node, where: str, problems: Problems):
        text = super().convert(node, where, problems)
        if text is not None and not self.regex.match(text):
            hint = self.hint
            if node.closed_at is not None:  # `brand: '#0052D9` closed by the next line's quote
                hint = (f"the quote opened at {node.loc.line}:{node.loc.col} closes only at "
                        f"{node.closed_at.line}:{node.closed_at.col}: close it on line "
                        f"{node.loc.line}")
            problems.error(node.loc, f"{where}: '{text}' is not a valid {self.name}", hint)
            return None
        return text


LANG = Pattern("language code", LANG_RE, "use a BCP 47 code such as en, zh-Hans, fr, pt-BR")
SLUG = Pattern()


@dataclass(frozen=True)
class Date:
    """A date written YYYY-MM-DD."""

    name: str = "date"

    def convert(self, node: Node, where: str, problems: Problems):
        if isinstance(node.value, str):
            try:
                return dt.date.fromisoformat(node.value.strip())
            except ValueError:
                pass
        problems.error(node.loc, f"{where} must be a date written YYYY-MM-DD")
        return None


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of words."""

    options: tuple[str, ...]

    @property
    def name(self) -> str:
        return "one of " + ", ".join(self.options)

    def convert(self, node: Node, where: str, problems: Problems):
        if isinstance(node.value, str) and node.value.strip() in self.options:
            return node.value.strip()
        problems.error(
            node.loc,
            f"{where} must be one of {', '.join(self.options)}",
            _did_you_mean(node.value, self.options) if isinstance(node.value, str) else "",
        )
        return None


@dataclass(frozen=True)
class Number:
    """A number, written in digits, within a range."""

    name: str = "number"
    minimum: float = 0
    maximum: float | None = None
    whole: bool = False

    def convert(self, node: Node, where: str, problems: Problems):
        text = node.value.strip() if isinstance(node.value, str) else None
        try:
            value = int(text) if self.whole else float(text)
        except (TypeError, ValueError):
            kind = "a whole number" if self.whole else "a number"
            problems.error(node.loc, f"{where} must be {kind}, e.g. {self._example()}")
            return None
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            limit = (f"between {self.minimum:g} and {self.maximum:g}" if self.maximum is not None
                     else f"{self.minimum:g} or more")
            problems.error(node.loc, f"{where} is {text}; it must be {limit}")
            return None
        return value

    def _example(self) -> str:
        return f"{int(self.minimum) if self.whole else self.minimum:g}"


@dataclass(frozen=True)
class Flag:
    """true or false (yes or no)."""

    name: str = "true or false"

    def convert(self, node: Node, where: str, problems: Problems):
        text = node.value.strip().lower() if isinstance(node.value, str) else None
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off"):
            return False
        problems.error(node.loc, f"{where} must be true or false")
        return None


SIZE_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(KB|MB|GB)$", re.IGNORECASE)
SIZE_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}


@dataclass(frozen=True)
class Size:
    """A size in bytes, written with its unit: 500 KB, 10 MB (1 MB = 1024 KB = 1,048,576 bytes)."""

    name: str = "size"
    minimum: int = 64 * 1024

    def convert(self, node: Node, where: str, problems: Problems):
        text = node.value.strip() if isinstance(node.value, str) else ""
        match = SIZE_RE.match(text)
        if not match:
            problems.error(node.loc, f"{where} must be a size with its unit, e.g. 10 MB",
                           "write the number and KB, MB or GB")
            return None
        size = int(float(match[1]) * SIZE_UNITS[match[2].lower()])
        if size < self.minimum:
            problems.error(node.loc, f"{where} of {text} is too small for any message",
                           "mail servers accept 10 MB (Exchange) to 25 MB (Gmail, Microsoft 365)")
            return None
        return size


@dataclass(frozen=True)
class Address:
    """An email address, with or without a display name: "Name <name@example.com>"."""

    name: str = "email address"

    def convert(self, node: Node, where: str, problems: Problems):


        text = node.value.strip() if isinstance(node.value, str) else ""
        _, address = parseaddr(text)
        if not ADDRESS_RE.fullmatch(address) or control_in(text):  # it goes into a From: header
            problems.error(node.loc, f"{where}: {shown(text, 200)} is not an email address",
                           'write it as name@example.com or "Name <name@example.com>"')
            return None
        return text


ADDRESS_RE = re.compile(r"[^@\s<>,;\x00-\x1f\x7f]+@[^@\s.<>,;\x00-\x1f\x7f]+"
                        r"(\.[^@\s.<>,;\x00-\x1f\x7f]+)+")


@dataclass(frozen=True)
class ListOf:
    """A list of items of one type."""

    item: object

    @property
    def name(self) -> str:
        return f"list of {self.item.name}"

    def convert(self, node: Node, where: str, problems: Problems, required: bool = True):
        if not isinstance(node.value, list):
            problems.error(node.loc, f"{where} must be a list (lines starting with '- ')")
            return None
        nested = {"required": required} if isinstance(self.item, Struct) else {}
        out = []
        for i, child in enumerate(node.value):
            out.append(self.item.convert(child, f"{where}[{i + 1}]", problems, **nested))
        return out


@dataclass(frozen=True)
class MapOf:
    """A mapping whose keys are names the user chooses (slugs) and whose values share one type."""

    item: object
    key: object = SLUG
    filled: bool = False  # True: a name with an empty value is an error (colours), not left out

    @property
    def name(self) -> str:
        return f"mapping of {self.item.name}"

    def convert(self, node: Node, where: str, problems: Problems):
        if not isinstance(node.value, dict):
            problems.error(node.loc, f"{where} must be a mapping of 'name: value' lines")
            return None
        out = {}
        for key, child in node.value.items():
            self.key.convert(Node(key, child.key_loc or child.loc), f"{where} key", problems)
            if child.value is not None:
                out[key] = self.item.convert(child, f"{where}.{key}", problems)
            elif self.filled or (_looks_like_a_value(child.comment) and _is_scalar(self.item)):
                _empty(child, key, f"{where}.{key}", self.item, problems)
        return out


@dataclass(frozen=True)
class Field:
    """One key of a mapping, with what a reference needs to say about it."""

    key: str
    type: object
    doc: str
    required: bool = False
    default: object = None
    example: str = ""
    shown_in: str = ""
    translatable: bool = True
    inherit: bool = True  # False: an edition without this field does not take the source's


@dataclass(frozen=True)
class Struct:
    """A mapping with known keys."""

    name: str
    fields: tuple[Field, ...] = field(default_factory=tuple)

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def convert(self, node: Node, where: str, problems: Problems, required: bool = True):
        if not isinstance(node.value, dict):
            problems.error(node.loc, f"{where or 'this file'} must be a mapping of 'key: value' lines")
            return None
        keys = [f.key for f in self.fields]
        out: dict[str, object] = {}
        guessed: set[str] = set()  # keys a misspelt key's "did you mean" already points to
        for key, child in node.value.items():
            spec = self.field(key)
            if spec is None:
                inside = f" in {where}" if where else ""
                close = _closest(key, keys)
                if close:
                    guessed.add(close)
                problems.error(
                    child.key_loc or child.loc,
                    f"unknown key '{key}'{inside}",
                    f"did you mean '{close}'?" if close else f"allowed keys: {', '.join(keys)}",
                )
                continue
            label = f"{where}.{key}" if where else key
            if child.value is None:
                # An empty value is the same as leaving the key out, unless it was lost to a
                # comment: `title: #1 team` is a title of "" and a comment.
                if _looks_like_a_value(child.comment) and _is_scalar(spec.type):
                    _empty(child, key, label, spec.type, problems)
                    guessed.add(key)
                continue
            # A translation may leave out any field, however deep: it falls back to the source.
            nested = {"required": required} if isinstance(spec.type, (Struct, ListOf)) else {}
            out[key] = spec.type.convert(child, label, problems, **nested)
        for spec in self.fields:
            value = out.get(spec.key)
            # One typo is one problem: `titel:` is reported as unknown, not also `title` as missing.
            if required and spec.required and spec.key not in guessed and not value:
                label = f"{where}.{spec.key}" if where else spec.key
                child = node.value.get(spec.key)
                if child is None:
                    problems.error(node.loc, f"missing required field '{label}'",
                                   f"add it, {_example(spec)}")
                elif child.value is None or value is not None:  # else its conversion said why
                    problems.error(child.key_loc or child.loc, f"required field '{label}' is empty",
                                   f"fill it in, {_example(spec)}")
            if spec.key in out and value is None:
                out.pop(spec.key)
        return out


def _looks_like_a_value(comment: str) -> bool:
    """A comment that reads as the value someone typed (`#0052D9`, `#1 team`), not as a remark
    (`# to do`)."""
    return len(comment) > 1 and not comment[1].isspace() and comment[1] != "#"


def _is_scalar(kind: object) -> bool:
    return not isinstance(kind, (Struct, ListOf, MapOf))


def _empty(child: Node, key: str, label: str, kind: object, problems: Problems) -> None:
    """An empty value where one was needed, at its key. When a comment follows the key, the
    hint says that `#` starts one and how to quote the value (for a colour, whatever the comment:
    no colour is ever empty)."""
    comment = child.comment
    colour = getattr(kind, "name", "") == "colour"
    if comment and (colour or _looks_like_a_value(comment)):
        what, written = "text", comment
        if colour:
            first = comment.split()[0]
            what, written = "colour", first if HEX_RE.match(first) else "#0052D9"
        quoted = f'"{written}"' if '"' not in written else "'" + written.replace("'", "''") + "'"
        shown = comment.split()[0] if colour else comment
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        problems.error(child.key_loc or child.loc,
                       f"{label} is empty: YAML reads '{shown}' after it as a comment",
                       f"a `#` starts a comment in YAML: quote the {what}, e.g. {key}: {quoted}")
        return
    problems.error(child.key_loc or child.loc, f"{label} is empty: give a {kind.name}",
                   getattr(kind, "hint", ""))


HEX_RE = re.compile(r"^#[0-9A-Fa-f]{3,8}$")


def _kind(node: Node) -> str:
    if isinstance(node.value, dict):
        return "a mapping"
    if isinstance(node.value, list):
        return "a list"
    return "empty" if node.value is None else "text"


def _example(spec: Field) -> str:
    """The field written out, on one line, for a hint."""
    if spec.example.startswith("|"):
        return f"e.g. {spec.key}: | with the text on indented lines below it"
    return f"e.g. {spec.key}: {spec.example}"


def _closest(word: str, options) -> str | None:
    """The option `word` is most likely a misspelling of, if any."""
    same = [o for o in options if o.lower() == word.strip().lower()]  # `a2` for `A2`
    if same:
        return same[0]
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(word: str, options) -> str:
    close = _closest(word, options)
    return f"did you mean '{close}'?" if close else ""


SHARE_DOCUMENTS = ("booklet", "posters", "culture-kit")  # screen editions a message may attach
SMTP_SECURITY = ("starttls", "tls", "none")

SMTP = Struct("smtp", (
    Field("host", Text(), "The SMTP server that sends the messages (credentials come only from "
          "the environment: CULTUREBOOK_SMTP_USER and CULTUREBOOK_SMTP_PASSWORD).",
          example="smtp.example.com"),
    Field("port", Number("port", 1, 65535, whole=True), "Its port: 587 for STARTTLS, 465 for "
          "implicit TLS.", default=587, example="587"),
    Field("security", Choice(SMTP_SECURITY), "starttls (upgrade the connection), tls (implicit "
          "TLS from the start) or none (a local relay only).", default="starttls",
          example="starttls"),
))

SHARE = Struct("share", (
    Field("attach", ListOf(Choice(SHARE_DOCUMENTS)), "The screen editions each message carries: "
          "booklet, posters, culture-kit.", default=["booklet", "posters"],
          example="[booklet, posters]", shown_in="email attachments"),
    Field("budget", Size(), "The largest message a mail server takes, attachments counted as "
          "sent (base64 adds about 37 %).", default=10 * 1024**2, example="10 MB",
          shown_in="email attachments"),
    Field("split", Flag(), "When the attachments are over budget: true sends them over numbered "
          "messages; false (the default) stops with an error.", default=False, example="false"),
    Field("from", Address(), "The sender of the messages.", example='"Culture team '
          '<culture@example.com>"', shown_in="email From"),
    Field("smtp", SMTP, "The mail server culturebook share --send uses.",
          example="{host: smtp.example.com, port: 587, security: starttls}"),
    Field("rate", Number("rate", 0, 10000), "At most this many messages per minute (0: no "
          "limit), for servers that throttle.", default=0, example="30"),
))


# --- the files of a project -------------------------------------------------------------------

SETTINGS = Struct(
    "publication settings",
    (
        Field("languages", ListOf(LANG), "Editions to build, one per language; the first is the "
              "source language that other editions fall back to.", required=True,
              example="[en, zh-Hans]", shown_in="every edition"),
        Field("native_language", LANG, "The organisation's own language: the language of each "
              "value's native_name.", example="zh-Hans", shown_in="values spread, posters"),
        Field("date", Date(), "Publication date.", required=True, example="2024-03-01",
              shown_in="inside cover, PDF metadata"),
        Field("theme", SLUG, "Folder under layouts/ with the templates, stylesheet and brand.",
              default="default", example="default"),
        Field("posters", Struct("posters", (
            Field("size", Choice(POSTER_SIZES), "Poster sheet size.", default="A2",
                  example="A2", shown_in="posters"),
        )), "Poster options.", example="{size: A2}"),
        Field("recipients", MapOf(Choice(COLUMN_TYPES)), "The columns a recipients CSV may have "
              "for personalised booklets, besides name, email, slug and language: each column's "
              "name and its type (text, or date written YEAR-MONTH-DAY).",
              example="{team: text, start-date: date, manager: text, manager-note: text}",
              shown_in="welcome letter"),
        Field("share", SHARE, "How culturebook share prepares the screen editions for email "
              "and sends them.", example="{budget: 10 MB, split: false}",
              shown_in="build/<lang>/share/"),
    ),
)

VALUE = Struct("value", (
    Field("id", SLUG, "Stable name of the value; names its poster file.", required=True,
          example="integrity", translatable=False),
    Field("name", Text(), "The value's name in this edition's language.", required=True,
          example="Integrity", shown_in="values spread, posters"),
    Field("native_name", Text(), "The name in the organisation's own language "
          "(native_language), shown small beneath the name in other editions.",
          example="誠実", shown_in="values spread, posters", translatable=False),
    Field("statement", Text(), "One or two sentences saying what the value means.",
          required=True, example="Hold to our principles; put ethics first.",
          shown_in="values spread, posters"),
))

CHAPTER = Struct("chapter", (
    Field("id", SLUG, "Stable name of the chapter (used for links).", required=True,
          example="how-we-work", translatable=False),
    Field("title", Text(), "Chapter title.", required=True, example="How we work together",
          shown_in="chapter opener, contents, running head, bookmarks"),
    Field("short_title", Text(), "A shorter title for the running head, when the title is long.",
          example="How we work", shown_in="running head"),
    Field("pull_quote", Text(), "A line from the chapter set large beside its text.",
          example="We decide with the people who do the work.", shown_in="chapter"),
    Field("body", Markdown(), "The chapter text.", required=True, example="|\n  Paragraph one.",
          shown_in="chapter"),
))

MILESTONE = Struct("milestone", (
    Field("year", Text(), "Year or date label, as text.", required=True, example='"2012"',
          shown_in="timeline", translatable=False),
    Field("text", Text(), "One short line.", required=True,
          example="First office opens in Lisbon", shown_in="timeline"),
))

HIGHLIGHT = Struct("highlight", (
    Field("text", Text(), "A short, strong line.", required=True,
          example="Do the right thing, then do it well.", shown_in="quote pages"),
    Field("attribution", Text(), "Who said it.", example="Ana Silva, founder", shown_in="quote pages"),
))

CLOSING = Struct("closing", (
    Field("title", Text(), "Closing page title.", example="Where we stand", shown_in="closing page"),
    Field("body", Markdown(), "Closing text.", required=True, example="|\n  Our last words.",
          shown_in="closing page"),
))

TRANSLATION = Struct("translation", (
    Field("from", LANG, "Language the translated fields were translated from.", required=True,
          example="en", translatable=False),
    Field("fields", ListOf(Text()), "Fields of this file that are translations, as paths: "
          "a top-level field (chapters) or a field of every item (values.statement).",
          required=True, example="[chapters, milestones]", translatable=False),
    Field("note", Text(), "One sentence on the translation, printed on the inside cover.",
          example="Translated from the English original.", shown_in="inside cover"),
))

WELCOME = Struct("welcome", (
    Field("cover", Text(), "The line on a personalised cover; {name} is the recipient's name.",
          required=True, example='"Prepared for {name}"', shown_in="personalised cover"),
    Field("title", Text(), "The letter's heading.", required=True, example='"Welcome, {name}"',
          shown_in="welcome letter"),
    Field("body", Markdown(), "The letter. {name}, {email} and the declared recipients columns "
          "in braces are filled in per recipient; a paragraph that names a column the recipient's "
          "row leaves empty is left out.", required=True,
          example="|\n  We are glad you join {team} on {start-date}.", shown_in="welcome letter"),
    Field("details", MapOf(Text()), "Columns listed beneath the letter, each with its label; "
          "a detail the row leaves empty is left out.", example="{team: Team, start-date: Starts}",
          shown_in="welcome letter"),
    Field("note", Text(), "A line quoted at the foot of the letter, e.g. from the manager; left out "
          "when a column it names is empty.", example='"{manager-note}"', shown_in="welcome letter"),
    Field("note_by", Text(), "Who the quoted line is from.", example='"{manager}, your manager"',
          shown_in="welcome letter"),
    Field("signature", Text(), "Who signs the letter.", example="Ana Silva, CEO",
          shown_in="welcome letter"),
))

EMAIL_DOCUMENTS = Struct("documents", (
    Field("booklet", Text(), "The booklet's word in file names.", example="Booklet"),
    Field("culture-kit", Text(), "The bundle's word in file names.", example="Kit"),
    Field("poster", Text(), "A poster's words in file names; {poster} is its value's name.",
          example="Poster-{poster}"),
))

EMAIL = Struct("email", (
    Field("subject", Text(), "The message's subject; {name} is the recipient's name.",
          required=True, example='"Our culture, for {name}"', shown_in="email subject"),
    Field("body", Markdown(), "The message (Markdown). {name} and {email} are filled in per "
          "recipient; a paragraph naming them is left out of the draft, which has no recipient.",
          required=True, example="|\n  Dear {name},", shown_in="email body"),
    Field("file_name", Text(), "How attached files are named: {organisation}, {document}, "
          "{year} and {lang} are filled in; .pdf is added.",
          example='"Acme-Culture-{document}-{year}-{lang}"', shown_in="attachment names"),
    Field("documents", EMAIL_DOCUMENTS, "The word for each document in file names.",
          example="{booklet: Booklet, culture-kit: Kit, poster: Poster-{poster}}",
          shown_in="attachment names"),
))

# The words the layouts print, besides the content: (key, what it is, English, where it is shown).
# The theme gives them per language; an edition whose language it has none for (or not all of)
# prints the source language's, with a warning that lists them.
LABEL_DOCS = (
    ("contents", "Heading of the contents page.", "Contents", "contents"),
    ("mission", "Heading of the mission.", "Mission", "opener, contents, mission poster"),
    ("vision", "Heading of the vision.", "Vision", "opener, contents, mission poster"),
    ("values", "Heading of the values.", "Values", "values spread, contents"),
    ("milestones", "Heading of the milestones.", "Milestones", "timeline, contents"),
    ("notes", "Heading of a notes page.", "Notes", "notes pages"),
    ("edition", "The edition's term on the inside cover.", "Edition", "inside cover"),
    ("published", "The publication date's term.", "Published", "inside cover"),
    ("organisation", "The organisation's term.", "Organisation", "inside cover"),
    ("translation", "Heading of the translation note.", "About this edition", "inside cover"),
    ("untranslated", "The sentence naming the parts left in the source language; {parts} is "
     "their list.", '"Not yet translated, so in the original: {parts}."', "inside cover"),
    ("cover", "The cover's name in that list.", "Cover", "inside cover"),
    ("quotes", "The quotes' (highlights') name in that list.", "Quotes", "inside cover"),
    ("date_format", "How a date is written: {day}, {month}, {month_name}, {year}.",
     '"{day} {month_name} {year}"', "inside cover, back cover"),
    ("months", "The months' names, comma-separated (needed where date_format has "
     "{month_name}).", "January, February, ...", "inside cover, back cover"),
)
LABEL_KEYS = tuple(key for key, *_ in LABEL_DOCS)
LABELS = Struct("labels", tuple(
    Field(key, Text(), doc, example=example, shown_in=shown)
    for key, doc, example, shown in LABEL_DOCS
))

TEXTS = Struct(
    "content",
    (
        Field("translation", TRANSLATION, "Marks which fields of this file are translations.",
              translatable=False, inherit=False, example="{from: en, fields: [chapters]}"),
        Field("title", Text(), "Publication title.", required=True,
              example="Better Work, Together",
              shown_in="cover, title bar, PDF metadata, running head"),
        Field("subtitle", Text(), "Line beneath the title.", example="Our culture",
              shown_in="cover, inside cover"),
        Field("organisation", Text(), "Organisation name; set as the wordmark.", required=True,
              example="Acme", shown_in="cover wordmark, inside cover, posters, back cover"),
        Field("edition", Text(), "Edition or version.", example="Edition 2",
              shown_in="cover, inside cover, posters, back cover"),
        Field("author", Text(), "Author for the PDF metadata.", example="Acme",
              shown_in="PDF metadata"),
        Field("subject", Text(), "One sentence describing the publication.",
              example="Acme's mission, vision and values.", shown_in="PDF metadata"),
        Field("keywords", ListOf(Text()), "Keywords for the PDF metadata.",
              example="[culture, values]", shown_in="PDF metadata"),
        Field("labels", LABELS, "Words the layouts print, over the theme's for this language: "
              "a language the theme has none for needs them all (else the source language's "
              "are printed, and check lists them).", example="{contents: Sommaire}",
              translatable=False, inherit=False),
        Field("mission", Text(), "The mission, one line.", required=True,
              example="Value for Users", shown_in="opener, mission poster, back cover"),
        Field("vision", Text(), "The vision, one line.", example="Tech for Good",
              shown_in="opener, mission poster, back cover"),
        Field("values", ListOf(VALUE), "The values, 1 to 16 of them (the default theme sets "
              "them on a spread, or more pages, in 1-3 columns).", required=True,
              example="- id: integrity ...", shown_in="values spread, one poster each"),
        Field("chapters", ListOf(CHAPTER), "The chapters, in order: up to 12, from 20 to 3,000 "
              "words each; long ones open on a right-hand page, short ones run on.",
              example="- id: culture ...", shown_in="chapters, contents, bookmarks"),
        Field("milestones", ListOf(MILESTONE), "Dated milestones, in order: up to 40.",
              example='- year: "2007" ...', shown_in="timeline"),
        Field("highlights", ListOf(HIGHLIGHT), "Short lines for full-page quotes (up to 10): "
              "they face chapters that open on a right-hand page, then pad the booklet.",
              example="- text: ...", shown_in="quote pages"),
        Field("closing", CLOSING, "The closing page.", example="{title: ..., body: ...}",
              shown_in="closing page"),
        Field("email", EMAIL, "The message that carries the PDFs (culturebook share): "
              "subject, body and attachment names.", example="{subject: ..., body: ...}",
              shown_in="email drafts and messages"),
        Field("welcome", WELCOME, "The welcome letter of personalised booklets "
              "(culturebook build personalised).", example="{cover: ..., title: ..., body: ...}",
              shown_in="personalised booklets"),
    ),
)
