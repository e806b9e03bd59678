"""The build, start to end: check the project, plan, render, preflight, publish.

`build` answers a build with nothing to do from file times (fingerprint.py) before it loads any
stage; the rest of the build is in making.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from culturebook.build import fingerprint
from culturebook.publish import settle

if TYPE_CHECKING:
    from culturebook.build.outputs import Artifact
    from culturebook.errors import Problem

TARGETS = ("booklet", "posters", "bundle", "print", "archive", "all", "personalised")


# What each target makes; print editions are built from their own renders plus the screen booklet
# (imposition) and posters (tiles) for office printers.
PARTS = {
    "booklet": {"booklet"},
    "posters": {"posters"},
    "bundle": {"booklet", "posters", "bundle"},
    "print": {"print"},
    "archive": {"archive"},
    "all": {"booklet", "posters", "bundle", "print", "archive"},
    "personalised": {"personalised", "personalised-print"},  # with --recipients; not in "all"
}


def build(root: Path, target: str = "all", editions: list[str] | None = None,
          strict: bool = False, progress: Callable[..., None] = lambda *_: None,
          force: bool = False, jobs: int | None = None,
          recipients: Path | None = None,
          cluster: str | None = None,
          print_file: bool = True,
          render: Callable[[dict], dict] | None = None) -> tuple[list[Artifact], list[Problem]]:
    """Build `target` for the chosen editions; return what was written and the problems that did
    not stop it: warnings, and (personalised booklets) the recipients' rows that were left out.

    `progress(message, done=None, total=None)` hears what is happening: "rendering <path>" with
    the count of documents made so far and how many this build makes, then "preflight of N files".

    A document whose inputs are unchanged since the last build (build/manifest.json) is not made
    again: a build with nothing to do renders nothing and never imports WeasyPrint.

    With `cluster` (a Dask scheduler's address) the documents that need no other document are
    rendered on that cluster instead of in local worker processes; everything else stays here.
    Without `print_file`, personalised booklets are made without their print file.

    `render` (the preview's warm renderer) makes the documents that need no other document in
    place of worker processes: given them ({path under build/: run.Leaf}), it returns the ones it
    made ({path: Rendered}), in the order it chooses; the build makes the rest."""

    parts = PARTS[target] - (set() if print_file else {"personalised-print"})
    out = root / "build"
    options = repr((sorted(parts), editions, strict))
    before = fingerprint.take(root, options, [recipients] if recipients else [])
    settle(out)  # a publish that a killed build left unfinished is completed before anything is read
    last = None if force else fingerprint.unchanged(out, before)
    if last is not None:  # nothing changed since the same build: nothing to read or make
        for rel in last.documents:
            progress(f"up to date {rel}")
        return [], last.problems
    # The stages load only now: a build with nothing to do answers from file times alone, in
    # a tenth of the time their imports take (make bench, row 2).
    from culturebook.build.making import make_build

    return make_build(root, target, parts, editions, strict, progress, force, jobs, recipients,
                      cluster, before, render)
