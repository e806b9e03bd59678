"""Render a build's leaves on a Dask distributed cluster (`culturebook build --cluster ADDRESS`).

Only the rendering moves: the build's lock, its planning, preflight and the atomic writes stay in the
process that runs `culturebook build`. A worker gets a `Leaf` (plain data naming the project by its
absolute path) and loads the project from its own file system, so every worker must see the project
at the same path. Each task carries a digest of what the planner saw, and a worker that sees anything
else refuses to render rather than return a document made from other files.

`distributed` is imported only here, and only when --cluster is given: a build without it never
loads dask.
"""

from __future__ import annotations

import gc
import hashlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from culturebook.build.plan import stamp
from culturebook.build.run import _PROJECTS, Leaf, collect, make_leaf, project_for
from culturebook.checks.project import Checked
from culturebook.errors import Location, Problem, ProjectError

CONNECT_TIMEOUT = 10  # seconds: a wrong address fails quickly instead of after dask's 30 s
SAME_PROJECT = ("every worker must see the project at the same absolute path (a shared file system "
                "such as NFS), with the same versions of culturebook and WeasyPrint")


def project_digest(checked: Checked) -> str:
    """What a document can depend on, as one hash: the build's stamp (tool versions, the theme's
    files, the fonts and images by size and time, the print settings) and the bytes of every file
    under content/. Equal digests on the planner and a worker mean they render the same project."""
    digest = hashlib.sha256(stamp(checked).encode())
    content = checked.root / "content"
    for path in sorted(p for p in content.rglob("*") if p.is_file()):
        digest.update(b"\0" + path.relative_to(content).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def render_on_cluster(address: str, leaves: dict[str, Leaf], progress: Callable[..., None],
                      total: int) -> dict[str, object]:
    """Make the documents that need no other document on the Dask cluster whose scheduler is at
    `address`, one task per document; return them by path under build/, like `render_in_pool`.
    Problems from every task are raised together, each once."""
    where = _build_folder(leaves)
    client = _connect(address, where)
    digests = {key: project_digest(project_for(*key)[0])
               for key in {(leaf.root, leaf.strict) for leaf in leaves.values()}}
    futures = {}
    try:
        from distributed import as_completed

        for rel, leaf in leaves.items():
            digest = digests[(leaf.root, leaf.strict)]
            futures[client.submit(render_leaf, leaf, digest, pure=False)] = rel
        return collect(futures, as_completed(futures, loop=client.loop), progress, total)
    except BaseException:
        # Interrupted (Ctrl-C) or failed: free the workers now rather than let them finish the queue.
        client.cancel(list(futures), force=True)
        raise
    finally:
        client.close()


def _build_folder(leaves: dict[str, Leaf]) -> Path:
    """Where to report a problem of the cluster itself: the build folder of the leaves' project."""
    return Path(next(iter(leaves.values())).root) / "build"


def _connect(address: str, where: Path):
    """A client of the scheduler at `address`, or one clear line saying why there is none."""
    try:
        from distributed import Client
    except ImportError:
        raise ProjectError([Problem(
            Location(where), "--cluster needs the cluster extra (dask's distributed package is not "
            "installed)", "pip install 'culturebook[cluster]'")]) from None
    reason = ""
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError:
        reason = f" (no answer within {CONNECT_TIMEOUT} s)"
    except (ValueError, TypeError) as exc:  # a malformed address
        reason = f": {exc}"
    # The client that failed to start is in a reference cycle; closing it now, while its event loop
    # runs, keeps its finaliser from hanging at exit and printing a traceback.
    gc.collect()
    raise ProjectError([Problem(
        Location(where), f"cannot reach the Dask scheduler at {address}{reason}",
        f"start one with `dask scheduler` and workers with `dask worker {address} --nthreads 1`, "
        "or check the address")])


# On a worker: the digest of the project this process loaded, by (root, strict); and one document
# at a time per process, since WeasyPrint's FontConfiguration is not thread-safe.
_LOADED: dict[tuple[str, bool], str] = {}
_ONE_AT_A_TIME = threading.Lock()


def render_leaf(leaf: Leaf, digest: str):
    """The task a worker runs: make `leaf`, from the same project files the planner saw (`digest`).
    A worker lives through many builds, so it loads the project again whenever the digest changes."""
    with _ONE_AT_A_TIME:
        load_project(leaf.root, leaf.strict, digest)
        return make_leaf(leaf)


def load_project(root: str, strict: bool, digest: str) -> None:
    """Have this process's project at `root` be the one with `digest`: reload it if the one in
    memory is another; refuse if this worker's files are not the ones the planner saw."""
    key = (root, strict)
    if _LOADED.get(key) == digest:
        return
    _PROJECTS.pop(key, None)
    _LOADED.pop(key, None)
    failure = None
    try:
        checked, _ = project_for(root, strict)
    except ProjectError as exc:
        failure = exc.problems[0].format(Path(root)).partition("\n")[0]
    if failure:
        raise ProjectError([_elsewhere(root, f"cannot load the project at {root}: {failure}")])
    _LOADED[key] = project_digest(checked)
    if _LOADED[key] != digest:
        raise ProjectError([_elsewhere(root, f"sees different project files at {root}")])


def _elsewhere(root: str, what: str) -> Problem:
    """A worker that does not see the planner's project, named by its host."""
    return Problem(Location(Path(root) / "build"), f"worker on {socket.gethostname()} {what}",
                   SAME_PROJECT)
