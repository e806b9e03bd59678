"""The preview's builds as they were before the warm renderer: each one a fresh
`culturebook build bundle -q` process in a session of its own, its problems read back from the
lines it prints. Kept as `Preview(cold=True)` for the bench, which measures the warm renderer
against it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from culturebook.errors import Location, Problem
from culturebook.preview.pages import TARGET, BuildReport

_PROBLEM = re.compile(r"(?P<path>[^\s:][^:]*?)(?::(?P<line>\d+):(?P<col>\d+))?: "
                      r"(?P<warning>warning: )?(?P<message>.+)")
_SUMMARY = re.compile(r"\d+ problems? in \d+ files?|interrupted;|the traceback was saved|"
                      r"stopped by the disk;|the new build was committed")


def parse_problems(stderr: str) -> tuple[list[Problem], str]:
    """The problem lines a `culturebook build` printed (`path:line:col: message`, each with an
    optional `    hint: ...` line after it) and its closing summary line."""
    problems: list[Problem] = []
    summary = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        if line.startswith("    hint: ") and problems:
            problems[-1] = Problem(problems[-1].location, problems[-1].message,
                                   line.removeprefix("    hint: "), problems[-1].warning)
        elif _SUMMARY.match(line):
            summary.append(line)
        elif match := _PROBLEM.fullmatch(line):
            location = Location(Path(match["path"]), int(match["line"] or 0), int(match["col"] or 0))
            problems.append(Problem(location, match["message"], "", bool(match["warning"])))
        else:  # not a problem line (an internal error's report): shown as it is
            problems.append(Problem(Location(Path("build")), line))
    return problems, " ".join(summary)


def cold_build(root: Path, editions: list[str],
               started: Callable[[subprocess.Popen], bool]) -> BuildReport | None:
    """Run `culturebook build bundle -q` in a session of its own. `started` hears of the process
    (so that stopping the preview can stop it) and answers False when the preview has stopped,
    as does this (None)."""
    command = [sys.executable, "-m", "culturebook", "build", TARGET, "--project", str(root),
               "-q", *(f"--edition={lang}" for lang in editions)]
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    env["NO_COLOR"] = "1"
    began = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env, start_new_session=True)
    if not started(process):
        process.kill()
        process.wait()
        return None
    _, stderr = process.communicate()
    problems, summary = parse_problems(stderr.decode("utf-8", "replace"))
    code = process.returncode
    if code not in (0, 1):
        summary = summary or f"the build stopped with status {code}"
    return BuildReport(code == 0, tuple(problems), summary, time.perf_counter() - began, time.time())
