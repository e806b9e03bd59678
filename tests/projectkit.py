"""Helpers for the bad-input tests: copy a small project, break one line, run the command line.

A test copies one of tests/projects/<name>/ (content only) into a temporary folder, together with this
repository's layouts/ (copied, so a test may break a template) and fonts/ (hard-linked: 34 MB, and a
symlinked fonts/ would resolve outside the project and be refused).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"


def make_project(dest: Path, name: str = "minimal") -> Path:
    """A complete project in `dest`: tests/projects/<name>/content plus the repository's theme and fonts."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECTS / name / "content", dest / "content")
    shutil.copytree(REPO / "layouts", dest / "layouts")
    try:
        shutil.copytree(REPO / "fonts", dest / "fonts", copy_function=os.link)
    except OSError:  # another file system: copy instead
        shutil.rmtree(dest / "fonts", ignore_errors=True)
        shutil.copytree(REPO / "fonts", dest / "fonts")
    return dest


def edit(path: Path, old: str, new: str) -> str:
    """Replace the one occurrence of `old` in a file with `new`; return the new text."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def where(text: str, needle: str, offset: int = 0) -> str:
    """`line:col` (1-based) of the first `needle` in `text`, `offset` characters into it."""
    at = text.index(needle) + offset
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    return f"{line}:{col}"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `python -m culturebook ARGS` in `cwd` as a user would, capturing its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    env["NO_COLOR"] = "1"
    # The code under test, wherever it was imported from (a worktree's src/ on a relative
    # PYTHONPATH would not be found from the project's folder).
    import culturebook

    source = str(Path(culturebook.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "culturebook", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def problem_lines(result: subprocess.CompletedProcess) -> list[str]:
    """stderr without the progress lines of a build."""
    return [line for line in result.stderr.splitlines()
            if not line.startswith(("rendering ", "preparing ", "preflight of "))]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones included) and its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_refused(result: subprocess.CompletedProcess, first: str | None,
                   hint: str | None = None, status: int = 1) -> list[str]:
    """The command failed with `status`, printed `first` (and `hint`) first, and no traceback.
    (first=None: the caller checks the first line itself.)"""
    lines = problem_lines(result)
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert lines, "nothing on stderr"
    assert first is None or lines[0] == first, result.stderr
    if hint is not None:
        assert lines[1] == f"    hint: {hint}", result.stderr
    if status == 1:
        assert lines[-1].endswith("; nothing was written"), result.stderr
    return lines
