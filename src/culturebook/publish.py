"""Putting a build's files in place as one transaction, and checking build/ against its manifest.

A build renders everything in memory first; `publish` then writes it so that at every instant either
build/manifest.json describes exactly the files it lists, or build/.publish.json (the journal)
records a publish that the next command completes. The protocol:

1. Every new file (the manifest among them, last) is written under a temporary name beside its
   final one (`.<name>.<random>.tmp`) and flushed to the disk (fsync), then so are their folders.
   A failure here removes the temporary files: the earlier outputs were never touched.
2. The journal is written: the temporary and final name of each file, in order, and the files to
   remove; through a temporary name, flushed, and renamed to build/.publish.json, and build/ is
   flushed. That rename is the commit: before it the old build stands, after it the new one does.
3. Each temporary file is renamed to its final name (the manifest last), the files to remove are
   removed, the folders flushed, and the journal is removed last.

Recovery rolls forward, always: a journal on disk was written whole (it appears by a rename) after
every temporary file it names was written whole, and after the commit a temporary file only ever
goes away by its rename. So for each entry, a temporary file still there is renamed now, and one
not there was renamed already; removing is done again (it is the same to do twice). Recovery runs
under the build lock (build_lock) before anything is read, and again after a crash during
recovery, with the same result. Temporary files without a journal are what a publish killed before
its commit left: the lock removes them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from culturebook.errors import Location, Problem, ProjectError
from culturebook.faults import fault

FLUSHES = 16  # files flushed to the disk at once
JOURNAL = ".publish.json"  # in build/, while a publish is committed but not finished
MANIFEST = "manifest.json"

# What a build keeps in build/ for itself besides the files its manifest lists: the locks, the
# record of the last builds (fingerprint.py), the preflight reports, share's log of sent messages,
# share's prepared attachments (build/<lang>/share/, made by `share` from the built files) and the
# soft proofs (build/<lang>/proof/, made by `proof` from the built print editions).
BOOKKEEPING = (".lock", ".share-send.lock", ".last-builds.json", MANIFEST, "share-sent.jsonl")
REPORT = "preflight.json"  # build/<lang>/preflight.json (expect.REPORT)
SHARE_DIR = "share"  # build/<lang>/share/ (share.SHARE_DIR)
PROOF_DIR = "proof"  # build/<lang>/proof/ (build.proofing.PROOF_DIR)


def publish(out: Path, writes: dict[Path, bytes], remove: Iterable[Path] = ()) -> None:
    """Put `writes` ({path under `out`: bytes}, in the order they are to appear: the manifest
    last) in place and remove `remove`, all or nothing (see the module's docstring). An OSError
    names the final path; on a full disk it carries `needed`, the bytes the publish writes."""
    needed = sum(len(data) for data in writes.values())
    temps: list[tuple[Path, Path]] = []
    committed = False
    # Each file is flushed in a thread of its own while the next is written: the disk takes many
    # flushes at once about as fast as one (200 files: 0.05 s rather than 0.8 s here). Every
    # flush has ended, and succeeded, before the journal commits the publish.
    flushing = ThreadPoolExecutor(max_workers=FLUSHES, thread_name_prefix="publish-fsync")
    flushed: list[Future] = []
    try:
        for path, data in writes.items():
            temps.append((_write_temp(path, data, needed, flushing=(flushing, flushed)), path))
        for done in flushed:
            done.result()
        for folder in dict.fromkeys(path.parent for path in writes):
            _sync_folder(folder, needed)
        journal = {"renames": [[t.relative_to(out).as_posix(), p.relative_to(out).as_posix()]
                               for t, p in temps],
                   "remove": [p.relative_to(out).as_posix() for p in remove], "needed": needed}
        data = (json.dumps(journal, indent=1, ensure_ascii=False) + "\n").encode()
        journal_temp = _write_temp(out / JOURNAL, data, needed, point=None)
        try:
            _step("journal", out / JOURNAL, lambda: os.replace(journal_temp, out / JOURNAL), needed)
        except BaseException:
            journal_temp.unlink(missing_ok=True)
            raise
        committed = True
    finally:
        flushing.shutdown(wait=True)  # no file is still open when its temporary file goes
        if not committed:
            for temp, _ in temps:
                temp.unlink(missing_ok=True)
    _complete(out, journal)


def recover(out: Path) -> bool:
    """Complete the publish a journal in `out` records (roll forward), if there is one; True if
    there was. Call it under the build lock."""
    try:
        journal = json.loads((out / JOURNAL).read_text(encoding="utf-8"))
        journal["renames"], journal["remove"]
    except FileNotFoundError:
        return False
    except (ValueError, KeyError, TypeError) as exc:
        raise ProjectError([Problem(Location(out / JOURNAL), f"cannot be read: {exc}",
                                    "it is written whole or not at all, so something else changed "
                                    "it: delete build/ and build again")]) from None
    _complete(out, journal)
    return True


def settle(out: Path) -> None:
    """Before reading build/: complete an unfinished publish, under the build lock (waiting for a
    build that is completing its own). Costs one stat when there is none."""
    if not (out / JOURNAL).exists():
        return
    with build_lock(out, wait=True):
        pass  # the lock recovers


@contextlib.contextmanager
def reading(out: Path):
    """Hold the build lock while reading build/ (waiting for a build that is running), so what is
    read is one whole build, an unfinished publish completed first. Where build/ cannot be written
    (a read-only disk) it is read without the lock: nothing can change it then; but an unfinished
    publish there cannot be completed, and that is the error."""
    with contextlib.ExitStack() as stack:
        if out.is_dir():
            try:
                stack.enter_context(build_lock(out, wait=True))
            except OSError as exc:
                if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM) or \
                        (out / JOURNAL).exists():
                    raise
        yield


def _complete(out: Path, journal: dict) -> None:
    """Step 3 of the protocol: the renames (manifest last), the removals, the journal removed."""
    renames, needed = journal["renames"], journal.get("needed", 0)
    for n, (temp, final) in enumerate(renames):
        point = "manifest" if n == len(renames) - 1 and final == MANIFEST else "rename"
        if (out / temp).exists():
            _step(point, out / final, lambda t=out / temp, f=out / final: os.replace(t, f), needed)
    for rel in journal["remove"]:
        _step("remove", out / rel, lambda p=out / rel: p.unlink(missing_ok=True), needed)
    for folder in dict.fromkeys((out / final).parent for _, final in renames):
        _sync_folder(folder, needed)
    _step("finish", out / JOURNAL, lambda: (out / JOURNAL).unlink(missing_ok=True), needed)
    _sync_folder(out, needed)


def _write_temp(path: Path, data: bytes, needed: int, point: str | None = "write",
                flushing: tuple[ThreadPoolExecutor, list[Future]] | None = None) -> Path:
    """`data` under a temporary name beside `path`, flushed to the disk; its name. The test hook
    `point` is reached once, just before the bytes are written. With `flushing` (a pool and a
    list), the flush is handed to the pool and its future added to the list: the file is on the
    disk once that future is done."""
    _step(None, path, lambda: path.parent.mkdir(parents=True, exist_ok=True), needed)
    fd, name = _step(None, path, lambda: tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                                          dir=path.parent), needed)
    temp = Path(name)

    def write():
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def flush_and_close():
        try:
            _step(None, path, lambda: os.fsync(fd), needed)
        finally:
            os.close(fd)

    handed = False
    try:
        try:
            _step(point, path, write, needed)
            os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes the file private; outputs are to share
            if flushing is None:
                _step("fsync", path, lambda: os.fsync(fd), needed)
            else:
                pool, futures = flushing
                futures.append(_step("fsync", path, lambda: pool.submit(flush_and_close), needed))
                handed = True
        finally:
            if not handed:
                os.close(fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _sync_folder(folder: Path, needed: int = 0) -> None:
    """Flush a folder's entries (the names just made or renamed in it) to the disk."""
    def sync():
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    _step("fsync", folder, sync, needed)


def _step(point: str | None, path: Path, action, needed: int = 0):
    """Do one write of a publish, after the test hook at `point` (none: not a point of its own);
    an OSError names `path` (the final name, not a temporary one) and, on a full disk, carries
    `needed`, how much the publish writes."""
    try:
        if point:
            fault(point, path)
        return action()
    except OSError as exc:
        if exc.errno is None:
            raise
        args = (exc.errno, exc.strerror or os.strerror(exc.errno), str(path))
        if exc.errno in (errno.ENOSPC, errno.EDQUOT) and needed:
            raise NoRoomError(*args, needed=needed) from None
        raise OSError(*args) from None


class NoRoomError(OSError):
    """A full disk (ENOSPC or EDQUOT) during a publish; `needed` is the bytes the publish writes."""

    def __init__(self, *args: object, needed: int) -> None:
        super().__init__(*args)
        self.needed = needed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- verify ---------------------------------------------------------------------------------------


def verify(out: Path) -> tuple[list[Problem], int]:
    """build/ against build/manifest.json: each listed file missing or changed since the build, and
    each file under build/ that no build made (the build's own bookkeeping aside). Returns the
    problems and the number of files the manifest lists."""
    try:
        artifacts = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["artifacts"]
        listed = {str(a["path"]): str(a["sha256"]) for a in artifacts}
    except FileNotFoundError:
        raise ProjectError([Problem(Location(out / MANIFEST), "missing: there is no build to verify",
                                    "build first: culturebook build")]) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ProjectError([Problem(Location(out / MANIFEST), f"cannot be read: {exc}",
                                    "build again: culturebook build --force")]) from None
    problems = []
    for rel, sha in sorted(listed.items()):
        path = out / rel
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            problems.append(Problem(Location(path), "missing"))
            continue
        if digest != sha:
            problems.append(Problem(Location(path), "changed since the build"))
    for path in sorted(p for p in out.rglob("*") if p.is_file() or p.is_symlink()):
        rel = path.relative_to(out).as_posix()
        if rel not in listed and not _bookkeeping(rel):
            problems.append(Problem(Location(path), "not made by the build"))
    return problems, len(listed)


def _bookkeeping(rel: str) -> bool:
    parts = rel.split("/")
    return (rel in BOOKKEEPING or (len(parts) == 2 and parts[1] == REPORT)
            or (len(parts) > 2 and parts[1] in (SHARE_DIR, PROOF_DIR)))


def load_manifest(out: Path) -> dict[str, dict]:
    """The last build's artifacts by path (empty when there is none or it cannot be read)."""
    try:
        return {a["path"]: a for a in json.loads((out / MANIFEST).read_text())["artifacts"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@contextlib.contextmanager
def build_lock(out: Path, wait: bool = False):
    """One build of a project at a time: a second one stops with a clear line instead of
    interleaving its writes with the first's (with `wait`, it waits for the first to end). The
    lock goes with the process, however it ends. Under it, a publish that a killed process left
    unfinished is completed (recover), then the temporary files of one killed before its
    commit are removed."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ProjectError([Problem(Location(out), f"another build of this project is running "
                                        f"({holder})",
                                        "wait for it to finish, then build again")]) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        global LOCK_FD
        LOCK_FD = handle.fileno()
        recover(out)  # first: the temporary files a journal names are the new build's
        # A build killed while writing (SIGKILL) can leave a temporary file; never a half PDF.
        for stale in out.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
        try:
            yield
        finally:
            LOCK_FD = None
            handle.truncate(0)


LOCK_FD: int | None = None




def lock_fd() -> int | None:
    """The file descriptor of the build lock this process holds, if any (a forked worker closes it,
    so that it does not keep the lock alive)."""
    return LOCK_FD
