"""The kinds of field the content schema declares (text, patterns, dates, choices, numbers, flags,
sizes, addresses, lists, maps) and `Struct`, which validates a YAML mapping against its fields:
node -> data, with a problem at the file, line and column of each mistake and a hint.

The fields of each file are declared with these in culturebook.project.schema.
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
