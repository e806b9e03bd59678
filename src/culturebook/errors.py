"""Problems in a user's project, each with the file and line it concerns, and the one error type."""

from __future__ import annotations

import errno
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column are 1-based (0 when unknown)."""

    path: Path
    line: int = 0
    col: int = 0

    def display(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None:
            try:
                path = path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        if self.line:
            return f"{path}:{self.line}:{self.col or 1}"
        return str(path)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or doubtful, when `warning`) in a project."""

    location: Location
    message: str
    hint: str = ""
    warning: bool = False

    def format(self, root: Path | None = None) -> str:
        kind = "warning: " if self.warning else ""
        text = f"{self.location.display(root)}: {kind}{self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ProjectError(Exception):
    """The project has problems; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))

    def __reduce__(self):
        # A worker process sends its error back pickled: rebuild it from its problems, not from
        # its message (which Exception's own pickling would pass to __init__ as if it were them).
        return ProjectError, (self.problems,)


class Problems:
    """A collector: stages add problems and keep going, then `raise_if_errors` fails once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, location: Location, message: str, hint: str = "") -> None:
        self.items.append(Problem(location, message, hint))

    def warn(self, location: Location, message: str, hint: str = "") -> None:
        self.items.append(Problem(location, message, hint, warning=True))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.warning]

    def raise_if_errors(self, strict: bool = False) -> None:
        """Raise every problem at once if any is an error (under `strict`, if any at all)."""
        failing = self.items if strict else self.errors
        if failing:
            # Under --strict a warning is an error, so it is printed as one (no "warning:").
            items = [replace(p, warning=False) for p in self.items] if strict else self.items
            raise ProjectError(sorted(items, key=_order))


def _order(problem: Problem) -> tuple:
    """Errors first (the first line printed is what stopped the build), then by place in file."""
    loc = problem.location
    return (problem.warning, str(loc.path), loc.line, loc.col)


def by_file(problems: list[Problem]) -> list[Problem]:
    """The problems grouped by file, in place order within each: the files with errors first (so
    the first line is still what stops a build), and in each file its errors before its warnings."""
    erring = {p.location.path for p in problems if not p.warning}
    return sorted(problems, key=lambda p: (p.location.path not in erring, str(p.location.path),
                                           p.warning, p.location.line, p.location.col))


def os_problem(exc: OSError, root: Path) -> Problem | None:
    """The line for an error of the file system (a read-only or full disk, a folder this user may
    not write) at the path it names, the cause in words; None for any other OSError (a bug)."""

    path = Path(exc.filename) if exc.filename else root / "build"
    try:  # the project's folder the path is in ("build/"), else the path's own folder
        parts = path.resolve().relative_to(root.resolve()).parts
        folder = f"{parts[0]}/" if len(parts) > 1 or path.is_dir() else "the project's folder"
    except (ValueError, IndexError):
        folder = f"{Location(path.parent).display(root)}/"
    if exc.errno == errno.EROFS:
        return Problem(Location(path), f"{folder} is read-only",
                       f"make {folder} writable, or work in a copy of the project that is")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        needed = getattr(exc, "needed", 0)
        cause = "the disk is full" if exc.errno == errno.ENOSPC else "the disk quota is used up"
        room = (f"needed about {max(needed / 1e6, 0.1):.1f} MB in {folder}" if needed
                else f"no room left in {folder}")
        return Problem(Location(path), f"{cause}: {room}",
                       "free some space on that disk, then run the command again")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Problem(Location(path), "permission denied",
                       f"this user may not write there: check the owner and mode of {folder}")
    if exc.errno == errno.EIO:
        return Problem(Location(path), "the disk reported an input/output error",
                       "check the disk, then run the command again")
    return None


def bad_file_name(name: str) -> str:
    """Why `name`, a file a user named, cannot name a file at all ("" when it can): the operating
    system refuses a NUL character and names over 255 bytes before it looks for the file."""
    if "\x00" in name:  # the YAML and CSV readers refuse it; a caller may not have used them
        return "has a NUL character in its name"
    if any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in re.split(r"[/\\]", name)):
        return "has a name too long for a file (over 255 bytes)"
    return ""


def shortened(text: str, width: int = 60) -> str:
    """`text` cut to `width` characters, an ellipsis ending what was cut: a name in a message."""
    return text if len(text) <= width else text[: width - 1] + "…"


def control_in(text: str) -> str:
    """What the first line break or other control character in `text` is ("a line break", "a tab",
    "a control character (U+0007)"); "" when it has none."""
    bad = next((ch for ch in text if _control(ch)), None)
    if bad is None:
        return ""
    if bad in "\n\r\x85\u2028\u2029":
        return "a line break"
    return "a tab" if bad == "\t" else f"a control character (U+{ord(bad):04X})"


def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def shown(text: str, limit: int = 40) -> str:
    """`text` quoted on one line: control characters as escapes (\\n, \\x07), cut at `limit`."""
    out = "".join(ch.encode("unicode_escape").decode("ascii") if _control(ch) else ch
                  for ch in text)
    return f"'{out[:limit]}...'" if len(out) > limit else f"'{out}'"
