"""Files outside the build's transaction: one file written atomically, and where caches live."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from culturebook.errors import Location, Problem, ProjectError

# What the cache keeps by content (a key made of what an entry was made from), one file per entry:
# entries are written again with every new text, theme or version, and none is ever rewritten, so
# an entry unused for long is one nothing will ask for again. Not here: "fontconfig" (a project's
# font configuration, written only when missing and read later in the process by fontconfig: gone
# in between, text would be set in the system's fonts) and "font-copies" (swept by its owner,
# render.weasy).
PRUNED = ("checks", "cmaps", "contrast", "copyfit", "css", "font-names", "hyphenation", "jinja",
          "laid-out", "pagination", "values")
KEEP_DAYS = 30  # an entry written longer ago than this is removed (a miss costs one computation)
PRUNE_EVERY = 24 * 3600  # seconds between two prunings of one cache


def cache_dir() -> Path:
    """Where culturebook keeps caches (font cmaps, fontconfig's cache): outside the project, so
    checking a project never writes into it and build/ holds only outputs."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "culturebook"


def usable_cache() -> Path:
    """cache_dir(), made if missing and checked writable: a cache folder that cannot be written (a
    file in its place, a read-only or full disk) is one line at its path, before any check or
    layout needs it."""
    cache = cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=cache)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ProjectError([Problem(Location(cache), f"the cache folder cannot be written: {reason}",
                                    "point XDG_CACHE_HOME at a folder this user may write")]) from None
    return cache


def prune_cache(cache: Path | None = None, now: float | None = None) -> int:
    """Remove the cache's entries written more than KEEP_DAYS ago, at most once every PRUNE_EVERY
    seconds (the time of the last pruning is the mtime of `cache`/.pruned); return how many went.
    Every reader takes a missing entry as a miss, so an entry removed under a running build only
    costs that build the time to make it again. Nothing here fails a command: a file that cannot
    be removed, or a cache that cannot be read, is left as it is."""
    cache = cache_dir() if cache is None else cache
    now = time.time() if now is None else now
    stamp = cache / ".pruned"
    try:
        if now - stamp.stat().st_mtime < PRUNE_EVERY:
            return 0
    except OSError:
        pass  # never pruned (or unreadable: trying costs nothing)
    try:
        stamp.touch()
        os.utime(stamp, (now, now))
    except OSError:
        return 0  # a cache that cannot be written holds nothing of ours to prune
    cutoff, removed = now - KEEP_DAYS * 24 * 3600, 0
    for name in PRUNED:
        # Folders stay, even emptied: a build may be about to write into one it has made.
        for folder, _, files in os.walk(cache / name):
            for file in files:
                path = os.path.join(folder, file)
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except OSError:
                    continue
    return removed


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` so that `path` is either its old content or the whole new content (one file
    alone: a build's files are published together, by publish.publish)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; outputs are to share
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
