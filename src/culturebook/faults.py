"""A test hook, and nothing else: make one write of a publish fail on purpose.

The tests of publishing (tests/test_publish.py) run a real build with the environment variable

    CULTUREBOOK_FAULT=<point>[.<n>]:<action>

and check that build/ is then the whole old build or the whole new one, never a mix. `<point>` is
one of the places publish.py writes (POINTS), `.<n>` the n-th time that place is reached in the
process (1 when left out), and `<action>` what happens there, instead of the write:

- kill: the process sends itself SIGKILL (a crash, a power cut as far as this process knows);
- enospc, erofs, eacces: the write raises OSError with that errno (a full disk, a read-only file
  system, a folder it may not write).

With CULTUREBOOK_FAULT_TRACE=<file> instead, every point reached is appended to that file as a
line `<point>.<n> <path>`, and nothing fails: how a test learns every write point a build has.

Unset (as they always are outside the tests), `fault` costs two dictionary look-ups.
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

VARIABLE = "CULTUREBOOK_FAULT"
TRACE = "CULTUREBOOK_FAULT_TRACE"
POINTS = (
    "write",  # a new file's bytes written to its temporary name
    "fsync",  # a file or folder flushed to the disk
    "journal",  # the journal written (the publish's commit)
    "rename",  # a temporary file renamed to its final name
    "manifest",  # the new manifest.json renamed into place (the last rename)
    "remove",  # a file the publish drops (a personalised booklet of nobody now) removed
    "finish",  # the journal removed: the publish is over
)
ACTIONS = {"enospc": errno.ENOSPC, "erofs": errno.EROFS, "eacces": errno.EACCES}
_reached: dict[str, int] = {}


def fault(point: str, path: Path | str) -> None:
    """The test hook at `point`, about to write `path`: does nothing unless CULTUREBOOK_FAULT names
    this point and this is the n-th time it is reached."""
    spec, trace = os.environ.get(VARIABLE), os.environ.get(TRACE)
    if not spec and not trace:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if trace:
        with open(trace, "a", encoding="utf-8") as log:
            log.write(f"{point}.{_reached[point]} {path}\n")
    if not spec:
        return
    where, _, action = spec.rpartition(":")
    name, _, nth = where.partition(".")
    if name != point:
        return
    if _reached[point] != (int(nth) if nth else 1):
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    code = ACTIONS[action]
    raise OSError(code, os.strerror(code), str(path))
