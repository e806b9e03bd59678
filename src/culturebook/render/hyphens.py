"""Hyphenation patterns read once per machine, not once per process.

WeasyPrint hyphenates with Pyphen, which parses a language's whole hyph_*.dic file the first time
a process needs it: about 0.08-0.14 s for English here, a tenth of `culturebook build posters`
after one statement changed. The parsed patterns are kept in culturebook's cache as JSON (never
pickle: nothing read back can run code) and read back in about a tenth of that time.

Pyphen looks its dictionaries up in `pyphen.hdcache` (path -> HyphDict); KeptPatterns takes that
place. A pattern file's entry is named after Pyphen's version and the file's path, size and
modification time, so a changed file or Pyphen is parsed afresh; an entry that cannot be read
back is parsed afresh too. The patterns read back equal Pyphen's own parse (tests/test_hyphens.py
compares every dictionary Pyphen ships), so a hyphenated line breaks where it would have."""

from __future__ import annotations

import gc
import hashlib
import json
from pathlib import Path

import pyphen

from culturebook.files import write_atomic


def keep_patterns(folder: Path) -> None:
    """From now on, in this process, Pyphen's dictionaries are read from (and kept in) `folder`."""
    if not isinstance(pyphen.hdcache, KeptPatterns):
        pyphen.hdcache = KeptPatterns(folder, pyphen.hdcache)


class KeptPatterns(dict):
    """pyphen.hdcache, which also looks in the folder before Pyphen parses a dictionary, and
    stores each dictionary Pyphen parsed there."""

    def __init__(self, folder: Path, known: dict | None = None) -> None:
        super().__init__(known or {})
        self.folder = folder

    def __contains__(self, path) -> bool:
        if super().__contains__(path):
            return True
        parsed = self._read(Path(path))
        if parsed is None:
            return False
        super().__setitem__(path, parsed)
        return True

    def __setitem__(self, path, parsed) -> None:
        super().__setitem__(path, parsed)
        try:
            write_atomic(self._entry(Path(path)), json.dumps(
                {tag: [start, [_stored(v) for v in values]]
                 for tag, (start, values) in parsed.patterns.items()},
                ensure_ascii=False, separators=(",", ":")).encode())
        except OSError:  # a cache that cannot be written costs time, never the build
            pass

    def _entry(self, path: Path) -> Path:
        stat = path.stat()
        version = getattr(pyphen, "__version__", "?")
        key = f"{version}\0{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
        return self.folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def _read(self, path: Path):
        collecting = gc.isenabled()
        gc.disable()  # about 11,000 patterns of new tuples, none of them garbage
        try:
            stored = json.loads(self._entry(path).read_bytes())
            patterns = {tag: (int(start), tuple(_value(v) for v in values))
                        for tag, (start, values) in stored.items()}
            parsed = pyphen.HyphDict.__new__(pyphen.HyphDict)
            parsed.patterns, parsed.cache = patterns, {}
            parsed.maxlen = max(len(tag) for tag in patterns)
        except (OSError, ValueError, TypeError, AttributeError, RecursionError):
            return None  # missing, or not what this module wrote: Pyphen parses the file
        finally:
            if collecting:
                gc.enable()
        return parsed


def _stored(value: int):
    """A pattern's value as JSON: an int, or [int, change, index, cut] for the nonstandard
    hyphenations some languages have (Catalan's l·l, Hungarian's ssz=sz...)."""
    data = getattr(value, "data", None)
    return int(value) if data is None else [int(value), *data]


def _value(stored) -> int:
    if isinstance(stored, list):
        value, change, index, cut = stored
        return pyphen.DataInt(int(value), (str(change), int(index), int(cut)))
    if type(stored) is not int:
        raise TypeError(stored)
    return stored
