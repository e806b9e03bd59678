"""YAML text -> a tree of located nodes (every scalar a string), refusing what YAML should not do here.

Content is written by people, not programs, so the loader is deliberately small: no anchors or aliases
(they can expand exponentially), no tags (``!!python/...``), no duplicate keys, and no YAML 1.1 type
guessing (``NO``, ``12:30`` and ``1e3`` stay the text that was typed). The schema decides types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Location, ProjectError, Problem

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
        raise ProjectError([Problem(loc, f"YAML syntax error: {what}")]) from None
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
        raise ProjectError(
            [Problem(Location(path, line, 1), "file is not UTF-8 text", "save it as UTF-8")]
        ) from None
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
            if plain and event.value in ("", "~", "null", "Null", "NULL"):
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
