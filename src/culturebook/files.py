"""Files outside the build's transaction: one file written atomically, and where caches live."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """Where culturebook keeps caches (font cmaps, fontconfig's cache): outside the project, so
    checking a project never writes into it and build/ holds only outputs."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "culturebook"


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
