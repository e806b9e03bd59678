"""YAML text -> a tree of located nodes (every scalar a string), refusing what YAML should not do here.

Content is written by people, not programs, so the loader is deliberately small: no anchors or aliases
(they can expand exponentially), no tags (``!!python/...``), no duplicate keys, and no YAML 1.1 type
guessing (``NO``, ``12:30``, ``1e3`` and ``~`` stay the text that was typed; only a value left empty
is empty). The schema decides types.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from culturebook.errors import Location, Problem, ProjectError

try:  # the C parser is ~20x faster; fall back to pure Python where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass
class Node:
    """A YAML value with where it was written. `value` is str, None, list[Node] or dict[str, Node]."""

    value: object
    loc: Location
    key_loc: Location | None = None  # for mapping values: where their key is
    quoted: bool = False
    children_order: list[str] = field(default_factory=list)
    # An empty mapping value whose line goes on with a comment (`brand: #0052D9`): that comment's
    # text, most likely the value someone meant, lost because `#` starts a comment in YAML.
    comment: str = ""
    # A quoted value that closes on a later line than it opened (most likely a quote left open
    # that the next value's quote closed): where its closing quote is.
    closed_at: Location | None = None


def _loc(path: Path, mark) -> Location:
    return Location(path, mark.line + 1, mark.column + 1)


def parse_yaml(text: str, path: Path) -> Node:
    """Parse one YAML document into located nodes; raise ProjectError on anything refused."""
    try:
        events = list(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(path, mark) if mark else Location(path)
        what = exc.problem or exc.context or "invalid YAML"
        # A tab in the indentation is the most common mistake of people new to YAML.
        lines = text.splitlines()
        bad = lines[mark.line] if mark and mark.line < len(lines) else ""
        indent = bad[: len(bad) - len(bad.lstrip())]
        hint = "indent with spaces, never tabs" if "\t" in indent else _quote_hint(exc, text)
        raise ProjectError([Problem(loc, f"YAML syntax error: {what}", hint)]) from None
    except yaml.reader.ReaderError as exc:  # a control character: located by offset, not mark
        # libyaml counts UTF-8 bytes, the pure-Python reader characters.
        offset = exc.position
        if _Loader.__module__ == "yaml.cyaml":
            offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise ProjectError([Problem(
            Location(path, line, col),
            f"character U+{exc.character:04X} is not allowed in YAML text",
            "delete it (it is invisible in most editors)")]) from None
    except yaml.YAMLError as exc:
        raise ProjectError([Problem(Location(path), f"YAML error: {exc}")]) from None
    return _Builder(events, path, text).document()


def _quote_hint(exc: yaml.MarkedYAMLError, text: str) -> str:
    """Where the quote that most likely caused a syntax error opened: one never closed (the
    scanner's context), or one that closed on a later line than it opened, or just before the
    error on its own line (`'We're'`); or what a backslash in "..." means."""
    if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
        mark = exc.context_mark
        return f"the quote opened at {mark.line + 1}:{mark.column + 1} is never closed"
    if "escape" in (exc.problem or ""):
        return ("in \"...\" a backslash starts an escape such as \\n: write \\\\ for a "
                "backslash, or quote the text with '...'")
    problem = exc.problem_mark
    if problem is None:
        return ""
    suspect = None
    lines = _BREAKS.split(text)[: problem.line + 1]
    try:  # the pure-Python scanner up to the error's line: only quoted scalars matter
        for token in yaml.scan("\n".join(lines), Loader=yaml.SafeLoader):
            if isinstance(token, yaml.ScalarToken) and not token.plain:
                start, end = token.start_mark, token.end_mark
                if (start.line, start.column) >= (problem.line, problem.column):
                    break
                if end.line > start.line or (end.line == problem.line
                                             and end.column == problem.column):
                    suspect = token
    except yaml.YAMLError:
        pass
    if suspect is None or suspect.style not in ("'", '"'):
        return ""
    start, end = suspect.start_mark, suspect.end_mark
    opened = f"the quote opened at {start.line + 1}:{start.column + 1}"
    if end.line > start.line:
        return f"{opened} closes only at {end.line + 1}:{end.column}: close it on line {start.line + 1}"
    if suspect.style == "'":
        return (f"{opened} closes at {end.line + 1}:{end.column}: inside '...' write an "
                "apostrophe twice ('') or quote the text with \"...\"")
    return (f"{opened} closes at {end.line + 1}:{end.column}: inside \"...\" write a quotation "
            "mark as \\\" or quote the text with '...'")


def load_yaml(path: Path) -> Node:
    """Read and parse a YAML file (UTF-8)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectError([Problem(Location(path), f"cannot read file: {exc.strerror}")]) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Notepad's "Unicode"
        raise ProjectError([Problem(Location(path, 1, 1), "file is UTF-16 text, not UTF-8",
                                    "save it as UTF-8")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise ProjectError([Problem(
            Location(path, line, col), f"file is not UTF-8 text (byte 0x{raw[exc.start]:02X})",
            "save it as UTF-8")]) from None
    return parse_yaml(text, path)


MAX_DEPTH = 50  # lists and mappings inside each other; the deepest field of the schema is ~5


class _Builder:
    def __init__(self, events: list, path: Path, text: str = ""):
        self.events = events
        self.pos = 0
        self.path = path
        self.text = text
        self.lines: list[str] | None = None
        self.depth = 0

    def next(self):
        event = self.events[self.pos]
        self.pos += 1
        return event

    def refuse(self, event, message: str, hint: str = "") -> None:
        raise ProjectError([Problem(_loc(self.path, event.start_mark), message, hint)])

    def document(self) -> Node:
        self.next()  # StreamStart
        event = self.next()
        if isinstance(event, yaml.StreamEndEvent):
            return Node(None, Location(self.path, 1, 1))
        root = self.node()
        self.next()  # DocumentEnd
        if not isinstance(self.events[self.pos], yaml.StreamEndEvent):
            self.refuse(self.events[self.pos], "more than one YAML document in this file")
        return root

    def node(self) -> Node:
        self.depth += 1
        try:
            return self._node()
        finally:
            self.depth -= 1

    def _node(self) -> Node:
        event = self.next()
        loc = _loc(self.path, event.start_mark)
        if self.depth > MAX_DEPTH and not isinstance(event, yaml.ScalarEvent):
            # libyaml stops at 1,000 levels, which is deeper than Python's stack: refused here
            self.refuse(event, f"YAML nested more than {MAX_DEPTH} levels deep",
                        "a culturebook file needs a few levels; lists and mappings this deep "
                        "inside each other are a mistake")
        if isinstance(event, yaml.AliasEvent):
            self.refuse(event, f"YAML aliases (*{event.anchor}) are not allowed", "write the text out")
        if getattr(event, "anchor", None):
            self.refuse(event, f"YAML anchors (&{event.anchor}) are not allowed", "write the text out")
        tag = getattr(event, "tag", None)
        if tag is not None:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self.refuse(event, f"YAML tags ({shown}) are not allowed", "remove the tag")
        if isinstance(event, yaml.ScalarEvent):
            plain = event.implicit[0]  # True only for unquoted scalars
            control = _CONTROL.search(event.value)
            if control:  # typed as an escape in "...": YAML's reader refuses it typed as itself
                self.refuse(event, f"character U+{ord(control[0]):04X} is not allowed in YAML text",
                            'delete the escape that writes it in "..." (such as \\0, \\x07 or '
                            '\\e)')
            # Only a value left out is empty: `~` and `null` are what someone typed, like `NO`.
            if plain and event.value == "":
                return Node(None, loc)
            node = Node(event.value, loc, quoted=not plain)
            if event.style in ("'", '"') and event.end_mark.line > event.start_mark.line:
                node.closed_at = Location(self.path, event.end_mark.line + 1, event.end_mark.column)
            return node
        if isinstance(event, yaml.SequenceStartEvent):
            items = []
            while not isinstance(self.events[self.pos], yaml.SequenceEndEvent):
                items.append(self.node())
            self.next()
            return Node(items, loc)
        if isinstance(event, yaml.MappingStartEvent):
            mapping: dict[str, Node] = {}
            order = []
            while not isinstance(self.events[self.pos], yaml.MappingEndEvent):
                key_event = self.events[self.pos]
                key = self.node()
                if not isinstance(key.value, str):
                    self.refuse(key_event, "a key must be a plain word")
                value = self.node()
                value.key_loc = key.loc
                if value.value is None:
                    value.comment = self.comment_after(key_event)
                if key.value in mapping:
                    first = mapping[key.value].key_loc
                    self.refuse(
                        key_event,
                        f"duplicate key '{key.value}'",
                        f"it is already set on line {first.line}" if first else "",
                    )
                mapping[key.value] = value
                order.append(key.value)
            self.next()
            return Node(mapping, loc, children_order=order)
        self.refuse(event, "unexpected YAML content")  # pragma: no cover
        raise AssertionError

    def comment_after(self, key_event) -> str:
        """The comment that follows `key:` on its line, when the value was left empty."""
        if self.lines is None:
            self.lines = _BREAKS.split(self.text)
        mark = key_event.end_mark
        line = self.lines[mark.line] if mark.line < len(self.lines) else ""
        rest = line[mark.column:].lstrip(" \t")
        if not rest.startswith(":"):
            return ""
        rest = rest[1:].lstrip(" \t")
        return rest.strip() if rest.startswith("#") else ""


# Control characters but tab and line feed: nothing a person means to print.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# What YAML counts as a line break (its marks count lines by them).
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
