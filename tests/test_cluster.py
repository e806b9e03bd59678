"""`build --cluster ADDRESS`: the same renders on a Dask distributed cluster (a LocalCluster of two
worker processes, started here), byte-identical to a local build, and one clear line when the
cluster cannot be used."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from culturebook.build import cluster as cluster_module
from culturebook.build.cluster import SAME_PROJECT, load_project, project_digest
from culturebook.build.pipeline import build
from culturebook.build.run import _PROJECTS
from culturebook.checks.project import check_project
from culturebook.errors import Location, Problem, ProjectError
from projectkit import assert_refused, edit, make_project, run_cli, snapshot

HOST = socket.gethostname()


@pytest.fixture(scope="module")
def scheduler() -> str:
    """The address of a cluster like a user's: a scheduler and two single-threaded worker
    processes, which load culturebook and the project themselves."""
    from distributed import LocalCluster

    # No dashboard; the scheduler's HTTP server (health checks) on a free port rather than 8787,
    # which another cluster on this machine may hold (dask then warns, and warnings fail tests).
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        yield cluster.scheduler_address


def manifest_sha256(root: Path) -> dict[str, str]:
    artifacts = json.loads((root / "build" / "manifest.json").read_text())["artifacts"]
    return {a["path"]: a["sha256"] for a in artifacts}


def pdfs(root: Path) -> dict[str, bytes]:
    return {path: data for path, data in snapshot(root / "build").items() if path.endswith(".pdf")}


def outputs(root: Path) -> list[str]:
    """What a build left under build/ besides its lock file."""
    return [path for path in snapshot(root / "build") if path != ".lock"]


def free_address() -> str:
    """A local address where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.cluster
def test_a_cluster_build_is_byte_identical_to_a_local_one(scheduler, tmp_path):
    on_cluster, local = make_project(tmp_path / "cluster"), make_project(tmp_path / "local")
    result = run_cli("build", "all", "--cluster", scheduler, cwd=on_cluster)
    assert result.returncode == 0, result.stderr
    build(local, "all", jobs=2)
    made = pdfs(on_cluster)
    assert len(made) == 17 and made == pdfs(local)  # the archive included
    assert manifest_sha256(on_cluster) == manifest_sha256(local)
    for path, data in made.items():
        assert hashlib.sha256(data).hexdigest() == manifest_sha256(on_cluster)[path]
    # With nothing to render the cluster is not even asked: this address would not answer.
    assert build(on_cluster, "all", cluster=free_address())[0] == []


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_nothing_is_written(tmp_path):
    root = make_project(tmp_path / "project").resolve()
    address = free_address()
    assert_refused(run_cli("build", "booklet", "--cluster", address, cwd=root),
                   f"build: cannot reach the Dask scheduler at {address} (no answer within 10 s)",
                   f"start one with `dask scheduler` and workers with `dask worker {address} "
                   "--nthreads 1`, or check the address")
    assert outputs(root) == []


@pytest.mark.cluster
def test_workers_that_see_other_files_are_reported_once_each(scheduler, tmp_path, monkeypatch):
    root = make_project(tmp_path / "project").resolve()
    # The planner's digest no longer matches the files: every worker sees "different" files.
    monkeypatch.setattr(cluster_module, "project_digest", lambda checked: "0" * 64)
    with pytest.raises(ProjectError) as refused:
        build(root, "posters", cluster=scheduler)
    assert refused.value.problems == [Problem(
        Location(root / "build"), f"worker on {HOST} sees different project files at {root}",
        SAME_PROJECT)]
    assert outputs(root) == []


def test_a_long_lived_worker_loads_the_project_again_when_its_files_change(tmp_path):
    root = make_project(tmp_path / "project").resolve()
    key = (str(root), False)
    load_project(str(root), False, project_digest(check_project(root)))
    loaded = _PROJECTS[key]
    load_project(str(root), False, project_digest(check_project(root)))
    assert _PROJECTS[key] is loaded  # same files: the project in memory is kept

    edit(root / "content" / "en.yaml", "Make small things well", "Make small things very well")
    load_project(str(root), False, project_digest(check_project(root)))
    assert _PROJECTS[key] is not loaded
    assert _PROJECTS[key][0].content.editions[0].data["mission"] == "Make small things very well"

    with pytest.raises(ProjectError) as refused:
        load_project(str(root), False, "0" * 64)
    assert [p.format(root) for p in refused.value.problems] == [
        f"build: worker on {HOST} sees different project files at {root}\n    hint: {SAME_PROJECT}"]


def test_a_worker_that_does_not_see_the_project_says_so(tmp_path):
    missing = tmp_path.resolve() / "elsewhere"
    with pytest.raises(ProjectError) as refused:
        load_project(str(missing), False, "0" * 64)
    assert [p.message for p in refused.value.problems] == [
        f"worker on {HOST} cannot load the project at {missing}: "
        f"content: no content/ folder in {missing}"]


def test_without_the_cluster_extra_it_is_one_line(tmp_path, monkeypatch):
    root = make_project(tmp_path / "project").resolve()
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(ProjectError) as refused:
        build(root, "booklet", cluster="tcp://127.0.0.1:8786")
    assert [p.format(root) for p in refused.value.problems] == [
        "build: --cluster needs the cluster extra (dask's distributed package is not installed)\n"
        "    hint: pip install 'culturebook[cluster]'"]
    assert outputs(root) == []


def test_a_build_without_cluster_never_imports_dask():
    code = ("import sys, culturebook.cli.main, culturebook.build.pipeline, culturebook.build.cluster; "
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
