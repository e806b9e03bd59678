"""The quick answer to "has anything changed since the same build last ran?", from file times alone.

A build plans every document from the content (parsing YAML, filling templates) to learn what
changed; on a project where nothing did, that is most of its time. So each successful build also
records a fingerprint of everything it could have read: the size and modification time of every
file under content/, layouts/ and fonts/ and in the folders of the installed themes and fonts (and
of the recipients CSV), the installed versions of the tools, the environment that changes output
(SOURCE_DATE_EPOCH) and the options. Under it, it
records the size and time of every document the build left in build/, and the problems it
reported. The next build with the same fingerprint and the same documents in place has nothing to
do: it reports those problems again, and reads nothing else.

A file changed so soon before a build that a later change could keep its time (within the
filesystem's clock tick) makes the fingerprint unsteady; it is then not recorded, and the next
build plans in full. Only the standard library is used here, so this answer comes before
culturebook's own modules are imported.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from culturebook import __version__
from culturebook.errors import Location, Problem
from culturebook.files import write_atomic
from culturebook.project.themes import outside_folders

RECORD = ".last-builds.json"  # in build/, beside manifest.json
KEEP = 8  # fingerprints kept: one per kind of build a user alternates between
SETTLE = 2.0  # seconds: a file changed more recently than this before a build is not trusted
SOURCES = ("content", "layouts", "fonts")
TOOLS = ("weasyprint", "pydyf", "pypdf", "fontTools", "jinja2", "yaml")


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    steady: bool  # no file changed within SETTLE seconds before it was taken


def take(root: Path, options: str, extra: list[Path] = ()) -> Fingerprint:
    """The fingerprint of a build of `root` with `options` (their repr), reading `extra` files too."""
    now = time.time()
    lines = [__version__, options, os.environ.get("SOURCE_DATE_EPOCH", "")]
    newest = 0
    for name in TOOLS:  # an upgrade rewrites the package's files
        spec = importlib.util.find_spec(name)
        info = os.stat(spec.origin) if spec and spec.origin else None
        lines.append(f"{name}:{info and (info.st_size, info.st_mtime_ns)}")
    folders = [root / folder for folder in SOURCES] + outside_folders(root)  # installed themes, fonts
    files = [p for folder in folders for p in sorted(folder.rglob("*"))] + list(extra)
    for path in files:
        try:
            info = path.stat()
        except OSError:
            lines.append(f"{path}:missing")
            continue
        if stat.S_ISDIR(info.st_mode):  # its files are listed; its own time is only theirs
            continue
        lines.append(f"{path}:{info.st_size}:{info.st_mtime_ns}")
        newest = max(newest, info.st_mtime_ns)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()
    return Fingerprint(digest, newest / 1e9 < now - SETTLE)


@dataclass(frozen=True)
class Unchanged:
    """What the last build with this fingerprint left: its documents and problems."""

    documents: list[str]
    problems: list[Problem]


def unchanged(out: Path, fingerprint: Fingerprint) -> Unchanged | None:
    """The last build with this fingerprint, when every document it left is still as it left it."""
    entry = _load(out).get(fingerprint.digest)
    if entry is None:
        return None
    for rel, (size, mtime) in entry["documents"].items():
        try:
            info = (out / rel).stat()
        except OSError:
            return None
        if (info.st_size, info.st_mtime_ns) != (size, mtime):
            return None
    problems = [Problem(Location(Path(p["path"]), p["line"], p["col"]), p["message"], p["hint"],
                        p["warning"]) for p in entry["problems"]]
    return Unchanged(sorted(entry["documents"]), problems)


def record(out: Path, fingerprint: Fingerprint, documents: list[Path],
           problems: list[Problem]) -> None:
    """Remember a successful build's documents and problems under its fingerprint (not when it was
    unsteady). Written through a temporary file and a rename, like every output."""

    if not fingerprint.steady:
        return
    kept = _load(out)
    kept.pop(fingerprint.digest, None)
    entry = {
        "documents": {p.relative_to(out).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns]
                      for p in documents},
        "problems": [{"path": str(p.location.path), "line": p.location.line, "col": p.location.col,
                      "message": p.message, "hint": p.hint, "warning": p.warning}
                     for p in problems],
    }
    kept = dict(list(kept.items())[-(KEEP - 1):])
    kept[fingerprint.digest] = entry
    write_atomic(out / RECORD, _dump(kept))


def _load(out: Path) -> dict:
    try:
        kept = json.loads((out / RECORD).read_text(encoding="utf-8"))
        return kept if isinstance(kept, dict) else {}
    except (OSError, ValueError):
        return {}


def _dump(kept: dict) -> bytes:
    return (json.dumps(kept, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
