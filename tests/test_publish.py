"""Publishing a build is all or nothing: a build stopped at any write (killed, a full disk, a
read-only disk, a folder it may not write) leaves build/ the whole old build or, once the next
command has completed it, the whole new one; never a new PDF beside an old manifest. And an error
of the disk is one line naming the path and the cause, for every command.

The small project is built twice once for the module (the old build, then an edit and the new
build, with SOURCE_DATE_EPOCH so that another folder gets the same bytes); each case copies the
project as the old build left it, with the edit, and runs a real build with the test hook
CULTUREBOOK_FAULT (culturebook/faults.py) set.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from projectkit import PROJECTS, edit, make_project, problem_lines

POINTS = ("write.1", "write.3", "fsync.2", "journal", "rename.1", "rename.2", "manifest", "finish")
ACTIONS = ("enospc", "erofs", "eacces")  # and kill, at every point: the test before
COMMITTED = ("rename", "manifest", "finish")  # after the journal: the next command rolls forward
CAUSES = {"enospc": r"the disk is full: needed about [\d.]+ MB in build/",
          "erofs": r"build/ is read-only",
          "eacces": r"permission denied"}
BOOKKEEPING = {".lock", ".last-builds.json", "manifest.json"}  # and each <lang>/preflight.json
EN = "content/en.yaml"


def cli(root: Path, *args: str, fault: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m culturebook ARGS --project root`, as projectkit.run_cli, with the test hook."""
    import culturebook

    extra = env or {}
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "COLUMNS", "CULTUREBOOK_FAULT", "CULTUREBOOK_FAULT_TRACE")}
    env.update(NO_COLOR="1", SOURCE_DATE_EPOCH="1700000000", **extra)
    source = str(Path(culturebook.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    if fault:
        env["CULTUREBOOK_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "culturebook", *args, "--project", str(root)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def outputs(root: Path) -> dict[str, str]:
    """The sha256 of every file under build/ but the build's bookkeeping."""
    build = root / "build"
    return {p.relative_to(build).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build.rglob("*"))
            if p.is_file() and p.relative_to(build).as_posix() not in BOOKKEEPING
            and p.name != "preflight.json"}


def listed(root: Path) -> dict[str, str]:
    """The sha256 build/manifest.json gives each file."""
    artifacts = json.loads((root / "build" / "manifest.json").read_text())["artifacts"]
    return {a["path"]: a["sha256"] for a in artifacts}


def copy(source: Path, dest: Path) -> Path:
    """A copy of a project: its fonts hard-linked (34 MB), every other file copied."""
    fonts = str(source / "fonts")
    shutil.copytree(source, dest, copy_function=lambda s, d: os.link(s, d) if s.startswith(fonts)
                    else shutil.copy2(s, d))
    return dest


def leftovers(root: Path) -> list[str]:
    """Temporary files and journals under build/."""
    return [p.name for p in (root / "build").rglob("*")
            if p.name.endswith(".tmp") or p.name == ".publish.json"]


@dataclass(frozen=True)
class States:
    """The project as its old build left it, with the edit made (`base`); the old and the new
    build. Each case copies `base` to `case`, the folder both builds were made in: a document's
    inputs name the project's folder, so there a build makes again only what the edit changed."""

    base: Path
    case: Path
    old: dict[str, str]
    new: dict[str, str]

    def project(self) -> Path:
        shutil.rmtree(self.case, ignore_errors=True)
        return copy(self.base, self.case)


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> States:
    folder = tmp_path_factory.mktemp("publish")
    case = make_project(folder / "case")
    assert cli(case, "build", "bundle", "-j", "1").returncode == 0
    old = outputs(case)
    edit(case / EN, "kindly and early.", "kindly, and early on.")
    base = case.rename(folder / "base")
    copy(base, case)
    assert cli(case, "build", "bundle", "-j", "1").returncode == 0
    new = outputs(case)
    assert old == listed(base) and new == listed(case)
    assert old.keys() == new.keys() and old != new  # the new build differs: a mix would show
    return States(base, case, old, new)


def test_a_build_killed_at_each_of_its_writes_is_the_old_build_or_the_new(states: States,
                                                                          tmp_path: Path):
    """Every write point the build reaches, in order (each file's write and fsync, each folder's
    fsync, the journal, each rename, the manifest, the journal's removal), learnt from the hook's
    trace; at each the build is killed, and the next command finds the old or the new build."""
    trace = tmp_path / "trace"
    root = states.project()
    env = {"CULTUREBOOK_FAULT_TRACE": str(trace)}
    assert cli(root, "build", "bundle", "-j", "1", env=env).returncode == 0
    reached = [line.split()[0] for line in trace.read_text().splitlines()]
    assert {p.split(".")[0] for p in reached} == {"write", "fsync", "journal", "rename",
                                                   "manifest", "finish"}
    assert len(reached) >= 20, reached
    commit = reached.index("journal.1")
    for at, point in enumerate(reached):
        root = states.project()
        result = cli(root, "build", "bundle", "-j", "1", fault=f"{point}:kill")
        assert result.returncode == -9, (point, result.stderr)
        verified = cli(root, "verify")  # completes what was committed, then checks
        assert verified.returncode == 0, (point, verified.stderr)
        assert outputs(root) == listed(root) == (states.new if at > commit else states.old), point
        assert leftovers(root) == [], point


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("point", POINTS)
def test_a_build_stopped_at_any_write_is_the_old_build_or_the_new(states: States, point: str,
                                                                   action: str):
    root = states.project()
    result = cli(root, "build", "bundle", "-j", "1", fault=f"{point}:{action}")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    lines = problem_lines(result)
    assert re.fullmatch(rf"build/\S*: {CAUSES[action]}", lines[0]), result.stderr
    assert lines[1].startswith("    hint: ") and len(lines) == 3, result.stderr
    committed = "the new build was committed but is not all in place yet: the next " \
        "culturebook command (e.g. culturebook verify) puts it in place"
    assert lines[2] == (f"stopped by the disk; {committed}" if point.split(".")[0] in COMMITTED
                        else "stopped by the disk; nothing was written")
    # Until the next command, build/ is the old build or a journal says how to complete the new.
    if not (root / "build" / ".publish.json").exists():
        assert listed(root) == states.old
    verified = cli(root, "verify")  # completes what was committed, then checks
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("verified: 6 files in build/"), verified.stdout
    expected = states.new if point.split(".")[0] in COMMITTED else states.old
    assert outputs(root) == listed(root) == expected
    assert leftovers(root) == []


@pytest.mark.parametrize("command", [("build", "bundle", "-j", "1"), ("preflight",), ("check",),
                                     ("share",)])
def test_every_command_completes_a_publish_before_it_reads(states: States,
                                                           command: tuple[str, ...]):
    root = states.project()
    assert cli(root, "build", "bundle", "-j", "1", fault="rename.2:kill").returncode == -9
    assert (root / "build" / ".publish.json").exists()
    assert listed(root) != outputs(root)  # a new booklet beside the old manifest, for now
    result = cli(root, *command)
    if command == ("share",):  # it builds first; the small project has no email text to share
        assert "share needs the message's text" in result.stderr, result.stderr
    else:
        assert result.returncode == 0, result.stderr
    assert outputs(root) == listed(root) == states.new
    assert leftovers(root) == []
    assert cli(root, "verify").returncode == 0


def test_the_preview_completes_a_publish_before_it_shows_a_page(states: States):
    import signal

    from culturebook.preview.server import free_port

    root = states.project()
    assert cli(root, "build", "bundle", "-j", "1", fault="rename.2:kill").returncode == -9
    port = free_port(18800)
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    with subprocess.Popen([sys.executable, "-m", "culturebook", "preview", "--project", str(root),
                           "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, env={**env, "NO_COLOR": "1"}, start_new_session=True) as preview:
        try:
            for line in preview.stderr:  # it says where it listens once it has read build/
                if f"at http://127.0.0.1:{port}/" in line:
                    break
            assert outputs(root) == listed(root) == states.new
            assert leftovers(root) == []
        finally:
            os.killpg(preview.pid, signal.SIGINT)
            preview.communicate(timeout=60)


@pytest.mark.slow
def test_booklets_of_people_no_longer_listed_go_with_the_publish(tmp_path: Path):
    case = make_project(tmp_path / "project", "personalised")
    people = case / "people.csv"
    rows = (PROJECTS / "personalised" / "people.csv").read_text(encoding="utf-8").splitlines()
    people.write_text("\n".join(rows) + "\n", encoding="utf-8")
    command = ("build", "personalised", "--recipients", str(people), "--no-print-file", "-j", "1")
    assert cli(case, *command).returncode == 0
    old = outputs(case)
    people.write_text("\n".join(r for r in rows if not r.startswith("José")) + "\n",
                      encoding="utf-8")
    result = cli(case, *command, fault="remove.2:kill")  # one booklet removed, not the other
    assert result.returncode == -9, result.stderr
    assert (case / "build" / ".publish.json").exists()
    assert cli(case, "verify").returncode == 0
    new = outputs(case)
    assert new == listed(case)
    assert sorted(set(old) - set(new)) == ["en/personalised/jose-nunez.pdf",
                                           "zh-Hans/personalised/jose-nunez.pdf"]
    assert leftovers(case) == []


def test_verify_names_each_file_that_is_missing_changed_or_not_made_by_the_build(states: States):
    root = states.project()
    build = root / "build"
    (build / "en" / "posters" / "care.pdf").unlink()
    (build / "en" / "booklet.pdf").write_bytes(b"%PDF-1.7 not the booklet")
    (build / "en" / "notes.txt").write_text("mine")
    (build / "en" / "posters" / "old.pdf").write_bytes(b"%PDF-1.7 a poster of before")
    (build / "share-sent.jsonl").write_text("")  # share's log: the build's own, not a stray
    result = cli(root, "verify")
    assert result.returncode == 1
    assert problem_lines(result) == [
        "build/en/booklet.pdf: changed since the build",
        "build/en/posters/care.pdf: missing",
        "build/en/notes.txt: not made by the build",
        "build/en/posters/old.pdf: not made by the build",
        "4 problems: build/ is not what build/manifest.json lists; culturebook build --force makes "
        "it again",
    ]
    assert "Traceback" not in result.stderr


def test_verify_without_a_build_is_one_line(tmp_path: Path):
    root = make_project(tmp_path / "project")
    result = cli(root, "verify")
    assert result.returncode == 1
    assert problem_lines(result)[:2] == ["build/manifest.json: missing: there is no build to verify",
                                         "    hint: build first: culturebook build"]


# --- real disks -----------------------------------------------------------------------------------


def mount(*args: str) -> None:
    """mount ARGS, or skip the test when this user may not mount (it needs root)."""
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"mount {' '.join(args)} is not permitted here: {result.stderr.strip()}")


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_leaves_the_last_build(tmp_path: Path):
    root = make_project(tmp_path / "project")
    build = root / "build"
    build.mkdir()
    mount("-t", "tmpfs", "-o", "size=900k", "tmpfs", str(build))
    try:
        first = cli(root, "build", "bundle", "-j", "1")
        assert first.returncode == 0, first.stderr
        for n in range(1, 6):  # each build needs room for its new files beside the old ones
            before = {p.relative_to(build).as_posix(): p.read_bytes() for p in build.rglob("*")
                      if p.is_file() and p.name != ".lock"}
            edit(root / EN, "kindly and early" + "!" * (n - 1), "kindly and early" + "!" * n)
            result = cli(root, "build", "bundle", "-j", "1")
            if result.returncode != 0:
                break
        else:
            pytest.fail("the disk never filled up")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        lines = problem_lines(result)
        assert re.fullmatch(r"build/\S+: the disk is full: needed about [\d.]+ MB in build/",
                            lines[0]), result.stderr
        assert lines[1:] == ["    hint: free some space on that disk, then run the command again",
                             "stopped by the disk; nothing was written"]
        after = {p.relative_to(build).as_posix(): p.read_bytes() for p in build.rglob("*")
                 if p.is_file() and p.name != ".lock"}
        assert after == before  # no temporary file left, every earlier output as it was
        assert cli(root, "verify").returncode == 0
    finally:
        subprocess.run(["umount", str(build)], check=True)


@pytest.mark.slow
def test_a_read_only_build_folder_is_one_line_for_every_command(tmp_path: Path):
    root = make_project(tmp_path / "project")
    build = root / "build"
    assert cli(root, "build", "bundle", "-j", "1").returncode == 0
    before = outputs(root)
    edit(root / EN, "kindly and early.", "kindly, and early on.")
    mount("--bind", str(build), str(build))
    try:
        mount("-o", "remount,ro,bind", str(build))
        for command in (("build", "bundle"), ("share",)):
            result = cli(root, *command)
            assert result.returncode == 1, result.stderr
            assert "Traceback" not in result.stderr
            assert problem_lines(result) == [
                "build/.lock: build/ is read-only",
                "    hint: make build/ writable, or work in a copy of the project that is",
                "stopped by the disk; nothing was written"], result.stderr
        result = cli(root, "preflight")  # it checks, prints, and says the report is not written
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "6 files checked: 0 errors, 0 warnings"
        assert result.stderr.splitlines() == [
            "build/en/preflight.json: warning: not written: build/ is read-only"]
        result = cli(root, "check")
        assert result.returncode == 0, result.stderr
        assert cli(root, "verify").returncode == 0
        assert outputs(root) == before
    finally:
        subprocess.run(["umount", str(build)], check=True)


def test_an_unfinished_publish_on_a_read_only_disk_is_one_line_for_every_command(states: States):
    from culturebook.preview.server import free_port

    root = states.project()
    build = root / "build"
    assert cli(root, "build", "bundle", "-j", "1", fault="rename.2:kill").returncode == -9
    before = {p.relative_to(build).as_posix(): p.read_bytes() for p in build.rglob("*")
              if p.is_file()}
    mount("--bind", str(build), str(build))
    try:
        mount("-o", "remount,ro,bind", str(build))
        for command in (("verify",), ("preflight",), ("check",), ("build", "bundle"),
                        ("preview", "--port", str(free_port(18700)))):
            result = cli(root, *command)
            assert result.returncode == 1, (command, result.stderr)
            assert "Traceback" not in result.stderr
            lines = problem_lines(result)
            assert lines[:2] == [
                "build/.lock: build/ is read-only",
                "    hint: make build/ writable, or work in a copy of the project that is"], \
                result.stderr
            assert lines[2].startswith("stopped by the disk; the new build was committed"), lines
    finally:
        subprocess.run(["umount", str(build)], check=True)
    after = {p.relative_to(build).as_posix(): p.read_bytes() for p in build.rglob("*")
              if p.is_file()}
    assert after == before
    assert cli(root, "verify").returncode == 0  # writable again: completed
    assert outputs(root) == listed(root) == states.new
