"""Checks kept on disk: a check that reads only the theme is run again only when something it
reads changed. `kept_problems` runs a check into a Problems of its own and stores what it found
under the cache, named by a digest of everything the check reads (the files' bytes, the settings
it takes from them, culturebook's code that checks and the versions of the libraries it asks);
a later check with the same digest adds the stored problems instead of running. An edit of the
content never changes that digest, so it no longer runs the theme's print-colour check; any
edit of the theme, its profile or the code does, and the check runs as before."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from culturebook.errors import Location, Problem, Problems


def kept_problems(cache: Path, name: str, reads: Iterable[str | bytes],
                  check: Callable[[Problems], object], problems: Problems) -> None:
    """Add to `problems` what `check` finds, running it only when `reads` (everything it reads)
    differ from the last time it ran with this cache."""
    digest = hashlib.sha256(name.encode())
    for part in reads:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    stored = cache / "checks" / f"{name}-{digest.hexdigest()}.json"
    try:
        rows = json.loads(stored.read_text(encoding="utf-8"))
        problems.items += [Problem(Location(Path(r["path"]), r["line"], r["col"]), r["message"],
                                   r["hint"], r["warning"]) for r in rows]
        return
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = Problems()
    check(found)
    problems.items += found.items
    rows = [{"path": str(p.location.path), "line": p.location.line, "col": p.location.col,
             "message": p.message, "hint": p.hint, "warning": p.warning} for p in found.items]
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
        stored.parent.mkdir(parents=True, exist_ok=True)
        tmp = stored.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(rows), encoding="utf-8")
        os.replace(tmp, stored)
