"""YAML text -> a tree of located nodes (every scalar a string), refusing what YAML should not do here.

Content is written by people, not programs, so the loader is deliberately small: no anchors or aliases
(they can expand exponentially), no tags (``!!python/...``), no duplicate keys, and no YAML 1.1 type
guessing (``NO``, ``12:30``, ``1e3`` and ``~`` stay the text that was typed; only a value left empty
is empty). The schema decides types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Location, Problem, ProjectError

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
        hint = "indent with spaces, never tabs" if "\t" in indent else ""
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
    return _Builder(events, path).document()


def load_yaml(path: Path) -> Node:
    """Read and parse a YAML file (UTF-8)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectError([Problem(Location(path), f"cannot read file: {exc.strerror}")]) from None
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


class _Builder:
    def __init__(self, events: list, path: Path):
        self.events = events
        self.pos = 0
        self.path = path

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
        event = self.next()
        loc = _loc(self.path, event.start_mark)
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
            # Only a value left out is empty: `~` and `null` are what someone typed, like `NO`.
            if plain and event.value == "":
                return Node(None, loc)
            return Node(event.value, loc, quoted=not plain)
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
